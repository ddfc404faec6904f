"""List paging: by index (RFC 7644 §3.4.2.4: 1-based startIndex, clamped count) or by cursor (RFC 9865 §2)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aup_server.errors import InvalidValueError
from aup_server.scim.cursor import InvalidCountError, InvalidCursorError
from scimcore import urns


@dataclass(frozen=True)
class Page:
    """A window over an ordered result: ``offset`` is 0-based, ``count`` may be 0 (totals only)."""

    start_index: int
    count: int

    @property
    def offset(self) -> int:
        return self.start_index - 1


# RFC 7644 §3.4.2.4 interprets every integer rather than refusing one: a startIndex below 1 "SHALL be
# interpreted as 1", a negative count as 0, and the server "MAY return fewer results" than a count asks
# for, so a count above the maximum is capped. Likewise a startIndex past any page the store could hold
# (SQLite offsets are signed 64-bit) is read as this one, still past every result: an empty page, not a 400.
MAX_START_INDEX = 2**62
# A literal this long is outside every range above whatever its digits; Python refuses to convert one of
# over 4,300 digits anyway, so its sign alone decides it.
_MAX_DIGITS = 30
_BEYOND: int = int("1" + "0" * _MAX_DIGITS)
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)


def _int_param(params: Mapping[str, Any], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise InvalidValueError(f"{name} must be an integer, not {_shown(raw)}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():  # 10.0 in a SearchRequest body (RFC 8259 §6)
        return int(raw)
    text = raw.strip() if isinstance(raw, str) else None
    if text is None or not _INTEGER.fullmatch(text):
        raise InvalidValueError(f"{name} must be an integer, not {_shown(raw)}")
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > _MAX_DIGITS:
        return -_BEYOND if text.startswith("-") else _BEYOND
    return int(text)


def _shown(raw: Any) -> str:
    """The rejected value for an error detail, cut short: a query parameter can be megabytes long."""
    text = json.dumps(raw, ensure_ascii=True) if isinstance(raw, bool | float) else repr(str(raw))
    return text if len(text) <= 40 else text[:37] + "..."


def parse_page(params: Mapping[str, Any], *, default_count: int, max_count: int) -> Page:
    """startIndex < 1 is treated as 1 and a negative count as 0 (RFC 7644 §3.4.2.4); count is capped.

    Out-of-range integers are clamped, never refused: RFC 7644 §3.4.2.4 interprets every startIndex
    and every count, so 2**64 as startIndex is the page after the last (empty) and as count the maximum.
    """
    start = _int_param(params, "startIndex")
    count = _int_param(params, "count")
    start = 1 if start is None or start < 1 else min(start, MAX_START_INDEX)
    count = default_count if count is None else max(count, 0)
    return Page(start_index=start, count=min(count, max_count))


@dataclass(frozen=True)
class CursorPage:
    """A cursor-paged request: ``cursor`` is empty for the first page (RFC 9865 §2), ``count`` is 1..maxPageSize."""

    cursor: str
    count: int


def parse_cursor_page(params: Mapping[str, Any], *, default_count: int, max_count: int) -> CursorPage | None:
    """The cursor request in ``params``, or None when the client pages by index (RFC 9865 §2.3: index stays default).

    ``cursor`` present, even empty (``?cursor`` or ``"cursor": ""``), asks for cursor paging. Unlike index paging,
    where RFC 7644 §3.4.2.4 interprets every count, RFC 9865 §2 defines count as a positive integer and §2.1 names
    the error for one that is not, or is over maxPageSize: ``invalidCount``.
    """
    token = params.get("cursor")
    if token is None:
        return None
    if not isinstance(token, str):
        raise InvalidCursorError(f"cursor must be a string (empty for the first page), not {_shown(token)}")
    if params.get("startIndex") not in (None, ""):
        raise InvalidValueError(
            "startIndex and cursor ask for two pagination methods; send one (RFC 9865 §2.3: cursor, or startIndex)"
        )
    try:
        count = _int_param(params, "count")
    except InvalidValueError:
        count = 0
    if count is None:
        count = default_count
    if not 1 <= count <= max_count:
        raise InvalidCountError(
            f"count must be an integer from 1 to maxPageSize ({max_count}) when paging by cursor, "
            f"not {_shown(params.get('count'))} (RFC 9865 §2.1)"
        )
    return CursorPage(token.strip(), count)


def list_response(
    resources: Sequence[dict[str, Any]],
    total: int,
    page: Page | None,
    *,
    next_cursor: str | None = None,
    previous_cursor: str | None = None,
) -> dict[str, Any]:
    """The ListResponse message; all numbers are JSON integers (docs/okta-idp.md §3).

    A cursor page (``page`` None) has no startIndex and carries nextCursor unless it is the last page
    (RFC 9865 §2), previousCursor unless it is the first.
    """
    body: dict[str, Any] = {"schemas": [urns.LIST_RESPONSE], "totalResults": total}
    if page is not None:
        body["startIndex"] = page.start_index
    body["itemsPerPage"] = len(resources)
    if next_cursor is not None:
        body["nextCursor"] = next_cursor
    if previous_cursor is not None:
        body["previousCursor"] = previous_cursor
    body["Resources"] = list(resources)
    return body
