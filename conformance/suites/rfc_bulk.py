"""Bulk operations (RFC 7644 §3.7), checked when ``/ServiceProviderConfig`` advertises ``bulk.supported: true``.

§3.7 defines the BulkRequest and BulkResponse; §3.7.1 circular references; §3.7.2 ``bulkId`` references; §3.7.3
responses and errors, ``failOnErrors``; §3.7.4 ``maxOperations`` and ``maxPayloadSize``. Every resource a check
creates through /Bulk is tracked from the response's ``location`` and removed afterwards.
"""

from __future__ import annotations

import json
import re
from typing import Any

from conformance.context import CheckContext
from conformance.model import Level
from conformance.registry import Suite
from scimcore import urns

SUITE = Suite("rfc")
BULK = "bulk"
_RESOURCE = re.compile(r"/(Users|Groups)/([^/?#]+)$")
MAX_OPERATIONS_TRIED = 10_000  # above this many, sending maxOperations + 1 costs too much for a check


def _post(ctx: CheckContext, bulk_id: str, user_name: str) -> dict[str, Any]:
    return {"method": "POST", "path": "/Users", "bulkId": bulk_id, "data": ctx.user_body(user_name)}


def _group(bulk_id: str, name: str, members: list[str]) -> dict[str, Any]:
    data = {"schemas": [urns.GROUP], "displayName": name, "members": [{"value": m} for m in members]}
    return {"method": "POST", "path": "/Groups", "bulkId": bulk_id, "data": data}


def _send(ctx: CheckContext, *operations: dict[str, Any], **extra: Any) -> list[dict[str, Any]]:
    """POST /Bulk; the BulkResponse's Operations, each created resource tracked for cleanup."""
    body = {"schemas": [urns.BULK_REQUEST], "Operations": list(operations), **extra}
    doc = ctx.obj(ctx.scim.post("/Bulk", body))
    results = doc.get("Operations")
    ctx.expect(
        isinstance(results, list) and all(isinstance(item, dict) for item in results),
        "the BulkResponse has no Operations list",
        expected="Operations: a list of results (RFC 7644 §3.7)",
        actual=json.dumps(doc)[:200],
    )
    assert isinstance(results, list)
    groups_last = sorted(results, key=lambda item: "/Groups/" not in str(item.get("location", "")))
    for item in groups_last:  # tracked users first, so the groups holding them are removed before them
        match = _RESOURCE.search(str(item.get("location", "")))
        if match and str(item.get("status")).startswith("2") and item.get("method") == "POST":
            ctx.track(f"/{match.group(1)}/{match.group(2)}")
    ctx.expect(
        urns.BULK_RESPONSE.lower() in [str(s).lower() for s in doc.get("schemas") or []],
        "the response does not name the BulkResponse schema",
        expected=urns.BULK_RESPONSE,
        actual=json.dumps(doc.get("schemas")),
    )
    return results


def _by_bulk_id(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(item.get("bulkId")): item for item in results if item.get("bulkId") is not None}


def _status(item: dict[str, Any] | None) -> str:
    return "" if item is None else str(item.get("status"))


def _id_of(item: dict[str, Any] | None) -> str | None:
    match = _RESOURCE.search(str((item or {}).get("location", "")))
    return match.group(2) if match else None


@SUITE.check(
    "rfc7644-3.7-bulk-response",
    "A BulkResponse answers each operation with its bulkId, location and status",
    level=Level.MUST,
    ref="RFC 7644 §3.7 (location REQUIRED except for a failed POST; status REQUIRED) and §3.7.3 (the service"
    " provider MUST return the same bulkId with the newly created resource)",
    tags={"bulk"},
    requires={BULK},
)
def bulk_response(ctx: CheckContext) -> None:
    names = [ctx.name("b") + "@example.com" for _ in range(2)]
    results = _by_bulk_id(_send(ctx, _post(ctx, "first", names[0]), _post(ctx, "second", names[1])))
    for bulk_id in ("first", "second"):
        item = results.get(bulk_id)
        ctx.expect(
            item is not None, f"no result carries bulkId {bulk_id!r}", expected=bulk_id, actual=", ".join(results)
        )
        assert item is not None
        ctx.expect(
            _status(item) == "201" and item.get("method") == "POST",
            "a created resource is not answered method POST, status 201",
            expected='"method": "POST", "status": "201"',
            actual=json.dumps({k: item.get(k) for k in ("method", "status")}),
        )
        ctx.expect(
            _id_of(item) is not None,
            "a created resource has no location",
            expected="location: the resource's URL",
            actual=json.dumps(item.get("location")),
        )


@SUITE.check(
    "rfc7644-3.7-status-string",
    "Each operation's status is the HTTP status code as a string",
    level=Level.SHOULD,
    ref='RFC 7644 §3.7.3 (every example answers "status": "201"; the Error body\'s status is a string, §3.12)',
    tags={"bulk"},
    requires={BULK},
)
def status_string(ctx: CheckContext) -> None:
    results = _send(ctx, _post(ctx, "only", ctx.name("b") + "@example.com"))
    status = results[0].get("status") if results else None
    ctx.expect(status == "201", 'the status is not the string "201"', expected='"201"', actual=json.dumps(status))


@SUITE.check(
    "rfc7644-3.7.2-bulkid",
    "A later operation's bulkId: reference is replaced with the id the earlier POST created",
    level=Level.MUST,
    ref='RFC 7644 §3.7.2 (the service provider MUST replace the string "bulkId:qwerty" with the permanent id)',
    tags={"bulk", "groups"},
    requires={BULK},
)
def bulk_id_reference(ctx: CheckContext) -> None:
    results = _by_bulk_id(
        _send(ctx, _post(ctx, "user", ctx.name("b") + "@example.com"), _group("group", ctx.name("g"), ["bulkId:user"]))
    )
    user_id, group_id = _id_of(results.get("user")), _id_of(results.get("group"))
    ctx.expect(
        user_id is not None and group_id is not None,
        "the user or the group was not created",
        expected="status 201 for both",
        actual=f"user {_status(results.get('user'))}, group {_status(results.get('group'))}",
    )
    members = [m.get("value") for m in ctx.fetch(f"/Groups/{group_id}").get("members") or [] if isinstance(m, dict)]
    ctx.expect(
        members == [user_id],
        "the group's member is not the created user",
        expected=str(user_id),
        actual=json.dumps(members),
    )


@SUITE.check(
    "rfc7644-3.7.1-forward-reference",
    "An operation that refers to a POST later in the request is resolved, or refused with 409",
    level=Level.MUST,
    ref="RFC 7644 §3.7 (a reordering MUST preserve the client's intent) and §3.7.1 (MUST try to resolve"
    " cross-references, MAY answer 409 after a failed attempt)",
    tags={"bulk", "groups"},
    requires={BULK},
)
def forward_reference(ctx: CheckContext) -> None:
    results = _by_bulk_id(
        _send(ctx, _group("group", ctx.name("g"), ["bulkId:user"]), _post(ctx, "user", ctx.name("b") + "@example.com"))
    )
    group = results.get("group")
    if _status(group) == "409":
        ctx.note("the server refused the forward reference with 409 (RFC 7644 §3.7.1 allows it)")
        return
    group_id, user_id = _id_of(group), _id_of(results.get("user"))
    ctx.expect(
        _status(group) == "201" and group_id is not None,
        "the group naming a later user was neither created nor refused with 409",
        expected='"201" or "409"',
        actual=json.dumps(group)[:200],
    )
    members = [m.get("value") for m in ctx.fetch(f"/Groups/{group_id}").get("members") or [] if isinstance(m, dict)]
    ctx.expect(
        members == [user_id],
        "the forward reference was not resolved",
        expected=str(user_id),
        actual=json.dumps(members),
    )


@SUITE.check(
    "rfc7644-3.7.1-circular",
    "Circular bulkId references are resolved, or refused with 409; never stored as literal bulkId: strings",
    level=Level.MUST,
    ref="RFC 7644 §3.7.1 (MUST try to resolve circular cross-references, MAY stop and return 409)",
    tags={"bulk"},
    requires={BULK},
)
def circular(ctx: CheckContext) -> None:
    extension = urns.ENTERPRISE_USER
    first = _post(ctx, "one", ctx.name("b") + "@example.com")
    second = _post(ctx, "two", ctx.name("b") + "@example.com")
    first["data"][extension] = {"manager": {"value": "bulkId:two"}}
    second["data"][extension] = {"manager": {"value": "bulkId:one"}}
    first["data"]["schemas"] = [urns.USER, extension]
    second["data"]["schemas"] = [urns.USER, extension]
    results = _by_bulk_id(_send(ctx, first, second))
    for bulk_id in ("one", "two"):
        item = results.get(bulk_id)
        status = _status(item)
        ctx.expect(
            status in ("201", "409"),
            "a circular reference was answered neither 201 nor 409",
            expected='"201" or "409"',
            actual=json.dumps(item)[:200],
        )
        if status == "201":
            doc = ctx.fetch(f"/Users/{_id_of(item)}")
            manager = (doc.get(extension) or {}).get("manager") or {}
            ctx.expect(
                not str(manager.get("value", "")).startswith("bulkId:"),
                "a created user keeps the unresolved bulkId: reference",
                expected="the other user's id, or 409",
                actual=json.dumps(manager),
            )


@SUITE.check(
    "rfc7644-3.7.3-continue",
    "Without failOnErrors, the operations after a failed one still run",
    level=Level.MUST,
    ref="RFC 7644 §3.7 (the service provider MUST continue performing as many changes as possible and disregard"
    " partial failures)",
    tags={"bulk", "errors"},
    requires={BULK},
)
def continue_after_errors(ctx: CheckContext) -> None:
    taken = ctx.create_user()["userName"]
    results = _by_bulk_id(
        _send(ctx, _post(ctx, "duplicate", taken), _post(ctx, "after", ctx.name("b") + "@example.com"))
    )
    ctx.expect(
        _status(results.get("duplicate")).startswith("4"),
        "a POST of a userName already held was not refused",
        expected="a 4xx status",
        actual=_status(results.get("duplicate")),
    )
    ctx.expect(
        _status(results.get("after")) == "201",
        "the operation after the failed one did not run",
        expected='"status": "201" for the second operation',
        actual=json.dumps(results.get("after")),
    )


@SUITE.check(
    "rfc7644-3.7.3-fail-on-errors",
    "failOnErrors stops the request after that many errors and answers only what ran",
    level=Level.MUST,
    ref="RFC 7644 §3.7 (failOnErrors: the number of errors accepted before the operation is terminated) and"
    " §3.7.3 (the response holds the error and the results before it)",
    tags={"bulk", "errors"},
    requires={BULK},
)
def fail_on_errors(ctx: CheckContext) -> None:
    taken = ctx.create_user()["userName"]
    later = ctx.name("b") + "@example.com"
    results = _send(ctx, _post(ctx, "duplicate", taken), _post(ctx, "later", later), failOnErrors=1)
    ran = [str(item.get("bulkId")) for item in results]
    ctx.expect(
        ran == ["duplicate"],
        "operations ran after failOnErrors was reached",
        expected='["duplicate"]',
        actual=json.dumps(ran),
    )
    found = ctx.search("/Users", f'userName eq "{later}"')
    for rid in ctx.ids(found):
        ctx.track(f"/Users/{rid}")
    ctx.expect(
        found["totalResults"] == 0,
        "the operation after the limit was applied",
        expected="no such user",
        actual=f"{found['totalResults']} found",
    )


@SUITE.check(
    "rfc7644-3.7.3-error-response",
    "A failed operation carries the SCIM Error body the single request would have answered",
    level=Level.MUST,
    ref="RFC 7644 §3.7 (response: for a status other than 2xx the response body MUST be included) and §3.12",
    tags={"bulk", "errors"},
    requires={BULK},
)
def error_response(ctx: CheckContext) -> None:
    taken = ctx.create_user()["userName"]
    item = _by_bulk_id(_send(ctx, _post(ctx, "duplicate", taken))).get("duplicate")
    body = (item or {}).get("response")
    ctx.expect(
        isinstance(body, dict)
        and urns.ERROR in (body.get("schemas") or [])
        and str(body.get("status")) == _status(item),
        "the failed operation has no Error body with its status",
        expected=f'response: {{"schemas": ["{urns.ERROR}"], "status": "{_status(item)}", ...}}',
        actual=json.dumps(item)[:200],
    )


@SUITE.check(
    "rfc7644-3.7.3-uniqueness",
    "A duplicate userName in a Bulk POST is answered 409 uniqueness, as alone",
    level=Level.MUST,
    ref="RFC 7644 §3.7.3 (each status is what the single request would have returned) and §3.3 (409 uniqueness)",
    tags={"bulk", "errors"},
    requires={BULK},
)
def uniqueness(ctx: CheckContext) -> None:
    taken = ctx.create_user()["userName"]
    item = _by_bulk_id(_send(ctx, _post(ctx, "duplicate", taken))).get("duplicate")
    body = (item or {}).get("response") or {}
    ctx.expect(
        _status(item) == "409" and body.get("scimType") == "uniqueness",
        "a duplicate userName was not answered 409 uniqueness",
        expected='"status": "409", scimType uniqueness',
        actual=json.dumps(item)[:200],
    )


@SUITE.check(
    "rfc7644-3.7-version",
    "An operation's version is its If-Match: a stale one is answered 412 and changes nothing",
    level=Level.MUST,
    ref="RFC 7644 §3.7 (version: the resource version, as If-Match) and §3.14 (412 when it does not match)",
    tags={"bulk", "etag"},
    requires={BULK, "etag"},
)
def version(ctx: CheckContext) -> None:
    user = ctx.create_user()
    patch = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "Stale"}]}
    stale = {"method": "PATCH", "path": f"/Users/{user['id']}", "version": 'W/"aup-stale-version"', "data": patch}
    results = _send(ctx, stale)
    ctx.expect(
        results and _status(results[0]) == "412",
        "a stale version was not answered 412",
        expected='"412"',
        actual=json.dumps(results)[:200],
    )
    ctx.expect(
        ctx.fetch(f"/Users/{user['id']}").get("displayName") != "Stale",
        "the PATCH with a stale version was applied",
        expected="the user unchanged",
        actual="displayName Stale",
    )


@SUITE.check(
    "rfc7644-3.7.4-max-operations",
    "More operations than maxOperations are refused with 413 naming the limit",
    level=Level.MUST,
    ref="RFC 7644 §3.7.4 (if either limit is exceeded the service provider MUST return 413 and MUST specify the"
    " limit exceeded in the body)",
    tags={"bulk", "errors"},
    requires={BULK},
)
def max_operations(ctx: CheckContext) -> None:
    limit = ctx.capabilities.setting("bulk", "maxOperations")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_OPERATIONS_TRIED:
        ctx.skip(f"bulk.maxOperations is {json.dumps(limit)}: no limit this check can exceed cheaply")
    missing = ctx.name("gone")
    operations = [{"method": "DELETE", "path": f"/Users/{missing}-{n}"} for n in range(limit + 1)]
    response = ctx.scim.post("/Bulk", {"schemas": [urns.BULK_REQUEST], "Operations": operations})
    doc = ctx.expect_error(response, 413)
    ctx.expect(
        str(limit) in str(doc.get("detail", "")),
        "the 413 does not name the limit that was exceeded",
        expected=f"a detail naming maxOperations ({limit})",
        actual=json.dumps(doc.get("detail")),
    )
