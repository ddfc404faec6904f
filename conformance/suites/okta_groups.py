"""Okta's Group Push against a service provider (docs/okta-idp.md §7, §10): create, membership PATCHes,
rename with id, Push Now. The real Okta emulator pushes; the checks judge its tasks and the groups left.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.context import CheckContext
from conformance.helpers import member_ids
from conformance.idp import Okta, directory, okta_scim, person, team
from conformance.model import Level
from conformance.references import OKTA_GROUP_PUSH, OKTA_SCIM, scim_sdk
from conformance.registry import Suite
from emulators.core.directory import Group, User
from emulators.core.payloads import member_ref
from emulators.okta import payloads

SUITE = Suite("okta")


def _pushed_group(ctx: CheckContext, size: int) -> tuple[Okta, list[User], Group]:
    """An Okta org with ``size`` provisioned users and one pushed group holding them."""
    people = [person(ctx, "m") for _ in range(size)]
    group = team(ctx, people)
    okta = Okta(ctx, directory(people, [group], assigned=people, pushed=[group]))
    tasks = [task for user in people for task in okta.emulator.provision_user(user.id)]
    okta.expect_done(tasks + okta.emulator.push_group(group.id), "push the group")
    return okta, people, group


def _members_are(ctx: CheckContext, okta: Okta, group: Group, people: list[User], reason: str) -> dict[str, Any]:
    doc = ctx.fetch(f"/Groups/{okta.group_id(group)}")
    wanted = {okta.user_id(user) for user in people}
    ctx.expect(
        member_ids(doc) == wanted,
        reason,
        expected=json.dumps(sorted(wanted)),
        actual=json.dumps(sorted(member_ids(doc))),
    )
    return doc


@SUITE.check(
    "okta-group-push-create",
    "Group Push: Okta's name lookup, POST /Groups (201 with id) and member push create the group with its members",
    level=Level.MUST,
    ref=(
        f"Group Push looks a group up by displayName, then creates it: {OKTA_GROUP_PUSH}; {OKTA_SCIM}; "
        "RFC 7644 §3.3; docs/okta-idp.md §7 (Okta reports 'Create new group returned empty group' without an id)"
    ),
    tags={"groups", "group-push"},
    hint="answer Okta's POST /Groups with 201 and the group with its id, after a displayName filter that finds nothing",
)
def group_push_create(ctx: CheckContext) -> None:
    okta, people, group = _pushed_group(ctx, 2)
    doc = _members_are(ctx, okta, group, people, "the pushed group does not hold the members Okta sent")
    ctx.expect(
        doc.get("displayName") == group.name,
        "the pushed group has another name",
        expected=group.name,
        actual=json.dumps(doc.get("displayName")),
    )


@SUITE.check(
    "okta-group-push-add-member",
    "Group Push: a PATCH add of members (value list with display) adds the member, keeping the others",
    level=Level.MUST,
    ref=(
        f"Okta adds members with PATCH: {OKTA_SCIM}; RFC 7644 §3.5.2.1 (add appends to members); "
        "docs/okta-idp.md §7 and §10.3"
    ),
    tags={"groups", "group-push", "patch"},
)
def group_push_add(ctx: CheckContext) -> None:
    okta, people, group = _pushed_group(ctx, 1)
    joiner = person(ctx, "join")
    okta.emulator.directory.users[joiner.id] = joiner
    okta.emulator.directory.app.users.append(joiner.id)
    okta.expect_done(okta.emulator.provision_user(joiner.id), "provision the new member")
    okta.expect_done(okta.emulator.add_group_member(group.id, joiner.id), "push the new member")
    _members_are(ctx, okta, group, [*people, joiner], "the added member is missing, or others were dropped")


@SUITE.check(
    "okta-group-add-existing-member",
    "Group Push: adding a member the group already holds succeeds and lists it once",
    level=Level.MUST,
    ref=(
        "RFC 7644 §3.5.2.1 (a value already present is not added again); "
        "Okta re-sends adds for existing members, as reported in "
        "https://github.com/simpleidserver/SimpleIdServer/issues/269; "
        "docs/okta-idp.md §7"
    ),
    tags={"groups", "group-push", "patch"},
)
def group_add_existing(ctx: CheckContext) -> None:
    okta, people, group = _pushed_group(ctx, 1)
    user = people[0]
    body = payloads.members_patch([], [member_ref(okta.user_id(user), user.login)])
    response = okta_scim(ctx).patch(f"/Groups/{okta.group_id(group)}", body)
    ctx.expect_status(response, 200, 204, what="PATCH add of an existing member")
    doc = _members_are(ctx, okta, group, people, "the existing member is gone after the repeated add")
    listed = [m for m in doc.get("members") or [] if isinstance(m, dict)]
    ctx.expect(len(listed) == 1, "the member is listed twice", expected="1 entry", actual=json.dumps(listed))


@SUITE.check(
    "okta-group-push-remove-member",
    'Group Push: a PATCH remove with path members[value eq "<id>"] and no value removes only that member',
    level=Level.MUST,
    ref=(
        f"Okta removes a member by a members[value eq ...] path with no value: {OKTA_SCIM}; "
        "RFC 7644 §3.5.2.2; docs/okta-idp.md §7 and §10.2 (servers that ignored it or removed everyone)"
    ),
    tags={"groups", "group-push", "patch"},
)
def group_push_remove(ctx: CheckContext) -> None:
    okta, people, group = _pushed_group(ctx, 2)
    okta.expect_done(okta.emulator.remove_group_member(group.id, people[1].id), "push the removal")
    _members_are(ctx, okta, group, people[:1], "the filtered remove did not remove exactly that member")


@SUITE.check(
    "okta-group-rename-with-id",
    "Group Push rename: a path-less replace whose value repeats the group's id renames it and keeps the id",
    level=Level.MUST,
    ref=(
        f"Okta renames a group with a replace whose value carries the id: {OKTA_SCIM}; RFC 7644 §3.5.2.3; "
        "docs/okta-idp.md §7 and §10.4"
    ),
    tags={"groups", "group-push", "patch"},
)
def group_rename(ctx: CheckContext) -> None:
    okta, _, group = _pushed_group(ctx, 1)
    scim_id = okta.group_id(group)
    new_name = ctx.name("renamed")
    okta.expect_done(okta.emulator.rename_group(group.id, new_name), "rename the group")
    doc = ctx.fetch(f"/Groups/{scim_id}")
    ctx.expect(
        doc.get("displayName") == new_name and doc.get("id") == scim_id,
        "the group was not renamed in place",
        expected=f'"id": "{scim_id}", "displayName": "{new_name}"',
        actual=f'"id": {json.dumps(doc.get("id"))}, "displayName": {json.dumps(doc.get("displayName"))}',
    )


@SUITE.check(
    "okta-push-now-clears",
    "Push Now of an empty group (replace members with []) clears the group",
    level=Level.MUST,
    ref=(
        f"Push Now replaces the whole member list, [] for an empty group: {OKTA_GROUP_PUSH}; "
        f"RFC 7644 §3.5.2.3; reported in {scim_sdk(757)}; docs/okta-idp.md §7 and §10.5"
    ),
    tags={"groups", "group-push", "patch"},
)
def push_now_clears(ctx: CheckContext) -> None:
    okta, people, group = _pushed_group(ctx, 2)
    emulator = okta.emulator
    okta.expect_done(emulator.deactivate_push(group.id), "pause the push")
    for user in people:  # changes made while the push is paused are not sent (PLAN C9319)
        okta.expect_done(emulator.remove_group_member(group.id, user.id), "change the paused group")
    okta.expect_done(emulator.activate_push(group.id), "resume the push (Push Now)")
    _members_are(ctx, okta, group, [], "Push Now with an empty member list left members in the group")
