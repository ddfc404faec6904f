from __future__ import annotations

import pytest

from aup_server.errors import InvalidValueError, PreconditionFailedError
from aup_server.scim import etag
from aup_server.scim.pagination import Page, list_response, parse_page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, Page(1, 100)),
        ({"startIndex": "0"}, Page(1, 100)),  # RFC 7644 §3.4.2.4: values < 1 are treated as 1
        ({"startIndex": "-5", "count": "10"}, Page(1, 10)),
        ({"count": "-1"}, Page(1, 0)),  # a negative count means 0
        ({"count": "0"}, Page(1, 0)),
        ({"count": "5000"}, Page(1, 1000)),  # clamped to max
        ({"startIndex": 101, "count": 100}, Page(101, 100)),
        ({"startIndex": " 3 ", "count": ""}, Page(3, 100)),
    ],
)
def test_parse_page_follows_rfc7644_3_4_2_4(params: dict[str, object], expected: Page) -> None:
    assert parse_page(params, default_count=100, max_count=1000) == expected


@pytest.mark.parametrize("bad", [{"count": "ten"}, {"startIndex": "1.5"}, {"count": True}])
def test_parse_page_rejects_non_integers(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidValueError):
        parse_page(bad, default_count=100, max_count=1000)


def test_list_response_numbers_are_integers_and_items_counted() -> None:
    body = list_response([{"id": "a"}, {"id": "b"}], 7, Page(3, 2))
    assert body["totalResults"] == 7
    assert body["startIndex"] == 3
    assert body["itemsPerPage"] == 2
    assert body["Resources"] == [{"id": "a"}, {"id": "b"}]
    assert all(type(body[k]) is int for k in ("totalResults", "startIndex", "itemsPerPage"))


def test_etag_weak_comparison_and_wildcard() -> None:
    current = etag.etag(3)
    assert current == 'W/"3"'
    assert etag.matches('W/"3"', current)
    assert etag.matches('"3"', current)  # weak comparison ignores the W/ prefix (RFC 9110 §8.8.3.2)
    assert etag.matches('W/"1", W/"3"', current)
    assert etag.matches("*", current)
    assert not etag.matches('W/"2"', current)


def test_if_match_mismatch_is_412_and_absent_header_passes() -> None:
    etag.check_if_match(None, 'W/"1"')
    etag.check_if_match('W/"1"', 'W/"1"')
    with pytest.raises(PreconditionFailedError) as info:
        etag.check_if_match('W/"1"', 'W/"2"')
    assert info.value.status == 412


def test_if_none_match() -> None:
    assert etag.not_modified('W/"4"', 'W/"4"')
    assert not etag.not_modified('W/"3"', 'W/"4"')
    assert not etag.not_modified(None, 'W/"4"')
