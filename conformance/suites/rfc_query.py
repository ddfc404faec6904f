"""Listing: pagination, sorting, attributes/excludedAttributes and POST .search (RFC 7644 §3.4.2-§3.4.3, §3.9)."""

from __future__ import annotations

import json
from typing import Any

from conformance.context import CheckContext
from conformance.model import Level
from conformance.references import ENTRA_TUTORIAL, NSSCACHE_SCIM
from conformance.registry import Suite
from scimcore import urns

SUITE = Suite("rfc")

PAGE_REF = "RFC 7644 §3.4.2.4"


def _users(ctx: CheckContext, count: int) -> tuple[str, list[dict[str, Any]]]:
    prefix = ctx.name("p")
    return prefix, [ctx.create_user(f"{prefix}-{index:02d}@example.com") for index in range(count)]


def _page(ctx: CheckContext, prefix: str, **params: str | int) -> dict[str, Any]:
    return ctx.search("/Users", f'userName sw "{prefix}"', **params)


@SUITE.check(
    "rfc7644-3.4.2-list-response",
    "GET /Users answers a ListResponse with totalResults and Resources",
    level=Level.MUST,
    ref="RFC 7644 §3.4.2 (ListResponse: schemas, totalResults REQUIRED)",
    tags={"list"},
)
def list_response(ctx: CheckContext) -> None:
    ctx.create_user()
    doc = ctx.list_response(ctx.scim.get("/Users", [("count", 5)]))
    ctx.expect(
        doc["totalResults"] >= 1,
        "totalResults does not count the user just created",
        expected=">= 1",
        actual=json.dumps(doc["totalResults"]),
    )


@SUITE.check(
    "rfc7644-3.4.2.4-pagination",
    "startIndex and count page through results: itemsPerPage and startIndex echo the page",
    level=Level.MUST,
    ref=(
        "RFC 7644 §3.4.2.4 (itemsPerPage and startIndex REQUIRED when paginating); "
        "docs/okta-idp.md §3 and docs/entra-idp.md §4 (IdP imports page)"
    ),
    tags={"list", "pagination"},
    requires={"filter"},
)
def pagination(ctx: CheckContext) -> None:
    prefix, _ = _users(ctx, 5)
    doc = _page(ctx, prefix, startIndex=2, count=2)
    ctx.expect(
        doc["totalResults"] == 5,
        "totalResults is not the size of the whole result set",
        expected="5",
        actual=json.dumps(doc["totalResults"]),
    )
    ctx.expect(
        len(doc.get("Resources") or []) == 2,
        "count=2 did not return two resources",
        expected="2 resources",
        actual=str(len(doc.get("Resources") or [])),
    )
    ctx.expect(
        doc.get("startIndex") == 2, "startIndex is not echoed", expected="2", actual=json.dumps(doc.get("startIndex"))
    )
    ctx.expect(
        doc.get("itemsPerPage") == 2,
        "itemsPerPage does not count the page",
        expected="2",
        actual=json.dumps(doc.get("itemsPerPage")),
    )


@SUITE.check(
    "rfc7644-3.4.2.4-pagination-complete",
    "Paging with count=2 returns every resource exactly once",
    level=Level.MUST,
    ref=f"RFC 7644 §3.4.2.4; nsscache pages until totalResults: {NSSCACHE_SCIM}; docs/domain.md §1.4",
    tags={"list", "pagination"},
    requires={"filter"},
)
def pagination_complete(ctx: CheckContext) -> None:
    prefix, users = _users(ctx, 5)
    seen: list[str] = []
    start = 1
    for _ in range(10):
        doc = _page(ctx, prefix, startIndex=start, count=2)
        page = ctx.ids(doc)
        if not page:
            break
        seen.extend(page)
        start += len(page)
    expected = sorted(user["id"] for user in users)
    ctx.expect(
        sorted(seen) == expected,
        "paging lost or repeated resources",
        expected=json.dumps(expected),
        actual=json.dumps(sorted(seen)),
    )


@SUITE.check(
    "rfc7644-3.4.2.4-start-index-only-paging",
    "Paging with startIndex alone (no count), trusting itemsPerPage and totalResults, reads every resource once",
    level=Level.SHOULD,
    ref=(
        "RFC 7644 §3.4.2.4 (itemsPerPage, startIndex); "
        "nsscache sends only startIndex and stops when startIndex + itemsPerPage - 1 >= totalResults: "
        f"{NSSCACHE_SCIM}; "
        "docs/domain.md §1.4"
    ),
    tags={"list", "pagination", "nsscache"},
    requires={"filter"},
)
def start_index_only_paging(ctx: CheckContext) -> None:
    prefix, users = _users(ctx, 3)
    flt = f'userName sw "{prefix}"'
    seen: list[str] = []
    start = 1
    for _ in range(10):
        doc = ctx.list_response(ctx.scim.get("/Users", [("filter", flt), ("startIndex", start)]))
        per_page, total = doc.get("itemsPerPage"), doc["totalResults"]
        ctx.expect(
            isinstance(per_page, int) and not isinstance(per_page, bool) and per_page == len(ctx.ids(doc)),
            "itemsPerPage is missing or does not count the resources of the page",
            expected=f"itemsPerPage == {len(ctx.ids(doc))}",
            actual=json.dumps(per_page),
        )
        ctx.expect(
            doc.get("startIndex") == start,
            "startIndex does not echo the page asked for",
            expected=str(start),
            actual=json.dumps(doc.get("startIndex")),
        )
        seen.extend(ctx.ids(doc))
        assert isinstance(per_page, int)
        if per_page == 0 or start + per_page - 1 >= total:
            break
        start += per_page
    expected = sorted(user["id"] for user in users)
    ctx.expect(
        sorted(seen) == expected,
        "a reader paging by startIndex alone lost or repeated resources",
        expected=json.dumps(expected),
        actual=json.dumps(sorted(seen)),
    )


@SUITE.check(
    "rfc7644-3.4.2.4-stable-order",
    "The same query answers in the same order every time",
    level=Level.SHOULD,
    ref=(
        "RFC 7644 §3.4.2.4 (consistent results across pages need a stable order); "
        "docs/domain.md §1.4 (readers that page)"
    ),
    tags={"list", "pagination"},
    requires={"filter"},
)
def stable_order(ctx: CheckContext) -> None:
    prefix, _ = _users(ctx, 4)
    first = ctx.ids(_page(ctx, prefix, startIndex=1, count=4))
    second = ctx.ids(_page(ctx, prefix, startIndex=1, count=4))
    ctx.expect(
        first == second,
        "two identical queries listed the users in different orders",
        expected=json.dumps(first),
        actual=json.dumps(second),
    )


@SUITE.check(
    "rfc7644-3.4.2.4-count-zero",
    "count=0 returns totalResults and no resources",
    level=Level.MUST,
    ref=PAGE_REF + ' ("0" means no resource results except totalResults)',
    tags={"list", "pagination", "edge"},
    requires={"filter"},
)
def count_zero(ctx: CheckContext) -> None:
    prefix, _ = _users(ctx, 2)
    doc = _page(ctx, prefix, count=0)
    ctx.expect(
        doc["totalResults"] == 2,
        "count=0 did not report totalResults",
        expected="2",
        actual=json.dumps(doc["totalResults"]),
    )
    ctx.expect(
        not doc.get("Resources"),
        "count=0 returned resources",
        expected="none",
        actual=str(len(doc.get("Resources") or [])),
    )


@SUITE.check(
    "rfc7644-3.4.2.4-start-index-below-one",
    "startIndex below 1 is read as 1",
    level=Level.MUST,
    ref=PAGE_REF + " (a value less than 1 SHALL be interpreted as 1)",
    tags={"list", "pagination", "edge"},
    requires={"filter"},
)
def start_index_below_one(ctx: CheckContext) -> None:
    prefix, _ = _users(ctx, 2)
    response = ctx.scim.get("/Users", [("filter", f'userName sw "{prefix}"'), ("startIndex", 0)])
    doc = ctx.list_response(response)
    ctx.expect(
        len(ctx.ids(doc)) == 2,
        "startIndex=0 did not start at the first result",
        expected="2 resources",
        actual=str(len(ctx.ids(doc))),
    )


@SUITE.check(
    "rfc7644-3.4.2.4-negative-count",
    "A negative count is read as 0",
    level=Level.MUST,
    ref=PAGE_REF + " (a negative value SHALL be interpreted as 0)",
    tags={"list", "pagination", "edge"},
    requires={"filter"},
)
def negative_count(ctx: CheckContext) -> None:
    prefix, _ = _users(ctx, 2)
    doc = ctx.list_response(ctx.scim.get("/Users", [("filter", f'userName sw "{prefix}"'), ("count", -3)]))
    ctx.expect(
        not doc.get("Resources"),
        "count=-3 returned resources",
        expected="none",
        actual=str(len(doc.get("Resources") or [])),
    )


@SUITE.check(
    "rfc7644-3.4.2.3-sort-ascending",
    "sortBy=userName returns users in ascending order",
    level=Level.MUST,
    ref="RFC 7644 §3.4.2.3",
    tags={"list", "sort"},
    requires={"sort", "filter"},
)
def sort_ascending(ctx: CheckContext) -> None:
    prefix = ctx.name("s")
    for stem in ("charlie", "Alpha", "bravo"):
        ctx.create_user(f"{prefix}-{stem}@example.com")
    doc = _page(ctx, prefix, sortBy="userName")
    names = [str(item.get("userName")) for item in doc.get("Resources") or []]
    ctx.expect(
        names == sorted(names, key=str.lower),
        "the users are not in ascending userName order",
        expected=json.dumps(sorted(names, key=str.lower)),
        actual=json.dumps(names),
    )


@SUITE.check(
    "rfc7644-3.4.2.3-sort-descending",
    "sortOrder=descending reverses the order",
    level=Level.MUST,
    ref="RFC 7644 §3.4.2.3",
    tags={"list", "sort"},
    requires={"sort", "filter"},
)
def sort_descending(ctx: CheckContext) -> None:
    prefix = ctx.name("s")
    for stem in ("charlie", "alpha", "bravo"):
        ctx.create_user(f"{prefix}-{stem}@example.com")
    doc = _page(ctx, prefix, sortBy="userName", sortOrder="descending")
    names = [str(item.get("userName")) for item in doc.get("Resources") or []]
    wanted = sorted(names, key=str.lower, reverse=True)
    ctx.expect(
        names == wanted, "the users are not in descending order", expected=json.dumps(wanted), actual=json.dumps(names)
    )


@SUITE.check(
    "rfc7644-3.9-attributes",
    "attributes=userName returns userName and id, and nothing of name",
    level=Level.MUST,
    ref="RFC 7644 §3.9 (the default set SHALL be overridden; id is always returned)",
    tags={"projection"},
)
def attributes_param(ctx: CheckContext) -> None:
    user = ctx.create_user()
    doc = ctx.obj(ctx.scim.get(f"/Users/{user['id']}", [("attributes", "userName")]))
    ctx.expect(
        doc.get("userName") == user["userName"] and doc.get("id") == user["id"],
        "attributes=userName dropped userName or id",
        expected="id and userName",
        actual=json.dumps(sorted(doc)),
    )
    ctx.expect(
        "name" not in doc and "emails" not in doc,
        "attributes=userName still returned other attributes",
        expected="no name, no emails",
        actual=json.dumps(sorted(doc)),
    )


@SUITE.check(
    "rfc7644-3.9-excluded-attributes",
    "excludedAttributes=name,emails leaves them out and keeps the rest",
    level=Level.MUST,
    ref="RFC 7644 §3.9",
    tags={"projection"},
)
def excluded_attributes(ctx: CheckContext) -> None:
    user = ctx.create_user()
    doc = ctx.obj(ctx.scim.get(f"/Users/{user['id']}", [("excludedAttributes", "name,emails")]))
    ctx.expect(
        "name" not in doc and "emails" not in doc,
        "excluded attributes were returned",
        expected="no name, no emails",
        actual=json.dumps(sorted(doc)),
    )
    ctx.expect(
        doc.get("userName") == user["userName"] and doc.get("id") == user["id"],
        "excludedAttributes dropped attributes it did not name",
        expected="id and userName",
        actual=json.dumps(sorted(doc)),
    )


@SUITE.check(
    "rfc7644-3.9-excluded-members",
    "excludedAttributes=members leaves a group's members out",
    level=Level.MUST,
    ref=f"RFC 7644 §3.9; Entra reads groups with excludedAttributes=members: {ENTRA_TUTORIAL}; docs/entra-idp.md §3.4",
    tags={"projection", "groups"},
)
def excluded_members(ctx: CheckContext) -> None:
    user = ctx.create_user()
    group = ctx.create_group(members=[user["id"]])
    doc = ctx.obj(ctx.scim.get(f"/Groups/{group['id']}", [("excludedAttributes", "members")]))
    ctx.expect("members" not in doc, "members were returned", expected="no members", actual=json.dumps(sorted(doc)))
    ctx.expect(
        doc.get("displayName") == group["displayName"],
        "displayName went missing",
        expected=group["displayName"],
        actual=json.dumps(doc.get("displayName")),
    )


@SUITE.check(
    "rfc7644-3.9-attributes-on-list",
    "attributes applies to every resource of a list",
    level=Level.MUST,
    ref="RFC 7644 §3.9; §3.4.2",
    tags={"projection", "list"},
    requires={"filter"},
)
def attributes_on_list(ctx: CheckContext) -> None:
    prefix, _ = _users(ctx, 2)
    doc = _page(ctx, prefix, attributes="userName")
    for item in doc.get("Resources") or []:
        ctx.expect(
            "name" not in item and "id" in item,
            "a listed resource ignores attributes=userName",
            expected="id and userName only",
            actual=json.dumps(sorted(item)),
        )


@SUITE.check(
    "rfc7644-3.4.3-search",
    "POST /Users/.search with a SearchRequest filters like GET",
    level=Level.SHOULD,
    ref="RFC 7644 §3.4.3",
    tags={"search", "filter"},
    requires={"filter"},
)
def post_search(ctx: CheckContext) -> None:
    user = ctx.create_user()
    body = {
        "schemas": [urns.SEARCH_REQUEST],
        "filter": f'userName eq "{user["userName"]}"',
        "attributes": ["userName"],
        "startIndex": 1,
        "count": 10,
    }
    doc = ctx.list_response(ctx.scim.post("/Users/.search", body))
    ctx.expect(
        ctx.ids(doc) == [user["id"]],
        ".search did not find exactly the user",
        expected=json.dumps([user["id"]]),
        actual=json.dumps(ctx.ids(doc)),
    )
    first = (doc.get("Resources") or [{}])[0]
    ctx.expect(
        "name" not in first,
        ".search ignored its attributes",
        expected="userName only",
        actual=json.dumps(sorted(first)),
    )


@SUITE.check(
    "rfc7644-3.4.3-root-search",
    "POST /.search at the root searches across resource types",
    level=Level.MAY,
    ref="RFC 7644 §3.4.3 (root-level search)",
    tags={"search", "filter"},
    requires={"filter"},
)
def root_search(ctx: CheckContext) -> None:
    user = ctx.create_user()
    body = {"schemas": [urns.SEARCH_REQUEST], "filter": f'userName eq "{user["userName"]}"'}
    doc = ctx.list_response(ctx.scim.post("/.search", body))
    ctx.expect(
        user["id"] in ctx.ids(doc),
        "root .search did not find the user",
        expected=user["id"],
        actual=json.dumps(ctx.ids(doc)),
    )
