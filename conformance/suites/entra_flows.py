"""What Microsoft Entra ID's provisioning service needs from a service provider: its test query, group
reads, matching, create, soft and hard delete, throttling (docs/entra-idp.md §2-§8).

Flows drive the real Entra cycle engine against the target and judge its provisioning log and the state
it left; single requests are sent with Entra's headers and form-encoded queries.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

import httpx

from conformance.context import CheckContext
from conformance.helpers import member_ids
from conformance.idp import Entra, burst, directory, entra_scim, person, recover, retry_after_seconds, team
from conformance.model import Level
from conformance.references import (
    COREWEAVE_AUP,
    ENTRA_ACCIDENTAL,
    ENTRA_ACTIVE_STRING,
    ENTRA_HOW,
    ENTRA_QUARANTINE,
    ENTRA_RATE_LIMITS,
    ENTRA_TIMEOUT,
    ENTRA_TUTORIAL,
)
from conformance.registry import Suite
from emulators.core.expected import differences
from emulators.entra import ENTRA_DEFAULT, Clause, EntraSettings, ScopingFilter
from emulators.entra.expected import expected_state as entra_expected_state
from emulators.entra.profile import BooleanEncoding
from emulators.entra.session import EXCLUDE_MEMBERS
from scimcore.client import eq_filter

SUITE = Suite("entra")

PROFILE = {  # a user with most default-mapped attributes (docs/entra-idp.md §9)
    "title": "Analyst",
    "department": "Research",
    "employeeNumber": "100042",
    "mobilePhone": "+44 20 7946 0000",
    "streetAddress": "12 St James's Square",
    "city": "London",
    "zipCode": "SW1Y 4JH",
    "countryCode": "GB",
}


def _search(ctx: CheckContext, user_name: str) -> list[dict[str, Any]]:
    """Entra's matching query for a userName (form-encoded, docs/entra-idp.md §2)."""
    doc = ctx.list_response(entra_scim(ctx).get("/Users", [("filter", eq_filter("userName", user_name))]))
    return [item for item in doc.get("Resources") or [] if isinstance(item, dict)]


@SUITE.check(
    "entra-test-query-random-guid",
    "Entra's test query (userName, and group displayName, eq a random GUID) gets 200 with an empty ListResponse",
    level=Level.MUST,
    ref=(
        f"Entra tests the connection with a filter on a random GUID and expects an empty list: {ENTRA_TUTORIAL}; "
        "RFC 7644 §3.4.2; "
        "docs/entra-idp.md §2 and §11 (a 400 or 404 fails Test Connection and quarantines the job)"
    ),
    tags={"connection", "filter"},
)
def test_query(ctx: CheckContext) -> None:
    scim = entra_scim(ctx)
    for endpoint, query in (
        ("/Users", [("filter", eq_filter("userName", str(uuid.uuid4())))]),
        ("/Groups", [EXCLUDE_MEMBERS, ("filter", eq_filter("displayName", str(uuid.uuid4())))]),
    ):
        doc = ctx.list_response(scim.get(endpoint, query))
        ctx.expect(
            doc["totalResults"] == 0 and not doc.get("Resources"),
            f"GET {endpoint} with a random GUID matched something",
            expected='"totalResults": 0, "Resources": []',
            actual=f'"totalResults": {doc["totalResults"]}, {len(doc.get("Resources") or [])} resources',
        )


@SUITE.check(
    "entra-match-user-any-case",
    "Entra's matching query finds an existing user whose userName differs only in case, so Entra links it",
    level=Level.MUST,
    ref=(
        f"Entra matches a user by userName, then links and PATCHes it: {ENTRA_TUTORIAL}; "
        "RFC 7643 §2.1 (userName is case-insensitive); docs/entra-idp.md §3.1 and §6"
    ),
    tags={"users", "filter", "matching"},
)
def match_user(ctx: CheckContext) -> None:
    user = person(ctx, "match")
    existing = ctx.create_user(user.login.upper())
    entra = Entra(ctx, directory([user], assigned=[user]))
    entra.cycle("match the existing user")
    ctx.expect(
        entra.user_id(user) == existing["id"],
        "Entra's matching query missed the existing user and created another one",
        expected=f"linked to {existing['id']}",
        actual=f"linked to {entra.user_id(user)}",
    )


@SUITE.check(
    "entra-match-group",
    "Entra's group matching query (excludedAttributes=members first) finds an existing group of that name",
    level=Level.MUST,
    ref=f"Entra matches groups by displayName: {ENTRA_TUTORIAL}; RFC 7644 §3.4.2.2; docs/entra-idp.md §2 and §3.4",
    tags={"groups", "filter", "matching"},
)
def match_group(ctx: CheckContext) -> None:
    user = person(ctx, "gm")
    group = team(ctx, [user])
    existing = ctx.create_group(group.name)
    entra = Entra(ctx, directory([user], [group], assigned_groups=[group]))
    entra.cycle("match the existing group")
    ctx.expect(
        entra.group_id(group) == existing["id"],
        "Entra's group matching query missed the existing group",
        expected=f"linked to {existing['id']}",
        actual=f"linked to {entra.group_id(group)}",
    )
    doc = ctx.fetch(f"/Groups/{existing['id']}")
    ctx.expect(
        member_ids(doc) == {entra.user_id(user)},
        "the matched group did not get its member",
        expected=json.dumps([entra.user_id(user)]),
        actual=json.dumps(sorted(member_ids(doc))),
    )


@SUITE.check(
    "entra-excluded-attributes-members",
    "Group reads with excludedAttributes=members (by id and by filter) answer 200 without members",
    level=Level.MUST,
    ref=(
        f"Entra reads groups with excludedAttributes=members: {ENTRA_TUTORIAL}; RFC 7644 §3.4.2.5, §3.9; "
        "docs/entra-idp.md §3.4 (members in the answer fail with MultipleEntriesInResponse)"
    ),
    tags={"groups", "projection"},
)
def excluded_members(ctx: CheckContext) -> None:
    user = ctx.create_user()
    group = ctx.create_group(ctx.name("xm"), members=[user["id"]])
    scim = entra_scim(ctx)
    by_id = ctx.obj(scim.get(f"/Groups/{group['id']}", [EXCLUDE_MEMBERS]))
    listed = ctx.list_response(
        scim.get("/Groups", [EXCLUDE_MEMBERS, ("filter", eq_filter("displayName", group["displayName"]))])
    )
    found = [item for item in listed.get("Resources") or [] if isinstance(item, dict)]
    ctx.expect(len(found) == 1, "the group is not found by its displayName", expected="1", actual=str(len(found)))
    for what, doc in (("by id", by_id), ("by filter", found[0])):
        ctx.expect(
            "members" not in doc,
            f"the group read {what} still carries members",
            expected="no members attribute",
            actual=json.dumps(doc.get("members"))[:200],
        )


@SUITE.check(
    "entra-create-user",
    "Entra's POST /Users (enterprise URN, meta.resourceType, roles: []) is answered 201 and stores the mapped values",
    level=Level.MUST,
    ref=(
        f"Entra's Create User request and response: {ENTRA_TUTORIAL}; RFC 7644 §3.3; "
        "docs/entra-idp.md §4 and §6 (201 with id; values stored as sent)"
    ),
    tags={"users", "crud"},
    hint=(
        "accept Entra's Create User body as sent (enterprise extension, emails and addresses with type, active) "
        "and answer 201 with the stored user and its id"
    ),
)
def create_user(ctx: CheckContext) -> None:
    user = person(ctx, "new", **PROFILE)
    entra = Entra(ctx, directory([user], assigned=[user]))
    entra.cycle("create the user")
    doc = ctx.fetch(f"/Users/{entra.user_id(user)}")
    expected = entra_expected_state(entra.directory, entra.emulator.ctx.users)
    problems = differences(expected, [doc], [])
    ctx.expect(
        not problems,
        "the created user does not hold what Entra sent",
        expected="no divergence",
        actual="; ".join(problems[:4]),
    )


@SUITE.check(
    "entra-create-group",
    "Entra's POST /Groups (listing the ADSCIM schema URI, no members) is answered 201 with an id",
    level=Level.MUST,
    ref=(
        f"Entra's Create Group request: {ENTRA_TUTORIAL}; RFC 7644 §3.3; RFC 7643 §4.2; "
        "docs/entra-idp.md §4 and §3.4 (members follow by PATCH)"
    ),
    tags={"groups", "crud"},
    hint=(
        "accept Entra's Create Group body with its schemas as sent (urn:ietf:params:scim:schemas:core:2.0:Group, "
        "no members) and answer 201 with an id"
    ),
)
def create_group(ctx: CheckContext) -> None:
    user = person(ctx, "gc")
    group = team(ctx, [user])
    entra = Entra(ctx, directory([user], [group], assigned_groups=[group]))
    entra.cycle("create the group")
    doc = ctx.fetch(f"/Groups/{entra.group_id(group)}")
    ctx.expect(
        doc.get("displayName") == group.name and member_ids(doc) == {entra.user_id(user)},
        "the created group does not hold Entra's name and member",
        expected=f"{group.name} with member {entra.user_id(user)}",
        actual=f"{doc.get('displayName')} with members {sorted(member_ids(doc))}",
    )


@SUITE.check(
    "entra-soft-delete-keeps-user",
    "A soft-deleted Entra user is disabled (active 'False') and is still returned by GET and by Entra's filter",
    level=Level.MUST,
    ref=(
        f"A soft delete sends PATCH active false: {ENTRA_HOW}; RFC 7644 §3.5.2.3; "
        "docs/entra-idp.md §3.3 and §6 (disabled users must still be returned)"
    ),
    tags={"users", "lifecycle"},
)
def soft_delete(ctx: CheckContext) -> None:
    user = person(ctx, "soft")
    entra = Entra(ctx, directory([user], assigned=[user]))
    entra.cycle("create the user")
    scim_id = entra.user_id(user)
    entra.emulator.soft_delete_user(user.id)
    entra.cycle("disable the soft-deleted user")
    doc = ctx.fetch(f"/Users/{scim_id}")
    ctx.expect(
        doc.get("active") is False,
        "the soft-deleted user is still active",
        expected='"active": false',
        actual=f'"active": {json.dumps(doc.get("active"))}',
    )
    found = _search(ctx, user.login)
    ctx.expect(
        [item.get("id") for item in found] == [scim_id],
        "Entra's matching query no longer finds the disabled user",
        expected=f"[{scim_id}]",
        actual=json.dumps([item.get("id") for item in found]),
    )


@SUITE.check(
    "entra-hard-delete-removes-user",
    "A hard-deleted Entra user (30 days after the soft delete) is DELETEd: 204, then 404 and no filter match",
    level=Level.MUST,
    ref=f"A hard delete sends DELETE: {ENTRA_HOW}; RFC 7644 §3.6; docs/entra-idp.md §3.3 and §6",
    tags={"users", "lifecycle", "delete"},
)
def hard_delete(ctx: CheckContext) -> None:
    user = person(ctx, "hard")
    entra = Entra(ctx, directory([user], assigned=[user]))
    entra.cycle("create the user")
    scim_id = entra.user_id(user)
    entra.emulator.soft_delete_user(user.id)
    entra.cycle("disable the soft-deleted user")
    entra.clock.advance(entra.emulator.settings.hard_delete_after)
    entra.cycle("delete the purged user")
    delete = [e for e in ctx.wiretap.exchanges if e.method == "DELETE" and e.url.endswith(f"/Users/{scim_id}")]
    ctx.expect(
        delete and delete[-1].status == 204,
        "the DELETE of the purged user was not answered 204",
        expected="DELETE 204",
        actual=f"DELETE {delete[-1].status}" if delete else "no DELETE sent",
    )
    ctx.expect_error(ctx.scim.get(f"/Users/{scim_id}"), 404)
    ctx.expect(not _search(ctx, user.login), "the deleted user is still found", expected="[]", actual="a match")


@SUITE.check(
    "entra-429-retry-after",
    "A throttled request is answered 429 with a Retry-After and a SCIM Error",
    level=Level.SHOULD,
    ref=(
        f"Entra retries 429 and honours Retry-After, per Microsoft: {ENTRA_RATE_LIMITS}; RFC 6585 §4; "
        "docs/entra-idp.md §7 and §12"
    ),
    tags={"throttling", "errors", "long"},
    exclusive=True,  # it spends the token's whole rate-limit budget: a check beside it would be 429ed
)
def throttle_entra(ctx: CheckContext) -> None:
    response = burst(ctx, entra_scim(ctx), [("filter", eq_filter("userName", str(uuid.uuid4())))])
    retry_after = response.headers.get("Retry-After", "")
    seconds = retry_after_seconds(retry_after)
    recover(ctx, seconds)
    ctx.expect(
        seconds is not None,
        "the 429 has no readable Retry-After, so Entra cannot tell when to retry",
        expected="Retry-After: <seconds> or <HTTP-date>",
        actual=f"Retry-After: {retry_after or 'none'}",
    )
    ctx.expect_error(response, 429)


@SUITE.check(
    "entra-nested-group-member",
    "Entra's nested group member (a child group's id in a members add) is applied, or refused with a 4xx SCIM "
    "error; never a 2xx that drops it, never a 5xx",
    level=Level.MUST,
    ref=(
        f"Entra sends a child group as one member: {ENTRA_TUTORIAL}; RFC 7643 §4.2 (members may be groups); "
        f"RFC 7644 §3.12; CoreWeave AUP supports only flat groups: {COREWEAVE_AUP}; "
        "docs/entra-idp.md §3.4 and docs/domain.md §1.1"
    ),
    tags={"groups", "members", "nested"},
    needs=("entra-create-group",),  # it creates a group the way Entra does first
)
def nested_group_member(ctx: CheckContext) -> None:
    user = person(ctx, "nest")
    child = team(ctx, [user], stem="child")
    parent = team(ctx, [user], stem="parent")
    parent.member_groups.append(child.id)
    entra = Entra(ctx, directory([user], [child, parent], assigned=[user], assigned_groups=[child, parent]))
    entra.emulator.start()
    entra.flight.raise_if_unanswered()
    parent_id, child_id = entra.group_id(parent), entra.group_id(child)
    sent = [
        e
        for e in ctx.wiretap.exchanges
        if e.method == "PATCH" and e.path.endswith(f"/Groups/{parent_id}") and child_id in json.dumps(e.request_body)
    ]
    ctx.expect(sent, "Entra sent no members add for the child group", expected="one PATCH", actual="none")
    status = sent[-1].status
    ctx.expect(
        status < 500, "the nested member PATCH failed with a server error", expected="2xx or 4xx", actual=str(status)
    )
    members = member_ids(ctx.fetch(f"/Groups/{parent_id}"))
    if status < 300:
        ctx.expect(
            child_id in members,
            "the server acknowledged the nested member but does not hold it (silently dropped)",
            expected=f"members include {child_id}",
            actual=json.dumps(sorted(members)),
        )
        return
    body = sent[-1].response_body
    schemas = body.get("schemas") if isinstance(body, dict) else None
    ctx.expect(
        isinstance(schemas, list) and "urn:ietf:params:scim:api:messages:2.0:Error" in schemas,
        "the refusal of the nested member is not a SCIM Error, so Entra's log cannot say why",
        expected=f"{status} with a SCIM Error body (RFC 7644 §3.12)",
        actual=json.dumps(body)[:200],
    )
    ctx.expect(
        child_id not in members and entra.user_id(user) in members,
        "after refusing the nested member the parent group's members changed otherwise",
        expected=f"members == [{entra.user_id(user)}]",
        actual=json.dumps(sorted(members)),
    )


# -- variants Entra sends that the emulator's defaults do not (issue #19 item 6) --------------------------------


@SUITE.check(
    "entra-post-active-string",
    'Entra\'s create is accepted with "active" as a boolean and as the string "True": both users are active',
    level=Level.MUST,
    ref=(
        f"Entra creates users with active true: {ENTRA_TUTORIAL}; "
        f"and has been seen to send the string 'True': {ENTRA_ACTIVE_STRING}; RFC 7643 §2.3.2; "
        "docs/entra-idp.md §4 and §12"
    ),
    tags={"users", "booleans"},
)
def post_active_string(ctx: CheckContext) -> None:
    created: dict[str, Any] = {}
    encodings: tuple[tuple[str, BooleanEncoding], ...] = (("bool", "boolean"), ("str", "string"))
    for stem, encoding in encodings:
        user = person(ctx, stem)
        entra = Entra(ctx, directory([user], assigned=[user]), replace(ENTRA_DEFAULT, post_booleans=encoding))
        entra.cycle(f"create a user with a {encoding} active")
        created[encoding] = ctx.fetch(f"/Users/{entra.user_id(user)}").get("active")
    ctx.expect(
        created == {"boolean": True, "string": True},
        "a user created with Entra's active is not active",
        expected='"active": true for both',
        actual=json.dumps(created),
    )


@SUITE.check(
    "entra-scoping-change-initial-cycle",
    "After a scoping-filter change Entra's initial cycle re-evaluates every user: the excluded one is disabled, "
    "the others stay linked and active",
    level=Level.MUST,
    ref=(
        f"Changing scoping filters starts a new initial cycle: {ENTRA_HOW}; {ENTRA_QUARANTINE}; "
        "docs/entra-idp.md §8 and §3.3 (out of scope means PATCH active false)"
    ),
    tags={"users", "scoping", "lifecycle"},
)
def scoping_change(ctx: CheckContext) -> None:
    kept, dropped = person(ctx, "keep", department="Research"), person(ctx, "drop", department="Contractors")
    entra = Entra(ctx, directory([kept, dropped], assigned=[kept, dropped]))
    entra.cycle("create both users")
    entra.emulator.set_scoping_filter(ScopingFilter(((Clause("department", "NOT EQUALS", "Contractors"),),)))
    report = entra.cycle("re-evaluate after the scoping change")
    ctx.expect(report.kind == "initial", "no initial cycle after the change", expected="initial", actual=report.kind)
    active = {user.login: ctx.fetch(f"/Users/{entra.user_id(user)}").get("active") for user in (kept, dropped)}
    ctx.expect(
        active == {kept.login: True, dropped.login: False},
        "after the scoping change the server's users are not as Entra left them",
        expected=json.dumps({kept.login: True, dropped.login: False}),
        actual=json.dumps(active),
    )


@SUITE.check(
    "entra-escrow-retry-rematches",
    "A user whose create reply was lost is matched on the escrow retry, so the escrow clears and the job is not "
    "disabled 28 days later",
    level=Level.MUST,
    ref=(
        f"Failed objects are escrowed and retried, and after 28 days the job is disabled: {ENTRA_QUARANTINE}; "
        f"a POST that timed out is retried: {ENTRA_TIMEOUT}; docs/entra-idp.md §7 and §3.1 (match before create)"
    ),
    tags={"users", "errors", "escrow"},
)
def escrow_retry(ctx: CheckContext) -> None:
    user = person(ctx, "esc")
    lost: list[int] = []

    def lose_first_create(response: httpx.Response) -> None:
        if response.request.method == "POST" and not lost:
            lost.append(response.status_code)
            raise httpx.ReadTimeout("the reply was lost", request=response.request)

    entra = Entra(ctx, directory([user], assigned=[user]))
    entra.emulator.ctx.session.scim.http.event_hooks["response"].append(lose_first_create)
    entra.emulator.start()
    ctx.expect(entra.emulator.state.escrows, "the lost reply left no escrow", expected="an escrow", actual="none")
    entra.clock.advance(entra.emulator.settings.escrow.retry_after_first_failure[0])
    entra.emulator.run_cycle()
    if entra.emulator.state.escrows:
        entra.clock.advance(entra.emulator.settings.escrow.give_up_after)
        entra.emulator.run_cycle()
    found = _search(ctx, user.login)
    ctx.expect(
        not entra.emulator.state.disabled and len(found) == 1,
        "the escrow retry did not link the user created by the lost POST, so the escrow was dropped and the job "
        "disabled",
        expected="one user, the job enabled",
        actual=f"{len(found)} user(s), job {'disabled' if entra.emulator.state.disabled else 'enabled'}; "
        + "; ".join(str(e) for e in entra.emulator.log.failures()[-2:]),
    )


@SUITE.check(
    "entra-accidental-deletions-approved",
    "Disables over the accidental-deletion threshold wait in a TooManyDeletes quarantine; once allowed, the server "
    "disables every one",
    level=Level.MUST,
    ref=f"Prevent accidental deletions: {ENTRA_ACCIDENTAL}; docs/entra-idp.md §3.3",
    tags={"users", "lifecycle", "quarantine"},
)
def accidental_deletions(ctx: CheckContext) -> None:
    users = [person(ctx, f"acc{number}") for number in range(2)]
    entra = Entra(ctx, directory(users, assigned=users), settings=EntraSettings(accidental_deletion_threshold=1))
    entra.cycle("create the users")
    for user in users:
        entra.emulator.unassign_user(user.id)
    staged = entra.emulator.run_cycle()
    reason = staged.quarantine.reason if staged.quarantine else "none"
    ctx.expect(reason == "TooManyDeletes", "no TooManyDeletes quarantine", expected="TooManyDeletes", actual=reason)
    entra.emulator.approve_staged_deletions()
    entra.cycle("send the allowed disables")
    active = [ctx.fetch(f"/Users/{entra.user_id(user)}").get("active") for user in users]
    ctx.expect(
        active == [False, False],
        "the allowed disables did not disable the users",
        expected="[false, false]",
        actual=json.dumps(active),
    )


# -- what Entra enforces of the server's answers (docs/entra-idp.md §13) ---------------------------------------------


def _created_cycle(ctx: CheckContext, stem: str) -> None:
    """Entra's first cycle for a new user and group: the test queries, matching, the creates, the member PATCH."""
    user = person(ctx, stem)
    group = team(ctx, [user])
    entra = Entra(ctx, directory([user], [group], assigned=[user], assigned_groups=[group]))
    entra.cycle("create a user and a group")


@SUITE.check(
    "entra-group-reads-exclude-members",
    "Entra's group reads (its displayName match, then GET /Groups/{id}) sent with excludedAttributes=members "
    "are answered without members, or Entra fails the group",
    level=Level.MUST,
    ref=(
        f"Entra reads groups without members: {ENTRA_TUTORIAL}; RFC 7644 §3.9; "
        "docs/entra-idp.md §3.4 (members in the answer fail with MultipleEntriesInResponse)"
    ),
    tags={"groups", "projection", "matching"},
)
def group_reads_exclude_members(ctx: CheckContext) -> None:
    user = person(ctx, "xr")
    group = team(ctx, [user])
    holder = ctx.create_user()
    ctx.create_group(group.name, members=[holder["id"]])
    entra = Entra(ctx, directory([user], [group], assigned=[user], assigned_groups=[group]))
    entra.cycle("match the existing group, which has a member")
    entra.emulator.rename_group(group.id, ctx.name("xr2"))
    entra.cycle("read the linked group back by id and rename it")


@SUITE.check(
    "entra-list-counts-integers",
    "The lists Entra reads (test queries, matching) carry totalResults, startIndex and itemsPerPage as JSON "
    "integers, or Entra logs SystemForCrossDomainIdentityManagementServiceIncompatible",
    level=Level.MUST,
    ref=(
        f"Entra's Get User by query answers a ListResponse with numbers: {ENTRA_TUTORIAL}; RFC 7644 §3.4.2; "
        "docs/entra-idp.md §4 and §6 (parse failures)"
    ),
    tags={"list", "filter", "matching"},
    needs=("entra-create-group",),  # it creates a group the way Entra does first
)
def list_counts_integers(ctx: CheckContext) -> None:
    _created_cycle(ctx, "ints")


@SUITE.check(
    "entra-answer-media-type",
    "Entra's requests are answered as application/scim+json (or application/json), or Entra cannot read them",
    level=Level.MUST,
    ref=(
        f"Entra expects application/scim+json answers: {ENTRA_TUTORIAL}; RFC 7644 §3.1, §8.1; "
        "docs/entra-idp.md §1 and §6"
    ),
    tags={"headers", "media-type"},
    needs=("entra-create-group",),  # it creates a group the way Entra does first
)
def answer_media_type(ctx: CheckContext) -> None:
    _created_cycle(ctx, "mt")


@SUITE.check(
    "entra-created-resources-carry-id",
    "Entra's POST /Users and POST /Groups are answered 201 with the id Entra links, or Entra fails the object",
    level=Level.MUST,
    ref=(
        f"Entra expects 201 with the id in every returned resource: {ENTRA_TUTORIAL}; RFC 7644 §3.3; "
        "RFC 7643 §3.1; docs/entra-idp.md §6"
    ),
    tags={"users", "groups", "crud"},
    needs=("entra-create-group",),  # it creates a group the way Entra does first
    hint="return the id in every resource you answer with (201 bodies and GETs); Entra links the object by it",
)
def created_resources_carry_id(ctx: CheckContext) -> None:
    _created_cycle(ctx, "cid")
    posts = [e for e in ctx.wiretap.exchanges if e.method == "POST"]
    ctx.expect(
        [e.status for e in posts] == [201, 201],
        "Entra's creates were not both answered 201",
        expected="POST /Users 201, POST /Groups 201",
        actual=", ".join(f"POST {e.url.rsplit('/', 1)[-1]} {e.status}" for e in posts) or "no POST",
    )
