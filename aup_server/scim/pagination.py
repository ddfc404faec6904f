"""List paging (RFC 7644 §3.4.2.4): 1-based startIndex, clamped count, ListResponse bodies."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aup_server.errors import InvalidValueError
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


def list_response(resources: Sequence[dict[str, Any]], total: int, page: Page) -> dict[str, Any]:
    """The ListResponse message; all numbers are JSON integers (docs/okta-idp.md §3)."""
    return {
        "schemas": [urns.LIST_RESPONSE],
        "totalResults": total,
        "startIndex": page.start_index,
        "itemsPerPage": len(resources),
        "Resources": list(resources),
    }
