"""What Okta needs from a service provider for users, in Okta's own request shapes (docs/okta-idp.md §2-§8).

Flows (lookup-before-create, profile push, lifecycle) drive the real Okta emulator against the target
and judge the tasks it ran and the state it left; single request shapes are sent with Okta's exact
header set and encodings. Everything is named with the run prefix and removed afterwards.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.context import CheckContext
from conformance.idp import Okta, burst, directory, okta_scim, person, recover, retry_after_seconds
from conformance.model import Level
from conformance.references import OKTA_CONCEPTS, OKTA_CRUD_TEST, OKTA_SCIM, OKTA_SPEC_TEST, OKTA_WIZARD
from conformance.registry import Suite
from emulators.okta import OKTA_AIW, OKTA_OIN, OktaSettings, payloads
from scimcore.client import eq_filter

SUITE = Suite("okta")


def _user(ctx: CheckContext, scim_id: str) -> dict[str, Any]:
    return ctx.fetch(f"/Users/{scim_id}")


def _count_named(ctx: CheckContext, user_name: str) -> int:
    return len(ctx.ids(ctx.search("/Users", eq_filter("userName", user_name))))


@SUITE.check(
    "okta-test-connection",
    "Okta's connection test (GET /Users?startIndex=1&count=2, /Groups?startIndex=1&count=100) gets a "
    "ListResponse with integer counts",
    level=Level.MUST,
    ref=(
        f"Okta's test connection queries: {OKTA_SCIM}; "
        "RFC 7644 §3.4.2 (totalResults, startIndex, itemsPerPage are integers); docs/okta-idp.md §3"
    ),
    tags={"connection", "list"},
)
def test_connection(ctx: CheckContext) -> None:
    scim = okta_scim(ctx)
    for endpoint, query in (("/Users", OKTA_OIN.connection_test_users), ("/Groups", OKTA_OIN.connection_test_groups)):
        doc = ctx.list_response(scim.get(endpoint, query))
        for key in ("totalResults", "startIndex", "itemsPerPage"):
            value = doc.get(key)
            ctx.expect(
                isinstance(value, int) and not isinstance(value, bool),
                f"GET {endpoint}: {key} is not a JSON integer",
                expected=f'"{key}": <integer>',
                actual=f'"{key}": {json.dumps(value)}',
            )


@SUITE.check(
    "okta-content-type-charset",
    "A body sent as 'application/scim+json; charset=utf-8' (Okta's Content-Type) is read",
    level=Level.MUST,
    ref=(
        f"Okta sends Content-Type application/scim+json; charset=utf-8: {OKTA_CONCEPTS}; RFC 7644 §3.1, §8.1; "
        "docs/okta-idp.md §2 and §10.7 (frameworks that ignore the charset parameter see an empty body)"
    ),
    tags={"headers", "media-type"},
)
def content_type_charset(ctx: CheckContext) -> None:
    body = ctx.user_body()
    response = okta_scim(ctx).post("/Users", body)
    doc = ctx.obj(response, status=201)
    ctx.track(f"/Users/{doc.get('id')}")
    ctx.expect(
        doc.get("userName") == body["userName"],
        "the user created from Okta's body does not carry the userName sent",
        expected=body["userName"],
        actual=json.dumps(doc.get("userName")),
    )


@SUITE.check(
    "okta-lookup-before-create",
    "Okta's userName lookup finds a user that already exists, so Okta links it instead of creating a duplicate",
    level=Level.MUST,
    ref=(
        f"Okta looks a user up with filter=userName eq before it creates one: {OKTA_SCIM}; RFC 7644 §3.4.2.2; "
        "docs/okta-idp.md §4 (an existing account is linked, not duplicated)"
    ),
    tags={"users", "filter", "lookup"},
    hint=(
        'answer filter=userName eq "..." with a ListResponse (an empty one when nobody matches), so Okta links '
        "instead of creating a duplicate"
    ),
)
def lookup_before_create(ctx: CheckContext) -> None:
    known, fresh = person(ctx, "known"), person(ctx, "fresh")
    existing = ctx.create_user(known.login)  # e.g. created earlier by SAML JIT
    okta = Okta(ctx, directory([known, fresh], assigned=[known, fresh]))
    okta.expect_done(okta.emulator.provision_user(known.id) + okta.emulator.provision_user(fresh.id), "provision")
    ctx.expect(
        okta.user_id(known) == existing["id"],
        "Okta's lookup did not find the existing user, so Okta linked another resource",
        expected=f"linked to {existing['id']}",
        actual=f"linked to {okta.user_id(known)}",
    )
    ctx.expect(
        _count_named(ctx, known.login) == 1,
        "the existing user was created a second time",
        expected=f"one user named {known.login}",
        actual=f"{_count_named(ctx, known.login)} users",
    )
    _user(ctx, okta.user_id(fresh))


@SUITE.check(
    "okta-create-201-with-id",
    "Okta's POST /Users (with password, groups:[] and externalId) is answered 201 with the full user and its id",
    level=Level.MUST,
    ref=(
        f"Okta expects 201 with the created user and its id: {OKTA_SCIM}; RFC 7644 §3.3; "
        "docs/okta-idp.md §4 and §10.6 (Okta reports 'Create new user returned empty user' otherwise)"
    ),
    tags={"users", "crud"},
    hint="answer Okta's POST /Users with 201 and the full user with its id",
)
def create_201(ctx: CheckContext) -> None:
    user = person(ctx, "new")
    okta = Okta(ctx, directory([user], assigned=[user]))
    okta.expect_done(okta.emulator.provision_user(user.id), "create the user")
    post = next((e for e in reversed(ctx.wiretap.exchanges) if e.method == "POST" and e.url.endswith("/Users")), None)
    ctx.expect(
        post is not None,
        "Okta sent no POST: its userName lookup matched a user that does not exist",
        expected="an empty lookup, then POST /Users",
        actual="no POST",
    )
    assert post is not None
    ctx.expect(post.status == 201, f"POST /Users answered {post.status}", expected="201", actual=str(post.status))
    created = post.response_body if isinstance(post.response_body, dict) else {}
    ctx.expect(
        created.get("userName") == user.login and created.get("id") == okta.user_id(user),
        "the 201 does not carry the created user with its id",
        expected=f'{{"id": "{okta.user_id(user)}", "userName": "{user.login}", ...}}',
        actual=json.dumps(created)[:200],
    )
    _user(ctx, okta.user_id(user))  # Okta uses the returned id in every later URL (docs/okta-idp.md §4.4)


@SUITE.check(
    "okta-duplicate-409",
    "Okta's POST for a userName that exists is refused with 409 and a SCIM Error with detail",
    level=Level.MUST,
    ref=(
        f"Okta expects 409 with a SCIM Error when the user exists: {OKTA_SCIM}; RFC 7644 §3.3, §3.12; "
        "docs/okta-idp.md §4 and §8 (the error stops the task; its detail is shown in Tasks)"
    ),
    tags={"users", "errors", "uniqueness"},
)
def duplicate_409(ctx: CheckContext) -> None:
    user = person(ctx, "dup")
    okta = Okta(ctx, directory([user], assigned=[user]))
    okta.expect_done(okta.emulator.provision_user(user.id), "create the user")
    body = payloads.user_create_body(okta.emulator.users.mapped(user), external_id=user.id, profile=OKTA_OIN)
    response = okta_scim(ctx).post("/Users", body)
    if response.status_code == 201:
        ctx.track(f"/Users/{ctx.json(response).get('id')}")
    doc = ctx.expect_error(response, 409)
    ctx.expect(doc.get("detail"), "the 409 Error has no detail", expected='"detail": "..."', actual=json.dumps(doc))


@SUITE.check(
    "okta-username-case-preserved",
    "A mixed-case userName comes back exactly as sent, and the all-caps lookup still answers 200",
    level=Level.MUST,
    ref=(
        f"Okta SPEC test steps 6 and 9 read the userName back as sent: {OKTA_SPEC_TEST}; RFC 7643 §2.1; "
        "docs/okta-idp.md §10.9 (lowercasing userName fails Okta's review)"
    ),
    tags={"users", "case"},
)
def username_case(ctx: CheckContext) -> None:
    user = person(ctx, "CamelCase")
    user.profile["login"] = user.profile["email"] = f"{user.id}@Example.COM"
    okta = Okta(ctx, directory([user], assigned=[user]))
    okta.expect_done(okta.emulator.provision_user(user.id), "create the user")
    doc = _user(ctx, okta.user_id(user))
    ctx.expect(
        doc.get("userName") == user.login,
        "userName came back in another case",
        expected=user.login,
        actual=json.dumps(doc.get("userName")),
    )
    query: list[tuple[str, str | int]] = [("filter", eq_filter("userName", user.login.upper()))]
    query += OKTA_OIN.lookup_page
    ctx.list_response(okta_scim(ctx).get("/Users", query))


@SUITE.check(
    "okta-profile-put-echo",
    "Okta's profile push (GET, then PUT of the server's own body with id, meta and groups:[]) is applied",
    level=Level.MUST,
    ref=(
        f"Okta updates a profile by GET then PUT of the full user: {OKTA_SCIM}; "
        "RFC 7644 §3.5.1 (readOnly values in a PUT SHALL be ignored); docs/okta-idp.md §5 and §10.8"
    ),
    tags={"users", "put"},
)
def profile_put(ctx: CheckContext) -> None:
    user = person(ctx, "put")
    okta = Okta(ctx, directory([user], assigned=[user]))
    okta.expect_done(okta.emulator.provision_user(user.id), "create the user")
    tasks = okta.emulator.update_profile(user.id, {"lastName": "Byron", "displayName": "Ada Byron"})
    okta.expect_done(tasks, "push the profile update")
    doc = _user(ctx, okta.user_id(user))
    name = doc.get("name") or {}
    ctx.expect(
        name.get("familyName") == "Byron" and doc.get("displayName") == "Ada Byron",
        "the PUT did not take effect",
        expected='name.familyName "Byron", displayName "Ada Byron"',
        actual=f"name {json.dumps(name)}, displayName {json.dumps(doc.get('displayName'))}",
    )


def _deactivated(ctx: CheckContext, user_id: str, login: str) -> None:
    doc = _user(ctx, user_id)
    ctx.expect(
        doc.get("active") is False,
        f"{login} is still active after Okta deactivated it",
        expected='"active": false',
        actual=f'"active": {json.dumps(doc.get("active"))}',
    )


@SUITE.check(
    "okta-deactivate-patch",
    "Okta's path-less deactivate PATCH {op: replace, value: {active: false}} deactivates and keeps the user",
    level=Level.MUST,
    ref=(
        f"Okta deactivates with PATCH active false: {OKTA_SCIM}; RFC 7644 §3.5.2.3; "
        "docs/okta-idp.md §6 and §10.1 (servers that only handle path 'active' break)"
    ),
    tags={"users", "patch", "lifecycle"},
)
def deactivate_patch(ctx: CheckContext) -> None:
    user = person(ctx, "off")
    okta = Okta(ctx, directory([user], assigned=[user]))
    okta.expect_done(okta.emulator.provision_user(user.id), "create the user")
    scim_id = okta.user_id(user)
    okta.expect_done(okta.emulator.deactivate_user(user.id), "deactivate the user")
    _deactivated(ctx, scim_id, user.login)


@SUITE.check(
    "okta-aiw-deactivate-put",
    "An AIW app's deactivation (GET, then PUT with active false) deactivates and keeps the user",
    level=Level.MUST,
    ref=(
        f"App Integration Wizard apps cannot use PATCH and deactivate by GET then PUT: {OKTA_WIZARD}; "
        "RFC 7644 §3.5.1; docs/okta-idp.md §1 and §6"
    ),
    tags={"users", "put", "lifecycle"},
)
def aiw_deactivate(ctx: CheckContext) -> None:
    user = person(ctx, "aiw")
    okta = Okta(ctx, directory([user], assigned=[user]), OKTA_AIW)
    okta.expect_done(okta.emulator.provision_user(user.id), "create the user")
    scim_id = okta.user_id(user)
    okta.expect_done(okta.emulator.deactivate_user(user.id), "deactivate the user")
    _deactivated(ctx, scim_id, user.login)


@SUITE.check(
    "okta-reactivation-keeps-id",
    "Reactivating and reassigning a deactivated user finds it again: same id, active, never a duplicate",
    level=Level.MUST,
    ref=(
        f"Okta's CRUD test steps 9-11 (the same SCIM id comes back active): {OKTA_CRUD_TEST}; "
        "docs/okta-idp.md §6 and §10.14 (deleting on active false makes Okta create a new user)"
    ),
    tags={"users", "lifecycle"},
)
def reactivation(ctx: CheckContext) -> None:
    user = person(ctx, "back")
    okta = Okta(ctx, directory([user], assigned=[user]))
    okta.expect_done(okta.emulator.provision_user(user.id), "create the user")
    first = okta.user_id(user)
    okta.expect_done(okta.emulator.deactivate_user(user.id), "deactivate the user")
    okta.expect_done(okta.emulator.reactivate_user(user.id) + okta.emulator.assign_user(user.id), "reactivate")
    ctx.expect(
        okta.user_id(user) == first,
        "the reactivated user has another id",
        expected=first,
        actual=okta.user_id(user),
    )
    doc = _user(ctx, first)
    ctx.expect(
        doc.get("active") is True, "the user is not active again", expected="true", actual=str(doc.get("active"))
    )
    ctx.expect(
        _count_named(ctx, user.login) == 1,
        "reactivation created a second user",
        expected="one user",
        actual=f"{_count_named(ctx, user.login)} users named {user.login}",
    )


@SUITE.check(
    "okta-429-retry-after",
    "A throttled request is answered 429 with an integer Retry-After and a SCIM Error",
    level=Level.SHOULD,
    ref=(
        f"Okta honours Retry-After on 429: {OKTA_CONCEPTS}; RFC 6585 §4; "
        "docs/okta-idp.md §8 (the wait when Retry-After is missing, the number of attempts)"
    ),
    tags={"throttling", "errors", "long"},
    exclusive=True,  # it spends the token's whole rate-limit budget: a check beside it would be 429ed
)
def throttle_okta(ctx: CheckContext) -> None:
    response = burst(ctx, okta_scim(ctx), OKTA_OIN.connection_test_users)
    retry_after = response.headers.get("Retry-After", "")
    recover(ctx, retry_after_seconds(retry_after))
    ctx.expect(
        retry_after.strip().isdigit(),
        "the 429 has no Retry-After in integer seconds, so Okta waits 5 minutes (doubling) before retrying",
        expected="Retry-After: <seconds>",
        actual=f"Retry-After: {retry_after or 'none'}",
    )
    ctx.expect_error(response, 429)


# -- what Okta enforces of the server's answers (docs/okta-idp.md §14) -----------------------------------------------


def _connect_and_look_up(ctx: CheckContext, stem: str) -> None:
    """Okta's connection test (users and groups) and its userName lookup before a create, as tasks that must pass."""
    user = person(ctx, stem)
    okta = Okta(ctx, directory([user], assigned=[user]), settings=OktaSettings(import_groups=True))
    tasks = okta.emulator.test_connection() + okta.emulator.provision_user(user.id)
    okta.expect_done(tasks, "test the connection and look the user up")


@SUITE.check(
    "okta-list-counts-integers",
    "The lists Okta reads (connection test, userName lookup) carry totalResults, startIndex and itemsPerPage "
    "as JSON integers, or Okta fails the task",
    level=Level.MUST,
    ref=(
        f"Okta's ListResponse examples: {OKTA_SCIM}; RFC 7644 §3.4.2 (totalResults is an integer); "
        "docs/okta-idp.md §3 and §10.10 (counts sent as strings)"
    ),
    tags={"list", "connection", "lookup"},
    exclusive=True,  # Okta's connection test parses the server's first users, unfiltered: alone, not other checks'
)
def list_counts_integers(ctx: CheckContext) -> None:
    _connect_and_look_up(ctx, "ints")


@SUITE.check(
    "okta-list-response-schema",
    "The lists Okta reads (connection test, userName lookup) list the ListResponse schema, or Okta fails the task",
    level=Level.MUST,
    ref=(
        f"Okta's SPEC test step 1 reads the ListResponse schema: {OKTA_SPEC_TEST}; RFC 7644 §3.4.2; "
        "docs/okta-idp.md §11a"
    ),
    tags={"list", "connection", "lookup"},
    exclusive=True,  # Okta's connection test parses the server's first users, unfiltered: alone, not other checks'
)
def list_response_schema(ctx: CheckContext) -> None:
    _connect_and_look_up(ctx, "lists")


@SUITE.check(
    "okta-user-active-boolean",
    "The users Okta reads (its lookup, and an AIW app's GET before PUT) carry active as a JSON boolean",
    level=Level.MUST,
    ref=f"Okta reads active as a boolean: {OKTA_SCIM}; RFC 7643 §4.1.1 (active is Boolean); docs/okta-idp.md §9 and §1",
    tags={"users", "lookup", "lifecycle"},
)
def user_active_boolean(ctx: CheckContext) -> None:
    known = person(ctx, "flag")
    ctx.create_user(known.login)
    okta = Okta(ctx, directory([known], assigned=[known]), OKTA_AIW)
    okta.expect_done(okta.emulator.provision_user(known.id), "look the user up and link it")
    okta.expect_done(okta.emulator.deactivate_user(known.id), "deactivate the user (GET, then PUT)")


@SUITE.check(
    "okta-password-sync",
    "With Sync password on, Okta's password PATCH {op: replace, value: {password}} is taken and never echoed",
    level=Level.MUST,
    ref=(
        f"OIN apps sync the user password by PATCH: {OKTA_SCIM}; RFC 7643 §4.1.1 (password is returned never); "
        "docs/okta-idp.md §6"
    ),
    tags={"users", "patch", "password"},
    hint='accept a path-less PATCH replace whose value is {"password": ...}, and never return the password',
)
def password_sync(ctx: CheckContext) -> None:
    user = person(ctx, "pw")
    okta = Okta(ctx, directory([user], assigned=[user]), settings=OktaSettings(sync_password=True))
    okta.emulator.credentials[user.id] = "Correct-Horse-1"
    okta.expect_done(okta.emulator.provision_user(user.id), "create the user with its password")
    okta.expect_done(okta.emulator.set_password(user.id, "Battery-Staple-2"), "sync the changed password")
    doc = _user(ctx, okta.user_id(user))
    ctx.expect("password" not in doc, "the server returns the password", expected="no password", actual="password")
    ctx.expect(
        doc.get("active") is True, "the password sync changed active", expected="true", actual=str(doc.get("active"))
    )


OKTA_IMPORT_MATCHING = (
    "https://help.okta.com/en-us/Content/Topics/users-groups-profiles/usgp-matching-imported-users.htm"
)


@SUITE.check(
    "okta-import-confirm-links",
    "An app user Okta imports (GET /Users by pages) and confirms as an exact match is then updated, not created again",
    level=Level.MUST,
    ref=(
        f"Okta imports page by page with startIndex and count: {OKTA_SCIM}; a confirmed match links the app user "
        f"to the Okta user: {OKTA_IMPORT_MATCHING}; "
        "RFC 7644 §3.4.2.4; docs/okta-idp.md §3"
    ),
    tags={"users", "import", "long"},
    hint="list every user on GET /Users?startIndex=1&count=100 and the next pages, with ids",
)
def import_confirm(ctx: CheckContext) -> None:
    user = person(ctx, "imp")
    existing = ctx.create_user(user.login, name={"givenName": "Old", "familyName": "Name"})
    okta = Okta(ctx, directory([user], assigned=[user]))
    result = okta.emulator.import_users()
    okta.expect_done([result.task] if result.task is not None else [], "import the app's users")
    confirmed = okta.emulator.confirm_import()
    ctx.expect(
        [match.scim_id for match in confirmed if match.okta_user == user.id] == [existing["id"]],
        "the import did not find the existing app user by its userName",
        expected=existing["id"],
        actual=json.dumps([match.scim_id for match in confirmed]),
    )
    okta.expect_done(okta.emulator.update_profile(user.id, {"lastName": "Imported"}), "push the profile")
    ctx.expect(_count_named(ctx, user.login) == 1, "the user exists twice", expected="1")
    family = (_user(ctx, existing["id"]).get("name") or {}).get("familyName")
    ctx.expect(
        family == "Imported", "the push did not reach the imported user", expected="Imported", actual=str(family)
    )
