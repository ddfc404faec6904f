"""Reading a whole list back: by cursor when the server advertises it (RFC 9865), else by index (RFC 7644).

aup's own reads of a server (the sync checks' end state, the features' service-provider view) walk here.
The IdP emulators and the nsscache source do not: they send what the real client sends, and Okta, Entra and
nsscache page by ``startIndex`` (docs/okta-idp.md §3, docs/entra-idp.md §4, docs/domain.md §1.4).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

Query = Sequence[tuple[str, str | int]]
Fetch = Callable[[Query], Mapping[str, Any]]  # GET the list with these parameters; the ListResponse body

PAGE = 100
MAX_PAGES = 100_000  # a server whose walk never ends is an error, not a hang


class PagingError(Exception):
    """The list could not be read whole: the server's paging does not end or contradicts itself."""


def cursor_advertised(service_provider_config: Mapping[str, Any] | None) -> bool:
    """``pagination.cursor`` is true in ``/ServiceProviderConfig`` (RFC 9865 §4)."""
    pagination = (service_provider_config or {}).get("pagination")
    return isinstance(pagination, Mapping) and pagination.get("cursor") is True


def walk(fetch: Fetch, *, by_cursor: bool, count: int = PAGE, max_pages: int = MAX_PAGES) -> Iterator[dict[str, Any]]:
    """Every resource of the list ``fetch`` reads, page by page."""
    pages = _by_cursor(fetch, count) if by_cursor else _by_index(fetch, count)
    for number, page in enumerate(pages, start=1):
        if number > max_pages:
            raise PagingError(f"the list did not end after {max_pages} pages")
        yield from page


def _resources(page: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = page.get("Resources") or []
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def _by_cursor(fetch: Fetch, count: int) -> Iterator[list[dict[str, Any]]]:
    """An empty cursor first, then each answer's nextCursor until one has none (RFC 9865 §2)."""
    cursor = ""
    seen: set[str] = set()
    while True:
        page = fetch([("cursor", cursor), ("count", count)])
        yield _resources(page)
        following = page.get("nextCursor")
        if not isinstance(following, str) or not following:
            return
        if following in seen:
            raise PagingError(f"the server answered the same nextCursor twice ({following[:40]}): the walk loops")
        seen.add(following)
        cursor = following


def _by_index(fetch: Fetch, count: int) -> Iterator[list[dict[str, Any]]]:
    """startIndex from 1, on by the resources each page held, until totalResults (RFC 7644 §3.4.2.4)."""
    start = 1
    while True:
        page = fetch([("startIndex", start), ("count", count)])
        items = _resources(page)
        yield items
        start += len(items)
        total = page.get("totalResults")
        if not items or not isinstance(total, int) or start > total:
            return
