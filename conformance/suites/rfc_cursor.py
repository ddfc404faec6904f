"""Cursor pagination (RFC 9865), checked when ``/ServiceProviderConfig`` advertises ``pagination.cursor: true``.

RFC 9865 §2 defines the ``cursor`` and ``count`` parameters and ``nextCursor``/``previousCursor``; §2.1 the error
types; §2.2 sorting; §3 the same in ``POST /.search``; §4 the ``pagination`` block of ServiceProviderConfig. Each
check is graded by the RFC's own keyword; where the RFC states a property only in lower case or by its purpose,
the check says so and grades it SHOULD.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from conformance.context import CheckContext
from conformance.model import Level
from conformance.registry import Suite
from scimcore import urns

SUITE = Suite("rfc")
CURSOR = "cursor"  # the capability: pagination.cursor is true (conformance/context.py)
UNRESERVED = re.compile(r"[A-Za-z0-9._~-]*")  # RFC 3986 §2.3
MAX_PAGES = 50  # a walk of a handful of users that needs more pages than this does not end


def _users(ctx: CheckContext, count: int) -> tuple[str, list[str]]:
    prefix = ctx.name("c")
    return prefix, [ctx.create_user(f"{prefix}-{n:02d}@example.com")["id"] for n in range(count)]


def _page(ctx: CheckContext, prefix: str, cursor: str, count: int, *extra: tuple[str, str | int]) -> dict[str, Any]:
    query: list[tuple[str, str | int]] = [("filter", f'userName sw "{prefix}"'), ("cursor", cursor), ("count", count)]
    return ctx.list_response(ctx.scim.get("/Users", [*query, *extra]))


def _next(ctx: CheckContext, page: dict[str, Any]) -> str | None:
    following = page.get("nextCursor")
    if following is None:
        return None
    ctx.expect(
        isinstance(following, str) and following != "",
        "nextCursor is not a non-empty string",
        expected="a cursor string (RFC 9865 §2)",
        actual=json.dumps(following),
    )
    assert isinstance(following, str)
    return following


def _walk(ctx: CheckContext, prefix: str, count: int, *extra: tuple[str, str | int]) -> list[dict[str, Any]]:
    """Every page of the walk, first to last."""
    pages = [_page(ctx, prefix, "", count, *extra)]
    while (following := _next(ctx, pages[-1])) is not None:
        ctx.expect(
            len(pages) < MAX_PAGES,
            f"the walk did not end after {MAX_PAGES} pages",
            expected="a last page without nextCursor",
            actual=f"{len(pages)} pages",
        )
        pages.append(_page(ctx, prefix, following, count, *extra))
    return pages


def _ids(pages: Sequence[dict[str, Any]]) -> list[str]:
    return [str(item.get("id")) for page in pages for item in page.get("Resources") or [] if isinstance(item, dict)]


@SUITE.check(
    "rfc9865-4-pagination-config",
    "The pagination block of ServiceProviderConfig has the REQUIRED booleans and well-formed settings",
    level=Level.MUST,
    ref="RFC 9865 §4 (cursor and index REQUIRED; defaultPaginationMethod, defaultPageSize, maxPageSize, cursorTimeout)",
    tags={"discovery", "pagination", "cursor"},
    requires={CURSOR},
)
def pagination_config(ctx: CheckContext) -> None:
    block = ctx.fetch("/ServiceProviderConfig").get("pagination")
    ctx.expect(isinstance(block, dict), "pagination is not an object", expected="an object", actual=json.dumps(block))
    assert isinstance(block, dict)
    problems = [f"{name} is {json.dumps(block.get(name))}, not a boolean" for name in ("cursor", "index")
                if not isinstance(block.get(name), bool)]  # fmt: skip
    method = block.get("defaultPaginationMethod")
    if method is not None and method not in ("cursor", "index"):
        problems.append(f'defaultPaginationMethod is {json.dumps(method)}, not "cursor" or "index"')
    for name in ("defaultPageSize", "maxPageSize", "cursorTimeout"):
        value = block.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            problems.append(f"{name} is {json.dumps(value)}, not a positive integer")
    ctx.expect(
        not problems, "the pagination block is malformed", expected="RFC 9865 §4 types", actual="; ".join(problems)
    )


@SUITE.check(
    "rfc9865-2-first-page",
    "An empty cursor asks for the first page: a ListResponse with nextCursor when more results follow",
    level=Level.MUST,
    ref="RFC 9865 §2 (cursor empty for the first request; nextCursor MUST be in every page but the last)",
    tags={"list", "pagination", "cursor"},
    requires={CURSOR, "filter"},
)
def first_page(ctx: CheckContext) -> None:
    prefix, _ = _users(ctx, 5)
    page = _page(ctx, prefix, "", 2)
    ctx.expect(
        len(page.get("Resources") or []) >= 1,
        "the first page holds nothing though five users match",
        expected="1 or 2 resources",
        actual=str(len(page.get("Resources") or [])),
    )
    ctx.expect(
        _next(ctx, page) is not None,
        "the first of several pages has no nextCursor",
        expected="nextCursor",
        actual=", ".join(sorted(page)),
    )


@SUITE.check(
    "rfc9865-2-count",
    "A cursor page never holds more resources than count",
    level=Level.MUST,
    ref="RFC 9865 §2 (count: the service provider MUST NOT return more results than specified)",
    tags={"list", "pagination", "cursor"},
    requires={CURSOR, "filter"},
)
def count_honoured(ctx: CheckContext) -> None:
    prefix, _ = _users(ctx, 4)
    for page in _walk(ctx, prefix, 3):
        held = len(page.get("Resources") or [])
        ctx.expect(held <= 3, "a page holds more resources than count", expected="at most 3", actual=str(held))


@SUITE.check(
    "rfc9865-2-walk",
    "Following nextCursor reads every matching resource exactly once, and the last page has no nextCursor",
    level=Level.MUST,
    ref="RFC 9865 §2 (nextCursor in every page but the last, omitted only when there are no more pages)",
    tags={"list", "pagination", "cursor"},
    requires={CURSOR, "filter"},
)
def walk(ctx: CheckContext) -> None:
    prefix, ids = _users(ctx, 7)
    pages = _walk(ctx, prefix, 2)
    seen = _ids(pages)
    ctx.expect(
        sorted(seen) == sorted(ids),
        "the walk did not read each matching user exactly once",
        expected=f"{len(ids)} distinct users",
        actual=f"{len(seen)} read, {len(set(seen))} distinct, {len(set(ids) - set(seen))} missing",
    )
    for page in pages[:-1]:
        ctx.expect(page.get("Resources"), "a page before the last is empty", expected="resources", actual="none")


@SUITE.check(
    "rfc9865-2-last-page",
    "A page that completes the result carries no nextCursor",
    level=Level.MUST,
    ref="RFC 9865 §2 (nextCursor is omitted from a response only to indicate that there are no more result pages)",
    tags={"list", "pagination", "cursor"},
    requires={CURSOR, "filter"},
)
def last_page(ctx: CheckContext) -> None:
    prefix, ids = _users(ctx, 3)
    page = _page(ctx, prefix, "", 10)
    ctx.expect(
        len(page.get("Resources") or []) == len(ids),
        "one page of count=10 did not hold all three users",
        expected="3 resources",
        actual=str(len(page.get("Resources") or [])),
    )
    ctx.expect(
        "nextCursor" not in page,
        "the page holding every result still offers a nextCursor",
        expected="no nextCursor",
        actual=json.dumps(page.get("nextCursor")),
    )


@SUITE.check(
    "rfc9865-2-unreserved",
    "Cursor values use only RFC 3986 unreserved characters",
    level=Level.SHOULD,
    ref="RFC 9865 §2 (the cursor 'may only contain characters from the unreserved characters set' of RFC 3986 §2.3;"
    " lower case in the RFC, so SHOULD)",
    tags={"list", "pagination", "cursor"},
    requires={CURSOR, "filter"},
)
def unreserved(ctx: CheckContext) -> None:
    prefix, _ = _users(ctx, 3)
    cursors = [page["nextCursor"] for page in _walk(ctx, prefix, 1) if isinstance(page.get("nextCursor"), str)]
    bad = [cursor for cursor in cursors if not UNRESERVED.fullmatch(cursor)]
    ctx.expect(
        not bad,
        "a cursor has characters outside RFC 3986 §2.3",
        expected="A-Z a-z 0-9 - . _ ~",
        actual=bad[0] if bad else "",
    )


@SUITE.check(
    "rfc9865-2-changing-walk",
    "A walk while resources are created and deleted between pages neither skips nor repeats the others",
    level=Level.SHOULD,
    ref="RFC 9865 §1 (cursors are for result sets served from live data; the RFC states no ordering rule, so SHOULD);"
    " RFC 7644 §3.4.2.4 (index paging makes no such promise)",
    tags={"list", "pagination", "cursor"},
    requires={CURSOR, "filter"},
)
def changing_walk(ctx: CheckContext) -> None:
    prefix, ids = _users(ctx, 8)
    seen: list[str] = []
    page = _page(ctx, prefix, "", 3)
    seen += _ids([page])
    doomed = next((rid for rid in ids if rid not in seen), None)
    if doomed is not None:  # one the next page would hold goes, and one already read goes
        ctx.expect_status(ctx.scim.delete(f"/Users/{doomed}"), 204, 200)
        ctx.forget(f"/Users/{doomed}")
        gone = seen[0]
        ctx.expect_status(ctx.scim.delete(f"/Users/{gone}"), 204, 200)
        ctx.forget(f"/Users/{gone}")
    ctx.create_user(f"{prefix}-99@example.com")
    while (following := _next(ctx, page)) is not None and len(seen) < 40:
        page = _page(ctx, prefix, following, 3)
        seen += _ids([page])
    stayed = [rid for rid in ids if rid != doomed and (not seen or rid != seen[0])]
    missing = [rid for rid in stayed if rid not in seen]
    repeated = sorted({rid for rid in seen if seen.count(rid) > 1})
    ctx.expect(
        not missing and not repeated,
        "resources that existed for the whole walk were skipped or met twice",
        expected=f"each of {len(stayed)} users once",
        actual=f"{len(missing)} skipped, {len(repeated)} repeated",
    )


@SUITE.check(
    "rfc9865-2.1-invalid-cursor",
    "A cursor the server never issued is refused with 400 invalidCursor",
    level=Level.SHOULD,
    ref="RFC 9865 §2.1 (SHOULD return the RFC 7644 §3.12 error; scimType invalidCursor)",
    tags={"list", "pagination", "cursor", "errors"},
    requires={CURSOR, "filter"},
)
def invalid_cursor(ctx: CheckContext) -> None:
    prefix, _ = _users(ctx, 1)
    response = ctx.scim.get(
        "/Users", [("filter", f'userName sw "{prefix}"'), ("cursor", "aup-not-a-cursor"), ("count", 1)]
    )
    ctx.expect_error(response, 400, "invalidCursor")


@SUITE.check(
    "rfc9865-2.1-invalid-count",
    "With a cursor, a count that is not a positive integer is refused with 400 invalidCount",
    level=Level.SHOULD,
    ref="RFC 9865 §2 (count: a positive integer) and §2.1 (SHOULD; scimType invalidCount)",
    tags={"list", "pagination", "cursor", "errors"},
    requires={CURSOR, "filter"},
)
def invalid_count(ctx: CheckContext) -> None:
    prefix, _ = _users(ctx, 1)
    response = ctx.scim.get("/Users", [("filter", f'userName sw "{prefix}"'), ("cursor", ""), ("count", 0)])
    ctx.expect_error(response, 400, "invalidCount")


@SUITE.check(
    "rfc9865-2-same-query",
    "A cursor sent with another filter is refused or reads only what that filter matches",
    level=Level.SHOULD,
    ref="RFC 9865 §2 (a cursor belongs to the query it came from) and §2.1 (invalidCursor)",
    tags={"list", "pagination", "cursor"},
    requires={CURSOR, "filter"},
)
def same_query(ctx: CheckContext) -> None:
    first, _ = _users(ctx, 3)
    second, others = _users(ctx, 1)
    page = _page(ctx, first, "", 1)
    following = _next(ctx, page)
    if following is None:
        ctx.fail("the first of three pages has no nextCursor", expected="nextCursor", actual=", ".join(sorted(page)))
    assert following is not None
    response = ctx.scim.get("/Users", [("filter", f'userName sw "{second}"'), ("cursor", following), ("count", 1)])
    if response.status_code == 400:
        ctx.expect_error(response, 400, "invalidCursor")
        return
    doc = ctx.list_response(response)
    strays = [rid for rid in ctx.ids(doc) if rid not in others]
    ctx.expect(
        not strays,
        "a cursor of one query, sent with another filter, returned resources that filter does not match",
        expected="400 invalidCursor, or only the other filter's users",
        actual=f"{len(strays)} resource(s) of the first query",
    )


@SUITE.check(
    "rfc9865-3-search",
    "POST .search takes cursor and count in its body and answers nextCursor",
    level=Level.MUST,
    ref="RFC 9865 §3 (the §2 parameters in a SearchRequest) and §2 (nextCursor MUST be in every page but the last)",
    tags={"list", "pagination", "cursor", "search"},
    requires={CURSOR, "filter"},
)
def search(ctx: CheckContext) -> None:
    prefix, ids = _users(ctx, 3)
    body: dict[str, Any] = {
        "schemas": [urns.SEARCH_REQUEST],
        "filter": f'userName sw "{prefix}"',
        "cursor": "",
        "count": 2,
    }
    seen: list[str] = []
    for _ in range(MAX_PAGES):
        page = ctx.list_response(ctx.scim.post("/Users/.search", body))
        seen += ctx.ids(page)
        following = _next(ctx, page)
        if following is None:
            break
        body["cursor"] = following
    ctx.expect(
        sorted(seen) == sorted(ids),
        "the .search walk did not read each matching user exactly once",
        expected=f"{len(ids)} distinct users over two pages",
        actual=f"{len(seen)} read, {len(set(seen))} distinct",
    )


@SUITE.check(
    "rfc9865-2.2-sorted",
    "A sorted cursor walk is sorted across its pages",
    level=Level.SHOULD,
    ref="RFC 9865 §2.2 (if sorting is implemented, cursor-paged results SHOULD be sorted); RFC 7644 §3.4.2.3",
    tags={"list", "pagination", "cursor", "sort"},
    requires={CURSOR, "filter", "sort"},
)
def sorted_walk(ctx: CheckContext) -> None:
    prefix = ctx.name("c")
    for suffix in ("d", "a", "e", "b", "c"):
        ctx.create_user(f"{prefix}-{suffix}@example.com")
    pages = _walk(ctx, prefix, 2, ("sortBy", "userName"), ("sortOrder", "descending"))
    names = [str(item.get("userName")).lower() for page in pages for item in page.get("Resources") or []]
    ctx.expect(
        names == sorted(names, reverse=True) and len(names) == 5,
        "the walk is not in descending userName order across pages",
        expected="e, d, c, b, a",
        actual=", ".join(name.split("@")[0].rsplit("-", 1)[-1] for name in names),
    )


@SUITE.check(
    "rfc9865-2-previous-cursor",
    "A previousCursor, when one is returned, leads back to the previous page",
    level=Level.MAY,
    ref="RFC 9865 §2 (previousCursor: returning it is OPTIONAL; it obtains the previous page of results)",
    tags={"list", "pagination", "cursor"},
    requires={CURSOR, "filter"},
)
def previous_cursor(ctx: CheckContext) -> None:
    prefix, _ = _users(ctx, 4)
    first = _page(ctx, prefix, "", 2)
    following = _next(ctx, first)
    if following is None:
        ctx.fail("the first of two pages has no nextCursor", expected="nextCursor", actual=", ".join(sorted(first)))
    assert following is not None
    second = _page(ctx, prefix, following, 2)
    back = second.get("previousCursor")
    if not isinstance(back, str) or not back:
        ctx.skip("the server returns no previousCursor (OPTIONAL)")
    again = _page(ctx, prefix, str(back), 2)
    ctx.expect(
        ctx.ids(again) == ctx.ids(first),
        "previousCursor does not lead back to the first page",
        expected=", ".join(ctx.ids(first)),
        actual=", ".join(ctx.ids(again)),
    )
