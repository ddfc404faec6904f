"""One-way sync semantics: the emulators provision a small generated directory to the target, and the
server's state must equal the expected state of the directory through the IdP's mapping
(emulators/core/expected.py: computed from the directory, never hard-coded).

Each scenario uses its own name prefix under the run id, so scenarios never see each other's data;
every divergence is reported (a few in ``actual``), never only the first.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Collection, Sequence

from conformance.context import CheckContext
from conformance.idp import DOMAIN, Console, Entra, Okta, directory, run_resources
from conformance.model import Level
from conformance.references import (
    COREWEAVE_AUP,
    ENTRA_HOW,
    ENTRA_SCOPING,
    ENTRA_TUTORIAL,
    OKTA_CRUD_TEST,
    OKTA_GROUP_PUSH,
    OKTA_SCIM,
)
from conformance.registry import Suite
from emulators.core.directory import Directory, Group, Status, User
from emulators.core.expected import ExpectedState, differences
from emulators.core.generator import generate_directory
from emulators.entra import Clause, EntraSettings, ScopingFilter
from emulators.entra.expected import expected_state as entra_expected_state
from emulators.okta.expected import expected_state as okta_expected_state
from emulators.registry import IdpRegistry, IdpSpec

SUITE = Suite("sync")

# What every one-way sync of an IdP stands on: when one of these checks breaks, the sync checks are BLOCKED by it
# (one root cause, reported once) instead of each failing over the same defect.
OKTA_BASICS = ("okta-lookup-before-create", "okta-create-201-with-id", "okta-group-push-create")
ENTRA_BASICS = (
    "entra-create-user",
    "entra-create-group",
    "entra-manager-bare-string",
    "entra-group-add-member",
    "entra-created-resources-carry-id",
)

SEED = 6  # a fixed seed: a failure names the same generated people on every run
USERS, GROUPS = 10, 3
SHOWN = 5  # divergences listed in a failure's ``actual``
OUT_OF_SCOPE = "Contractors"
SCOPE = ScopingFilter(((Clause("department", "NOT EQUALS", OUT_OF_SCOPE),),))


@functools.cache
def _generated() -> Directory:
    return generate_directory(USERS, GROUPS, SEED, domain=DOMAIN)


def generated(ctx: CheckContext, stem: str) -> tuple[str, Directory]:
    """A fresh copy of the generated directory whose logins and group names start with a new prefix.

    A manager is named by login in generated directories, so it takes the prefix too (Entra's view
    resolves it to the manager's id).
    """
    prefix = ctx.name(stem)
    people = copy.deepcopy(_generated())
    for user in people.users.values():
        manager = user.profile.get("manager")
        if manager:
            local, _, domain = str(manager).partition("@")
            user.profile["manager"] = f"{prefix}-{local}@{domain}"
        local, _, domain = user.login.partition("@")
        user.profile["login"] = user.profile["email"] = f"{prefix}-{local}@{domain}"
    for group in people.groups.values():
        group.name = f"{prefix} {group.name}"
    return prefix, people


def in_scope(people: Directory, count: int, *, exclude: Collection[str] = ()) -> list[User]:
    """``count`` active, assigned users (in directory order), skipping ``exclude``."""
    chosen = [
        user
        for user in people.users.values()
        if user.status is Status.ACTIVE and people.is_assigned(user.id) and user.id not in exclude
    ]
    return chosen[:count]


def expect_state(
    ctx: CheckContext,
    prefix: str,
    expected: ExpectedState,
    what: str,
    *,
    absent: Sequence[str] = (),
    extra: Sequence[str] = (),
) -> None:
    """The server's resources under ``prefix`` equal ``expected``; every divergence is reported."""
    users = run_resources(ctx, "/Users", "userName", prefix)
    groups = run_resources(ctx, "/Groups", "displayName", prefix)
    problems = [*differences(expected, users, groups, absent=absent), *extra]
    more = f" (+{len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
    ctx.expect(
        not problems,
        f"after {what} the server differs from the expected state of the directory in {len(problems)} place(s)",
        expected=f"{len(expected.users)} users and {len(expected.groups)} groups as expected",
        actual="; ".join(problems[:SHOWN]) + more,
    )


def _sync_okta(ctx: CheckContext, stem: str) -> tuple[str, Okta]:
    prefix, people = generated(ctx, stem)
    okta = Okta(ctx, people)
    okta.expect_done(okta.emulator.sync_all(), "provision the directory")
    return prefix, okta


def _okta_expected(okta: Okta) -> ExpectedState:
    return okta_expected_state(okta.emulator.directory, okta.emulator.users.mapping)


@SUITE.check(
    "sync-okta-initial-provisioning",
    "Okta's initial provisioning (users, assigned groups, Group Push) leaves the expected state of the directory",
    level=Level.MUST,
    ref=(
        f"Okta provisioning and Group Push: {OKTA_SCIM}; {OKTA_GROUP_PUSH}; "
        f"one-way sync, the IdP is the source of truth: {COREWEAVE_AUP}; docs/okta-idp.md §4 and §7; "
        "docs/domain.md §1.1"
    ),
    tags={"okta", "long"},
    needs=OKTA_BASICS,
)
def okta_initial(ctx: CheckContext) -> None:
    prefix, okta = _sync_okta(ctx, "oi")
    expect_state(ctx, prefix, _okta_expected(okta), "Okta's initial provisioning")


@SUITE.check(
    "sync-okta-profile-updates",
    "Okta's profile pushes (changed and emptied attributes) leave the expected state of the directory",
    level=Level.MUST,
    ref=(
        f"Okta updates by GET then PUT of the merged body: {OKTA_SCIM}; RFC 7644 §3.5.1; "
        "docs/okta-idp.md §5 (an emptied mapping removes the value)"
    ),
    tags={"okta", "long"},
    needs=OKTA_BASICS,
)
def okta_updates(ctx: CheckContext) -> None:
    prefix, okta = _sync_okta(ctx, "ou")
    for number, user in enumerate(in_scope(okta.emulator.directory, 3)):
        changes: dict[str, str | None] = {"lastName": f"{user.profile['lastName']}-{number}"}
        changes["displayName"] = f"Renamed {number}"
        if number == 0:
            changes["locale"] = None  # an emptied attribute: Okta's PUT leaves it out
        okta.expect_done(okta.emulator.update_profile(user.id, changes), "push profile updates")
    expect_state(ctx, prefix, _okta_expected(okta), "Okta's profile updates")


@SUITE.check(
    "sync-okta-deactivation",
    "Users deactivated in Okta are inactive on the server (kept, never deleted); the rest is unchanged",
    level=Level.MUST,
    ref=f"Okta deactivates with PATCH active false and does not delete users: {OKTA_SCIM}; docs/okta-idp.md §6",
    tags={"okta", "lifecycle", "long"},
    needs=OKTA_BASICS,
)
def okta_deactivation(ctx: CheckContext) -> None:
    prefix, okta = _sync_okta(ctx, "od")
    gone = in_scope(okta.emulator.directory, 2)
    kept = {user.id: okta.user_id(user) for user in gone}
    for user in gone:
        okta.expect_done(okta.emulator.deactivate_user(user.id), "deactivate users")
    missing = [
        f"user {user.login}: deactivated users must stay on the server, but {kept[user.id]} is gone"
        for user in gone
        if ctx.scim.get(f"/Users/{kept[user.id]}").status_code != 200
    ]
    expect_state(ctx, prefix, _okta_expected(okta), "Okta's deactivations", extra=missing)


@SUITE.check(
    "sync-okta-reactivation",
    "Users reactivated and reassigned in Okta are active again under the same ids",
    level=Level.MUST,
    ref=f"Okta's CRUD test steps 9-11 (the same SCIM id comes back active): {OKTA_CRUD_TEST}; docs/okta-idp.md §6",
    tags={"okta", "lifecycle", "long"},
    needs=OKTA_BASICS,
)
def okta_reactivation(ctx: CheckContext) -> None:
    prefix, okta = _sync_okta(ctx, "or")
    emulator = okta.emulator
    chosen = in_scope(emulator.directory, 2)
    before = {user.id: okta.user_id(user) for user in chosen}
    direct = [user.id for user in chosen if user.id in emulator.directory.app.users]
    for user in chosen:
        okta.expect_done(emulator.deactivate_user(user.id), "deactivate users")
    for user in chosen:
        tasks = emulator.reactivate_user(user.id)
        if user.id in direct:  # deactivation dropped the direct assignment (docs/okta-idp.md §6); the admin reassigns
            tasks += emulator.assign_user(user.id)
        okta.expect_done(tasks, "reactivate users")
    moved = [
        f"user {user.login}: reactivated under id {emulator.links.scim_id('user', user.id)}, was {before[user.id]}"
        for user in chosen
        if emulator.links.scim_id("user", user.id) != before[user.id]
    ]
    expect_state(ctx, prefix, _okta_expected(okta), "Okta's reactivations", extra=moved)


def _entra(ctx: CheckContext, stem: str, *, scoping: ScopingFilter | None = None) -> tuple[str, Entra]:
    prefix, people = generated(ctx, stem)
    entra = Entra(ctx, people, scoping=scoping)
    entra.cycle("the initial cycle")
    return prefix, entra


def _entra_expected(entra: Entra) -> ExpectedState:
    emulator = entra.emulator
    return entra_expected_state(entra.directory, emulator.ctx.users, emulator.settings, emulator.ctx.scoping)


@SUITE.check(
    "sync-entra-initial-cycle",
    "Entra's initial cycle (users, assigned groups, memberships) leaves the expected state of the directory",
    level=Level.MUST,
    ref=f"The initial cycle: {ENTRA_HOW}; {ENTRA_TUTORIAL}; docs/entra-idp.md §8 and §3.1-§3.4",
    tags={"entra", "long"},
    needs=ENTRA_BASICS,
)
def entra_initial(ctx: CheckContext) -> None:
    prefix, entra = _entra(ctx, "ei")
    expect_state(ctx, prefix, _entra_expected(entra), "Entra's initial cycle")


@SUITE.check(
    "sync-entra-incremental-cycle",
    "Entra's incremental cycle sends attribute changes, membership changes and a group rename",
    level=Level.MUST,
    ref=f"Incremental cycles send what changed: {ENTRA_HOW}; RFC 7644 §3.5.2; docs/entra-idp.md §8 and §3.2",
    tags={"entra", "long"},
    needs=ENTRA_BASICS,
)
def entra_incremental(ctx: CheckContext) -> None:
    prefix, entra = _entra(ctx, "ec")
    emulator, core = entra.emulator, entra.directory.core
    staff = core.group(core.app.groups[0])
    changed = in_scope(core, 2)
    for number, user in enumerate(changed):
        emulator.update_user(user.id, {"surname": f"{user.profile['lastName']}-{number}", "jobTitle": "Changed"})
    joiner = next((uid for uid in core.app.users if uid not in staff.members), None)
    if joiner is not None:
        emulator.add_group_member(staff.id, joiner)
    direct = set(core.app.users)
    leaver = next((uid for uid in reversed(staff.members) if uid not in direct), None)
    if leaver is not None:  # leaves the scope with the group: disabled and removed from it
        emulator.remove_group_member(staff.id, leaver)
    emulator.rename_group(staff.id, f"{prefix} renamed staff")
    entra.cycle("the incremental cycle")
    expect_state(ctx, prefix, _entra_expected(entra), "Entra's incremental cycle")


@SUITE.check(
    "sync-entra-scoping-out",
    "Users that leave the scope (unassigned, or failing the scoping filter) are disabled, not deleted",
    level=Level.MUST,
    ref=f"Users leaving scope are disabled: {ENTRA_HOW}; {ENTRA_SCOPING}; docs/entra-idp.md §3.3 and §8",
    tags={"entra", "lifecycle", "long"},
    needs=ENTRA_BASICS,
)
def entra_scoping_out(ctx: CheckContext) -> None:
    prefix, entra = _entra(ctx, "es", scoping=SCOPE)
    emulator, core = entra.emulator, entra.directory.core
    filtered = in_scope(core, 1)
    emulator.update_user(filtered[0].id, {"department": OUT_OF_SCOPE})
    staff = core.group(core.app.groups[0])
    direct = set(core.app.users)
    unassigned = next((uid for uid in staff.members if uid not in direct and uid != filtered[0].id), None)
    if unassigned is not None:
        emulator.remove_group_member(staff.id, unassigned)
    entra.cycle("the cycle after the scope changes")
    expect_state(ctx, prefix, _entra_expected(entra), "users left the scope")


@SUITE.check(
    "sync-entra-soft-delete",
    "Users soft-deleted in Entra are disabled and stay on the server with their ids",
    level=Level.MUST,
    ref=(
        f"A soft delete sends PATCH active false: {ENTRA_HOW}; "
        "docs/entra-idp.md §3.3 and §6 (disabled users are still returned)"
    ),
    tags={"entra", "lifecycle", "long"},
    needs=ENTRA_BASICS,
)
def entra_soft_delete(ctx: CheckContext) -> None:
    prefix, entra = _entra(ctx, "ed")
    chosen = in_scope(entra.directory.core, 2)
    kept = {user.id: entra.user_id(user) for user in chosen}
    for user in chosen:
        entra.emulator.soft_delete_user(user.id)
    entra.cycle("the cycle after the soft deletes")
    missing = [
        f"user {user.login}: soft-deleted users must stay on the server, but {kept[user.id]} is gone"
        for user in chosen
        if ctx.scim.get(f"/Users/{kept[user.id]}").status_code != 200
    ]
    expect_state(ctx, prefix, _entra_expected(entra), "Entra's soft deletes", extra=missing)


@SUITE.check(
    "sync-entra-hard-delete",
    "Users hard-deleted in Entra are deleted from the server; everyone else is unchanged",
    level=Level.MUST,
    ref=f"A hard delete sends DELETE /Users/{{id}}: {ENTRA_HOW}; RFC 7644 §3.6; docs/entra-idp.md §3.3",
    tags={"entra", "lifecycle", "delete", "long"},
    needs=ENTRA_BASICS,
)
def entra_hard_delete(ctx: CheckContext) -> None:
    prefix, entra = _entra(ctx, "eh")
    chosen = in_scope(entra.directory.core, 2)
    logins = [user.login for user in chosen]
    for user in chosen:
        entra.emulator.hard_delete_user(user.id)
    entra.cycle("the cycle after the hard deletes")
    expect_state(ctx, prefix, _entra_expected(entra), "Entra's hard deletes", absent=logins)


CONCURRENT_MEMBERS, CONCURRENT_LEAVERS = 20, 10


@SUITE.check(
    "sync-entra-concurrent-members",
    "Entra's single-member PATCHes sent concurrently to one group (20 adds, then 10 removes) leave exactly the "
    "expected members: no update is lost",
    level=Level.MUST,
    ref=(
        "Entra sends membership PATCHes concurrently, as reported in https://github.com/scimmyjs/scimmy/issues/79; "
        "RFC 7644 §3.5.2 (each PATCH is atomic); docs/entra-idp.md §3.5; "
        "docs/domain.md §3 (read-modify-write of members loses concurrent updates)"
    ),
    tags={"entra", "groups", "concurrency", "long"},
    needs=ENTRA_BASICS,
)
def entra_concurrent_members(ctx: CheckContext) -> None:
    prefix = ctx.name("cm")
    people = [
        User(id=f"{prefix}-{number:02d}", profile=_concurrent_person(f"{prefix}-{number:02d}@{DOMAIN}"))
        for number in range(CONCURRENT_MEMBERS)
    ]
    group = Group(id=f"grp-{prefix}", name=f"{prefix} everyone", members=[user.id for user in people])
    # Real threads whatever the target, with the profile's number of PATCHes in flight (§3.5).
    settings = EntraSettings(concurrency="threads")
    entra = Entra(ctx, directory(people, [group], assigned=people, assigned_groups=[group]), settings=settings)
    entra.cycle("the initial cycle (concurrent member adds)")
    expect_state(ctx, prefix, _entra_expected(entra), f"{CONCURRENT_MEMBERS} members added concurrently")
    for user in people[:CONCURRENT_LEAVERS]:
        entra.emulator.remove_group_member(group.id, user.id)
    entra.cycle("the incremental cycle (concurrent member removes)")
    expect_state(ctx, prefix, _entra_expected(entra), f"{CONCURRENT_LEAVERS} members removed concurrently")


def _concurrent_person(login: str) -> dict[str, str]:
    return {"login": login, "email": login, "firstName": "Ada", "lastName": "Lovelace", "displayName": login}


# -- every other registered IdP, through its admin console ------------------------------------------------------


def console_suite(registry: IdpRegistry) -> Suite:
    """The one-way check of every registered IdP that brings no hand-written checks (``console_checks``),
    driven through its admin console (emulators/core/console.py) and judged by its expected state."""
    suite = Suite("sync")
    for spec in registry:
        if spec.console_checks:
            suite.check(
                f"sync-{spec.name}-one-way",
                f"{spec.label}'s one-way sync (provision, update, deactivate, reactivate, group changes) leaves the "
                "expected state of the directory",
                level=Level.MUST,
                ref=f"{spec.docs or 'docs/architecture.md'}; one-way sync, the IdP is the source of truth: "
                f"{COREWEAVE_AUP}; docs/domain.md §1.1",
                tags={spec.name, "lifecycle", "long"},
            )(_OneWayCheck(spec))
    return suite


class _OneWayCheck:
    """The console-driven one-way check of one IdP: equal for equal specs, so registries built twice are equal."""

    def __init__(self, spec: IdpSpec) -> None:
        self.spec = spec
        self.__name__ = self.__qualname__ = f"{spec.name}_one_way"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _OneWayCheck) and other.spec == self.spec

    def __hash__(self) -> int:
        return hash(self.spec.name)

    def __call__(self, ctx: CheckContext) -> None:
        spec = self.spec
        prefix, people = generated(ctx, spec.name[:4])
        run = Console(ctx, spec, people)
        console, label = run.console, spec.label
        console.provision_all()
        run.expect_done("provision the directory")
        expect_state(ctx, prefix, console.expected_state(), f"{label}'s initial provisioning")

        changed, leaver = in_scope(people, 2)
        console.update_user(changed.id, {"lastName": f"{changed.profile['lastName']}-changed"})
        console.deactivate(leaver.id)
        group = next(iter(people.groups.values()))
        console.connect_group(group.id)
        joiner = next((user for user in in_scope(people, USERS) if user.id not in group.members), None)
        if joiner is not None:
            console.add_member(group.id, joiner.id)
        console.rename_group(group.id, f"{prefix} renamed")
        console.sync()
        run.expect_done("send the changes")
        expect_state(ctx, prefix, console.expected_state(), f"{label}'s updates, deactivation and group changes")

        console.reactivate(leaver.id)
        console.sync()
        run.expect_done("reactivate a user")
        expect_state(ctx, prefix, console.expected_state(), f"{label}'s reactivation")
