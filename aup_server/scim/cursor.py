"""Cursors of RFC 9865: opaque, tamper-evident, bound to one tenant and one query, and holding no server state.

A cursor is the position of a page boundary in the query's order (the sortBy key if any, then the resource
type, then the creation sequence ``seq``), signed with a key the store keeps. The next page is what comes
after that position when it is asked for, not a snapshot taken when the walk began: nothing is kept per
cursor (RFC 9865 §5.4 asks that opening cursors cost the server nothing), and a resource that exists for the
whole walk is met exactly once because the order of resources that do not change never changes.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aup_server.errors import ScimError

FORMAT = 1
_MAC_BYTES = 16
# RFC 9865 §2: a cursor "may only contain" RFC 3986 §2.3 unreserved characters; base64url and "." are.
_SEPARATOR = "."
MAX_CURSOR_CHARS = 4096  # longer is not one of ours, whatever it holds

Direction = Literal["next", "prev"]


class InvalidCursorError(ScimError):
    """RFC 9865 §2.1: the cursor is not one this server issued for this query (edited, foreign, garbage)."""

    scim_type = "invalidCursor"


class ExpiredCursorError(ScimError):
    """RFC 9865 §2.1: the cursor was issued longer than ``cursorTimeout`` seconds ago."""

    scim_type = "expiredCursor"


class InvalidCountError(ScimError):
    """RFC 9865 §2.1: with a cursor, ``count`` must be a positive integer no larger than maxPageSize."""

    scim_type = "invalidCount"


@dataclass(frozen=True)
class Position:
    """A place in a query's order: after (``next``) or before (``prev``) the resource at ``kind``/``seq``."""

    sort_key: Any  # the sortBy key of that resource (filter_eval's SortKey), None when the query is not sorted
    kind: int  # index of the resource type in the query's types
    seq: int


@dataclass(frozen=True)
class Cursor:
    position: Position
    direction: Direction


def scope(kinds: Sequence[str], filter_text: str | None, sort_by: str | None, sort_order: str | None) -> str:
    """What a cursor is bound to besides the tenant: the query's endpoint types, filter and order (RFC 9865 §2)."""
    return json.dumps([list(kinds), filter_text, sort_by, sort_order], separators=(",", ":"))


class CursorCodec:
    """Issues and reads cursors; ``secret`` is the store's cursor key, ``clock`` is injectable for tests."""

    def __init__(self, secret: bytes, timeout_seconds: int, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self.timeout = timeout_seconds
        self.clock = clock

    def encode(self, cursor: Cursor, *, tenant: str, query_scope: str) -> str:
        pos = cursor.position
        payload = [FORMAT, cursor.direction, int(self.clock()), pos.kind, pos.seq, _to_json(pos.sort_key)]
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return f"{_b64(raw)}{_SEPARATOR}{_b64(self._mac(raw, tenant, query_scope))}"

    def decode(self, token: str, *, tenant: str, query_scope: str) -> Cursor:
        """The cursor ``token`` names, or InvalidCursorError / ExpiredCursorError.

        Every failure says the same thing (RFC 9865 §5.2: do not tell which check failed), except expiry,
        which the client can act on.
        """
        invalid = InvalidCursorError(
            "the cursor is not one this server issued for this query and tenant; start again with an empty cursor "
            "and pass each answer's nextCursor unchanged, with the same filter, sortBy and sortOrder (RFC 9865 §2)"
        )
        body, sep, mac = token.partition(_SEPARATOR)
        if not sep or len(token) > MAX_CURSOR_CHARS:
            raise invalid
        try:
            raw, sent = _unb64(body), _unb64(mac)
        except (binascii.Error, ValueError):
            raise invalid from None
        if _b64(raw) != body or _b64(sent) != mac:  # base64's spare bits: only the canonical spelling is ours
            raise invalid
        if not hmac.compare_digest(sent, self._mac(raw, tenant, query_scope)):
            raise invalid
        version, direction, issued, kind, seq, key = json.loads(raw)
        if version != FORMAT or direction not in ("next", "prev"):
            raise invalid
        if self.clock() - issued > self.timeout:
            raise ExpiredCursorError(
                f"the cursor expired: pages must be read within cursorTimeout ({self.timeout} s) of each other; "
                "start the walk again with an empty cursor (RFC 9865 §2.1)"
            )
        return Cursor(Position(_from_json(key), int(kind), int(seq)), direction)

    def _mac(self, raw: bytes, tenant: str, query_scope: str) -> bytes:
        bound = b"\x00".join((tenant.encode(), query_scope.encode(), raw))
        return hmac.new(self._secret, bound, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _to_json(value: Any) -> Any:
    """A sort key as JSON: tuples become lists, a dateTime instant ``{"t": ISO}``."""
    if isinstance(value, tuple | list):
        return [_to_json(item) for item in value]
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_from_json(item) for item in value)
    if isinstance(value, dict):
        return datetime.fromisoformat(value["t"])
    return value


@functools.total_ordering
class _Descending:
    """A sort key that orders backwards, so one ascending tuple serves ``sortOrder=descending`` too."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __lt__(self, other: _Descending) -> bool:
        return bool(other.key < self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and bool(self.key == other.key)

    def __hash__(self) -> int:
        return hash(self.key)


def order(position: Position, *, sorted_by: bool, descending: bool) -> tuple[Any, ...]:
    """The comparable place of ``position``: sortBy key (reversed when descending), then type, then ``seq``.

    Ties on the sortBy key keep creation order in both directions, as a stable sort does for index paging.
    """
    if not sorted_by:
        return (position.kind, position.seq)
    key = _Descending(position.sort_key) if descending else position.sort_key
    return (key, position.kind, position.seq)
