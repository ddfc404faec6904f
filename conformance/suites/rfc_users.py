"""Users: create, read, replace, delete, uniqueness, and the error and media-type rules around them
(RFC 7644 §3.1-§3.6, §3.8, §3.12; RFC 7643 §3-§4)."""

from __future__ import annotations

import json

from conformance.context import JSON_TYPES, CheckContext
from conformance.helpers import MISSING_ID
from conformance.model import Level
from conformance.references import OKTA_SPEC_TEST, OKTA_WIZARD
from conformance.registry import Suite
from scimcore import urns

SUITE = Suite("rfc")


@SUITE.check(
    "rfc7644-3.3-create-user",
    "POST /Users creates the user: 201 with id, meta and the attributes sent",
    level=Level.MUST,
    ref="RFC 7644 §3.3; RFC 7643 §3.1 (id, meta)",
    tags={"users", "crud"},
)
def create_user(ctx: CheckContext) -> None:
    body = ctx.user_body()
    response = ctx.scim.post("/Users", body)
    doc = ctx.obj(response, status=201)
    rid = doc.get("id")
    if isinstance(rid, str) and rid:
        ctx.track(f"/Users/{rid}")
    ctx.expect(
        isinstance(rid, str) and rid,
        "the created user has no id",
        expected="a non-empty string id",
        actual=json.dumps(rid),
    )
    ctx.expect(
        doc.get("userName") == body["userName"],
        "the created user does not echo userName",
        expected=body["userName"],
        actual=json.dumps(doc.get("userName")),
    )
    meta = doc.get("meta")
    ctx.expect(
        isinstance(meta, dict) and meta.get("resourceType") == "User",
        "meta.resourceType is not 'User'",
        expected='"meta": {"resourceType": "User", ...}',
        actual=json.dumps(meta),
    )


@SUITE.check(
    "rfc7644-3.3-create-location",
    "A 201 names the new resource in the Location header and meta.location",
    level=Level.MUST,
    ref="RFC 7644 §3.3 (Location header and meta.location SHALL be set); §3.1",
    tags={"users", "crud", "headers"},
)
def create_location(ctx: CheckContext) -> None:
    response = ctx.scim.post("/Users", ctx.user_body())
    doc = ctx.obj(response, status=201)
    rid = str(doc.get("id"))
    ctx.track(f"/Users/{rid}")
    location = response.headers.get("location")
    ctx.expect(location, "the 201 has no Location header", expected=f"Location: .../Users/{rid}", actual="none")
    assert location is not None
    ctx.expect(
        location.rstrip("/").endswith(f"/Users/{rid}"),
        "Location does not name the new user",
        expected=f".../Users/{rid}",
        actual=location,
    )
    meta_location = (doc.get("meta") or {}).get("location")
    ctx.expect(
        meta_location == location,
        "meta.location differs from the Location header",
        expected=location,
        actual=json.dumps(meta_location),
    )


@SUITE.check(
    "rfc7644-3.4.1-get-user",
    "GET /Users/{id} returns the user",
    level=Level.MUST,
    ref="RFC 7644 §3.4.1",
    tags={"users", "crud"},
)
def get_user(ctx: CheckContext) -> None:
    created = ctx.create_user()
    doc = ctx.fetch(f"/Users/{created['id']}")
    ctx.expect(
        doc.get("id") == created["id"],
        "GET returned another resource",
        expected=created["id"],
        actual=json.dumps(doc.get("id")),
    )
    ctx.expect(
        doc.get("userName") == created["userName"],
        "GET returned another userName",
        expected=created["userName"],
        actual=json.dumps(doc.get("userName")),
    )
    ctx.expect(
        urns.USER in (doc.get("schemas") or []),
        "the user does not name the core User schema",
        expected=urns.USER,
        actual=json.dumps(doc.get("schemas")),
    )


@SUITE.check(
    "rfc7644-3.12-get-missing-404",
    "GET of an unknown id answers 404 with a SCIM Error",
    level=Level.MUST,
    ref="RFC 7644 §3.12 (Table 8: 404); §3.4.1",
    tags={"users", "errors"},
)
def get_missing(ctx: CheckContext) -> None:
    ctx.expect_error(ctx.scim.get(f"/Users/{MISSING_ID}"), 404)


@SUITE.check(
    "rfc7644-3.5.1-put-user",
    "PUT /Users/{id} replaces the user and returns it",
    level=Level.MUST,
    ref="RFC 7644 §3.5.1",
    tags={"users", "crud", "put"},
)
def put_user(ctx: CheckContext) -> None:
    created = ctx.create_user()
    body = ctx.user_body(
        created["userName"], name={"givenName": "Grace", "familyName": "Hopper"}, displayName="Grace Hopper"
    )
    doc = ctx.obj(ctx.scim.put(f"/Users/{created['id']}", body))
    ctx.expect(
        doc.get("id") == created["id"], "PUT changed the id", expected=created["id"], actual=json.dumps(doc.get("id"))
    )
    stored = ctx.fetch(f"/Users/{created['id']}")
    ctx.expect(
        (stored.get("name") or {}).get("givenName") == "Grace",
        "PUT did not replace name.givenName",
        expected="Grace",
        actual=json.dumps(stored.get("name")),
    )
    ctx.expect(
        stored.get("displayName") == "Grace Hopper",
        "PUT did not replace displayName",
        expected="Grace Hopper",
        actual=json.dumps(stored.get("displayName")),
    )


@SUITE.check(
    "rfc7644-3.5.1-put-ignores-read-only",
    "PUT that echoes readOnly id and meta (as GET returned them) succeeds",
    level=Level.MUST,
    ref=(
        "RFC 7644 §3.5.1 (readOnly values in a PUT SHALL be ignored); "
        f"Okta apps built with the App Integration Wizard update by GET then PUT of the full body: {OKTA_WIZARD}; "
        "docs/okta-idp.md §5"
    ),
    tags={"users", "put"},
)
def put_echoes_read_only(ctx: CheckContext) -> None:
    created = ctx.create_user()
    current = ctx.fetch(f"/Users/{created['id']}")
    current["displayName"] = "Changed Name"
    doc = ctx.obj(ctx.scim.put(f"/Users/{created['id']}", current))
    ctx.expect(
        doc.get("displayName") == "Changed Name",
        "the PUT did not take effect",
        expected="Changed Name",
        actual=json.dumps(doc.get("displayName")),
    )


@SUITE.check(
    "rfc7644-3.12-put-missing-404",
    "PUT of an unknown id answers 404",
    level=Level.MUST,
    ref="RFC 7644 §3.5.1; §3.12",
    tags={"users", "errors", "put"},
)
def put_missing(ctx: CheckContext) -> None:
    ctx.expect_error(ctx.scim.put(f"/Users/{MISSING_ID}", ctx.user_body()), 404)


@SUITE.check(
    "rfc7644-3.6-delete-user",
    "DELETE /Users/{id} answers 204 and the user is gone",
    level=Level.MUST,
    ref="RFC 7644 §3.6 (204; later requests for the resource answer 404)",
    tags={"users", "crud", "delete"},
)
def delete_user(ctx: CheckContext) -> None:
    created = ctx.create_user()
    path = f"/Users/{created['id']}"
    response = ctx.scim.delete(path)
    ctx.expect_status(response, 204)
    ctx.forget(path)
    ctx.expect_error(ctx.scim.get(path), 404)
    found = ctx.search("/Users", f'userName eq "{created["userName"]}"')
    ctx.expect(
        not ctx.ids(found),
        "the deleted user is still found by a filter",
        expected="no results",
        actual=json.dumps(ctx.ids(found)),
    )


@SUITE.check(
    "rfc7644-3.6-delete-missing-404",
    "DELETE of an unknown id answers 404",
    level=Level.MUST,
    ref="RFC 7644 §3.6; §3.12",
    tags={"users", "errors", "delete"},
)
def delete_missing(ctx: CheckContext) -> None:
    ctx.expect_error(ctx.scim.delete(f"/Users/{MISSING_ID}"), 404)


@SUITE.check(
    "rfc7644-3.3-duplicate-409",
    "A second user with the same userName is refused with 409 uniqueness",
    level=Level.MUST,
    ref="RFC 7644 §3.3 (409 when a unique attribute is taken); §3.12 (scimType uniqueness); RFC 7643 §4.1.1",
    tags={"users", "errors", "uniqueness"},
)
def duplicate_user(ctx: CheckContext) -> None:
    created = ctx.create_user()
    response = ctx.scim.post("/Users", ctx.user_body(created["userName"]))
    if response.status_code == 201:
        ctx.track(f"/Users/{ctx.json(response).get('id')}")
    ctx.expect_error(response, 409, "uniqueness")


@SUITE.check(
    "rfc7643-2.1-username-case-insensitive-unique",
    "userName uniqueness ignores case: 'Ann' and 'ann' are the same user",
    level=Level.MUST,
    ref="RFC 7643 §4.1.1 (userName caseExact false, uniqueness server); §2.1",
    tags={"users", "uniqueness", "case"},
)
def username_case_unique(ctx: CheckContext) -> None:
    created = ctx.create_user(ctx.name("Mixed") + "@Example.com")
    response = ctx.scim.post("/Users", ctx.user_body(created["userName"].upper()))
    if response.status_code == 201:
        ctx.track(f"/Users/{ctx.json(response).get('id')}")
    ctx.expect_error(response, 409, "uniqueness")


@SUITE.check(
    "rfc7643-4.1-username-case-preserved",
    "userName is stored and returned with the case it was sent in",
    level=Level.SHOULD,
    ref=(
        "RFC 7643 §2.1 (case-insensitive comparison, not case folding); "
        f"Okta's SPEC test reads the userName back as sent: {OKTA_SPEC_TEST}; docs/okta-idp.md §10.9"
    ),
    tags={"users", "case"},
)
def username_case_preserved(ctx: CheckContext) -> None:
    user_name = ctx.name("CamelCase") + "@Example.COM"
    created = ctx.create_user(user_name)
    doc = ctx.fetch(f"/Users/{created['id']}")
    ctx.expect(
        doc.get("userName") == user_name,
        "userName came back in another case",
        expected=user_name,
        actual=json.dumps(doc.get("userName")),
    )


@SUITE.check(
    "rfc7644-3.3-missing-required-400",
    "A user without userName is refused with 400",
    level=Level.MUST,
    ref="RFC 7643 §4.1.1 (userName REQUIRED); RFC 7644 §3.3, §3.12 (invalidValue)",
    tags={"users", "errors"},
)
def missing_user_name(ctx: CheckContext) -> None:
    body = ctx.user_body()
    del body["userName"]
    response = ctx.scim.post("/Users", body)
    if response.status_code == 201:
        ctx.track(f"/Users/{ctx.json(response).get('id')}")
    ctx.expect_error(response, 400)


@SUITE.check(
    "rfc7644-3.12-malformed-json-400",
    "A body that is not JSON is refused with 400 invalidSyntax",
    level=Level.MUST,
    ref="RFC 7644 §3.12 (400 invalidSyntax)",
    tags={"users", "errors"},
)
def malformed_json(ctx: CheckContext) -> None:
    response = ctx.raw("POST", "/Users", content=b'{"userName": ', headers={"Content-Type": urns.MEDIA_TYPE})
    ctx.expect_error(response, 400, "invalidSyntax")


@SUITE.check(
    "rfc7644-2-unauthenticated-401",
    "A request without credentials is refused with 401",
    level=Level.MUST,
    ref="RFC 7644 §2 (authentication); §3.12 (Table 8: 401)",
    tags={"auth", "errors"},
)
def unauthenticated(ctx: CheckContext) -> None:
    if ctx.endpoint.auth is None:
        ctx.skip("the run has no credentials, so an unauthenticated request proves nothing")
    ctx.expect_error(ctx.raw("GET", "/Users", authenticated=False), 401)


@SUITE.check(
    "rfc7644-2-bad-token-401",
    "A request with a wrong bearer token is refused with 401",
    level=Level.MUST,
    ref="RFC 7644 §2; RFC 6750 §3.1 (invalid_token: 401)",
    tags={"auth", "errors"},
)
def bad_token(ctx: CheckContext) -> None:
    if ctx.endpoint.auth is None:
        ctx.skip("the run has no credentials, so a wrong token proves nothing")
    response = ctx.raw(
        "GET", "/Users", authenticated=False, headers={"Authorization": "Bearer aup-conformance-not-a-token"}
    )
    ctx.expect_error(response, 401)


@SUITE.check(
    "rfc7644-3.8-response-media-type",
    "Responses with a body are application/scim+json",
    level=Level.SHOULD,
    ref="RFC 7644 §3.8 and §8.1 (application/scim+json)",
    tags={"headers", "media-type"},
)
def response_media_type(ctx: CheckContext) -> None:
    created = ctx.create_user()
    for response in (
        ctx.scim.get(f"/Users/{created['id']}"),
        ctx.scim.get("/Users", [("count", 1)]),
        ctx.scim.get(f"/Users/{MISSING_ID}"),
    ):
        ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
        ctx.expect(
            ctype == urns.MEDIA_TYPE,
            f"{response.request.method} {response.request.url.path} answered Content-Type {ctype or 'none'}",
            expected=urns.MEDIA_TYPE,
            actual=ctype or "none",
        )


@SUITE.check(
    "rfc7644-3.8-accepts-application-json",
    "Requests sent as application/json are accepted like application/scim+json",
    level=Level.SHOULD,
    ref="RFC 7644 §3.8 (application/json is the generic JSON type clients may send); docs/entra-idp.md §1",
    tags={"headers", "media-type"},
)
def accepts_application_json(ctx: CheckContext) -> None:
    body = json.dumps(ctx.user_body()).encode()
    response = ctx.raw("POST", "/Users", content=body, headers={"Content-Type": JSON_TYPES[1], "Accept": JSON_TYPES[1]})
    if response.status_code == 201:
        ctx.track(f"/Users/{ctx.json(response).get('id')}")
    ctx.expect_status(response, 201)


@SUITE.check(
    "rfc7643-3.1-meta",
    "Resources carry meta.created, meta.lastModified and meta.location",
    level=Level.SHOULD,
    ref="RFC 7643 §3.1 (meta sub-attributes)",
    tags={"users", "meta"},
)
def meta_attributes(ctx: CheckContext) -> None:
    created = ctx.create_user()
    meta = ctx.fetch(f"/Users/{created['id']}").get("meta")
    ctx.expect(isinstance(meta, dict), "the user has no meta", expected="a meta object", actual=json.dumps(meta))
    assert isinstance(meta, dict)
    missing = [key for key in ("created", "lastModified", "location") if not meta.get(key)]
    ctx.expect(
        not missing,
        f"meta lacks {', '.join(missing)}",
        expected="created, lastModified, location",
        actual=json.dumps(meta),
    )


@SUITE.check(
    "rfc7643-3.1-client-id-ignored",
    "An id sent by the client on create is not used: the server assigns ids",
    level=Level.MUST,
    ref="RFC 7643 §3.1 (id is assigned by the service provider); RFC 7644 §3.3 (readOnly values SHALL be ignored)",
    tags={"users", "crud"},
)
def client_id_ignored(ctx: CheckContext) -> None:
    body = ctx.user_body(id="client-chosen-id-" + ctx.run_id)
    response = ctx.scim.post("/Users", body)
    doc = ctx.obj(response, status=201)
    ctx.track(f"/Users/{doc.get('id')}")
    ctx.expect(
        doc.get("id") != body["id"],
        "the server used the client's id",
        expected="a server-assigned id",
        actual=json.dumps(doc.get("id")),
    )
