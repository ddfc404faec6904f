"""List paging (RFC 7644 §3.4.2.4): 1-based startIndex, clamped count, ListResponse bodies."""

from __future__ import annotations

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


def _int_param(params: Mapping[str, Any], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise InvalidValueError(f"{name} must be an integer, not {raw!r}")
    if isinstance(raw, int):
        return raw
    try:
        return int(str(raw).strip())
    except ValueError:
        raise InvalidValueError(f"{name} must be an integer, not {raw!r}") from None


def parse_page(params: Mapping[str, Any], *, default_count: int, max_count: int) -> Page:
    """startIndex < 1 is treated as 1 and a negative count as 0 (RFC 7644 §3.4.2.4); count is capped."""
    start = _int_param(params, "startIndex")
    count = _int_param(params, "count")
    start = 1 if start is None or start < 1 else start
    count = default_count if count is None else max(count, 0)
    return Page(start_index=start, count=min(count, max_count))


def list_response(resources: Sequence[dict[str, Any]], total: int, page: Page) -> dict[str, Any]:
    """The ListResponse message; all numbers are JSON integers (reference/okta.md §3)."""
    return {
        "schemas": [urns.LIST_RESPONSE],
        "totalResults": total,
        "startIndex": page.start_index,
        "itemsPerPage": len(resources),
        "Resources": list(resources),
    }
