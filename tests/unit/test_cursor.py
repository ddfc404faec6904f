"""RFC 9865 cursors: opaque, unreserved characters only, bound to tenant and query, expiring, tamper-evident."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aup_server.errors import InvalidValueError
from aup_server.scim.cursor import (
    Cursor,
    CursorCodec,
    ExpiredCursorError,
    InvalidCountError,
    InvalidCursorError,
    Position,
    order,
    scope,
)
from aup_server.scim.pagination import CursorPage, parse_cursor_page

UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+")  # RFC 3986 §2.3
SCOPE = scope(["User"], 'userName sw "a"', None, None)

sort_keys = st.one_of(
    st.none(),
    st.tuples(st.just(0), st.just(4), st.text(max_size=30)),
    st.tuples(st.just(0), st.just(2), st.integers() | st.floats(allow_nan=False, allow_infinity=False)),
    st.tuples(st.just(0), st.just(3), st.datetimes(timezones=st.just(UTC))),
    st.just((1, 0, 0)),
)
positions = st.builds(Position, sort_keys, st.integers(0, 1), st.integers(0, 2**62))


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def codec(clock: Clock | None = None, secret: bytes = b"k" * 32) -> CursorCodec:
    return CursorCodec(secret, 600, clock or Clock())


@given(positions, st.sampled_from(["next", "prev"]))
def test_a_cursor_reads_back_as_issued_and_uses_unreserved_characters_only(position: Position, direction: Any) -> None:
    made = Cursor(position, direction)
    token = codec().encode(made, tenant="acme", query_scope=SCOPE)
    assert UNRESERVED.fullmatch(token)  # RFC 9865 §2
    assert codec().decode(token, tenant="acme", query_scope=SCOPE) == made


def test_a_cursor_is_bound_to_its_tenant_query_and_server_key() -> None:
    token = codec().encode(Cursor(Position(None, 0, 7), "next"), tenant="acme", query_scope=SCOPE)
    for tenant, query_scope, other in (
        ("other", SCOPE, codec()),
        ("acme", scope(["User"], 'userName sw "b"', None, None), codec()),
        ("acme", scope(["Group"], 'userName sw "a"', None, None), codec()),
        ("acme", scope(["User"], 'userName sw "a"', "userName", None), codec()),
        ("acme", SCOPE, codec(secret=b"x" * 32)),
    ):
        with pytest.raises(InvalidCursorError):
            other.decode(token, tenant=tenant, query_scope=query_scope)


@given(st.text(max_size=200))
def test_any_string_not_issued_is_an_invalid_cursor_never_a_crash(token: str) -> None:
    with pytest.raises(InvalidCursorError):
        codec().decode(token, tenant="acme", query_scope=SCOPE)


@given(st.data())
def test_an_edited_cursor_is_refused(data: st.DataObject) -> None:
    token = codec().encode(Cursor(Position((0, 4, "ann"), 0, 41), "next"), tenant="acme", query_scope=SCOPE)
    index = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))
    edited = token[:index] + replacement + token[index + 1 :]
    if edited != token:
        with pytest.raises(InvalidCursorError) as caught:
            codec().decode(edited, tenant="acme", query_scope=SCOPE)
        assert caught.value.scim_type == "invalidCursor"


def test_a_cursor_expires_after_the_timeout() -> None:
    clock = Clock()
    token = codec(clock).encode(Cursor(Position(None, 0, 1), "next"), tenant="acme", query_scope=SCOPE)
    clock.now += 600
    codec(clock).decode(token, tenant="acme", query_scope=SCOPE)
    clock.now += 1
    with pytest.raises(ExpiredCursorError) as caught:
        codec(clock).decode(token, tenant="acme", query_scope=SCOPE)
    assert caught.value.to_scim()["scimType"] == "expiredCursor"


def test_descending_order_reverses_the_sort_key_but_keeps_creation_order_for_ties() -> None:
    a, b, c = Position((0, 4, "a"), 0, 3), Position((0, 4, "b"), 0, 1), Position((0, 4, "b"), 0, 2)
    up = sorted([c, a, b], key=lambda p: order(p, sorted_by=True, descending=False))
    down = sorted([c, a, b], key=lambda p: order(p, sorted_by=True, descending=True))
    assert up == [a, b, c]
    assert down == [b, c, a]
    when = Position((0, 3, datetime(2026, 1, 1, tzinfo=UTC)), 0, 9)
    assert order(when, sorted_by=True, descending=True) > order(
        Position((0, 3, datetime(2027, 1, 1, tzinfo=UTC)), 0, 1), sorted_by=True, descending=True
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, None),  # no cursor: index paging, the default (RFC 9865 §2.3)
        ({"cursor": None}, None),
        ({"cursor": ""}, CursorPage("", 100)),
        ({"cursor": "", "count": "10"}, CursorPage("", 10)),
        ({"cursor": "abc", "count": 1000}, CursorPage("abc", 1000)),
        ({"cursor": "", "startIndex": ""}, CursorPage("", 100)),
    ],
)
def test_cursor_requests_are_recognised(params: dict[str, Any], expected: CursorPage | None) -> None:
    assert parse_cursor_page(params, default_count=100, max_count=1000) == expected


@pytest.mark.parametrize("count", ["0", "-1", "1001", "ten", True, 2.5])
def test_a_cursor_count_outside_one_to_max_page_size_is_invalid_count(count: object) -> None:
    with pytest.raises(InvalidCountError) as caught:
        parse_cursor_page({"cursor": "", "count": count}, default_count=100, max_count=1000)
    assert caught.value.to_scim()["scimType"] == "invalidCount"


def test_cursor_and_start_index_together_are_refused() -> None:
    with pytest.raises(InvalidValueError):
        parse_cursor_page({"cursor": "", "startIndex": "1"}, default_count=100, max_count=1000)


def test_a_cursor_that_is_not_a_string_is_invalid() -> None:
    with pytest.raises(InvalidCursorError):
        parse_cursor_page({"cursor": 5}, default_count=100, max_count=1000)


def test_another_spelling_of_the_same_bytes_is_refused() -> None:
    """Base64 without padding leaves spare bits in the last character: only the spelling issued is accepted."""
    token = codec().encode(Cursor(Position(None, 0, 5), "next"), tenant="acme", query_scope=SCOPE)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    position = alphabet.index(token[-1])
    twins = [token[:-1] + alphabet[(position & ~3) + n] for n in range(4) if (position & ~3) + n != position]
    assert twins
    for twin in twins:
        with pytest.raises(InvalidCursorError):
            codec().decode(twin, tenant="acme", query_scope=SCOPE)
