"""Versioning (RFC 7644 §3.14; RFC 7232): ETag on reads, 304 for a current copy, 412 for a stale write."""

from __future__ import annotations

import json

from conformance.context import CheckContext
from conformance.model import Level
from conformance.registry import Suite
from scimcore import urns

SUITE = Suite("rfc")

ETAG_REF = "RFC 7644 §3.14"


def _versioned(ctx: CheckContext) -> tuple[str, str]:
    user = ctx.create_user()
    path = f"/Users/{user['id']}"
    response = ctx.scim.get(path)
    doc = ctx.obj(response)
    etag = response.headers.get("etag")
    ctx.expect(etag, "GET returned no ETag header", expected='ETag: W/"..."', actual="none")
    version = (doc.get("meta") or {}).get("version")
    ctx.expect(
        version == etag, "meta.version differs from the ETag header", expected=str(etag), actual=json.dumps(version)
    )
    assert etag is not None
    return path, etag


@SUITE.check(
    "rfc7644-3.14-etag",
    "A resource carries its version in the ETag header and meta.version",
    level=Level.MUST,
    ref=ETAG_REF + " (the version SHALL be returned in ETag and meta.version)",
    tags={"etag"},
    requires={"etag"},
)
def etag_present(ctx: CheckContext) -> None:
    path, etag = _versioned(ctx)
    body = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "Versioned"}]}
    ctx.expect_status(ctx.scim.patch(path, body), 200, 204)  # both are success (RFC 7644 §3.5.2)
    after = ctx.scim.get(path)
    ctx.expect(
        after.headers.get("etag") != etag,
        "the ETag did not change with the resource",
        expected="a new ETag",
        actual=str(after.headers.get("etag")),
    )


@SUITE.check(
    "rfc7644-3.14-if-none-match-304",
    "GET with If-None-Match of the current version answers 304",
    level=Level.SHOULD,
    ref=ETAG_REF + "; RFC 7232 §3.2",
    tags={"etag"},
    requires={"etag"},
)
def if_none_match(ctx: CheckContext) -> None:
    path, etag = _versioned(ctx)
    ctx.expect_status(ctx.raw("GET", path, headers={"If-None-Match": etag}), 304)


@SUITE.check(
    "rfc7644-3.14-if-match-412",
    "PUT with a stale If-Match is refused with 412 and changes nothing",
    level=Level.MUST,
    ref=ETAG_REF + "; RFC 7232 §3.1; RFC 7644 §3.12 (412 preconditionFailed)",
    tags={"etag", "errors"},
    requires={"etag"},
)
def if_match_stale(ctx: CheckContext) -> None:
    path, etag = _versioned(ctx)
    current = ctx.fetch(path)
    current["displayName"] = "Stale Write"
    stale = 'W/"aup-conformance-stale"' if etag != 'W/"aup-conformance-stale"' else 'W/"other"'
    body = json.dumps(current).encode()
    response = ctx.raw("PUT", path, content=body, headers={"If-Match": stale, "Content-Type": "application/scim+json"})
    ctx.expect_error(response, 412)
    ctx.expect(
        ctx.fetch(path).get("displayName") != "Stale Write",
        "the stale PUT was applied",
        expected="unchanged",
        actual="Stale Write",
    )


@SUITE.check(
    "rfc7644-3.14-if-match-current",
    "PUT with the current If-Match succeeds",
    level=Level.MUST,
    ref=ETAG_REF + "; RFC 7232 §3.1",
    tags={"etag"},
    requires={"etag"},
)
def if_match_current(ctx: CheckContext) -> None:
    path, etag = _versioned(ctx)
    current = ctx.fetch(path)
    current["displayName"] = "Current Write"
    response = ctx.raw(
        "PUT",
        path,
        content=json.dumps(current).encode(),
        headers={"If-Match": etag, "Content-Type": "application/scim+json"},
    )
    ctx.expect_status(response, 200)
