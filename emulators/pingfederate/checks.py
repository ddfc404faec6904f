"""What PingFederate's SCIM Provisioner needs of a service provider (docs/pingfederate-idp.md), as the
``pingfederate`` conformance suite: each check runs the emulator's synchronization cycles against the target
and judges what the server holds afterwards. Named by ``SPEC.checks``; only conformance imports this module.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from conformance.context import CheckContext
from conformance.idp import CheckClock, InFlight, TrackedLinks, directory, person, team
from conformance.model import Level
from conformance.registry import Suite
from emulators.core.console import ConsoleSetup
from emulators.core.directory import Group, User
from emulators.pingfederate.console import PingFederateConsole
from emulators.pingfederate.profile import PINGFEDERATE_PATCH, PINGFEDERATE_PUT, PingFederateProfile

SUITE = Suite("pingfederate")

# Ping Identity's documentation of the SCIM Provisioner (docs/pingfederate-idp.md §8 lists every source).
PF_MANAGEMENT = "https://docs.pingidentity.com/integrations/scim/pf_scim_connector_user_and_group_management.html"
PF_SETTINGS = (
    "https://docs.pingidentity.com/integrations/scim/setup/pf_scim_connector_scim_connector_settings_reference.html"
)
PF_OVERVIEW = "https://docs.pingidentity.com/integrations/scim/pf_scim_connector.html"


class Ping:
    """A PingFederate connection provisioning ``people`` to the check's target, cycle by cycle."""

    def __init__(
        self,
        ctx: CheckContext,
        people: Any,
        *,
        profile: PingFederateProfile = PINGFEDERATE_PATCH,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        self.ctx = ctx
        self.flight = InFlight()
        http = ctx.client(headers=profile.headers, hooks=self.flight.hooks)
        setup = ConsoleSetup(
            people, http, profile, CheckClock(), links=TrackedLinks(ctx), settings=dict(settings or {})
        )
        self.console = PingFederateConsole(setup)

    def cycle(self, what: str) -> None:
        """One synchronization cycle; anything the server refused fails the check."""
        self.console.sync()
        failures = self.console.unresolved_failures()
        if failures:
            self.flight.raise_if_unanswered()
            self.ctx.fail(
                f"PingFederate could not {what}", expected="every write taken", actual="; ".join(failures[:3])
            )

    def user_id(self, user: User) -> str:
        scim_id = self.console.links.scim_id("user", user.id)
        self.ctx.expect(scim_id, f"PingFederate holds no SCIM id for {user.login}", expected="a linked id")
        return str(scim_id)

    def group_id(self, group: Group) -> str:
        scim_id = self.console.links.scim_id("group", group.id)
        self.ctx.expect(scim_id, f"PingFederate holds no SCIM id for {group.name}", expected="a linked id")
        return str(scim_id)


def _users_named(ctx: CheckContext, login: str) -> list[dict[str, Any]]:
    found = ctx.search("/Users", f"userName eq {json.dumps(login)}").get("Resources") or []
    return [doc for doc in found if isinstance(doc, dict)]


def _members(doc: Mapping[str, Any]) -> set[str]:
    return {str(m.get("value")) for m in doc.get("members") or () if isinstance(m, dict)}


def _expect_members(ctx: CheckContext, ping: Ping, group: Group, people: Sequence[User], reason: str) -> None:
    doc = ctx.fetch(f"/Groups/{ping.group_id(group)}")
    wanted = {ping.user_id(user) for user in people}
    ctx.expect(
        _members(doc) == wanted, reason, expected=json.dumps(sorted(wanted)), actual=json.dumps(sorted(_members(doc)))
    )


# -- users ------------------------------------------------------------------------------------------------------


@SUITE.check(
    "pingfederate-match-existing-user",
    "An account that exists already is found by the userName eq filter, linked and written, never created twice",
    level=Level.MUST,
    ref=(
        f"PingFederate synchronizes existing users by userName: {PF_MANAGEMENT}; the Unique User Identifier sets "
        f"the filter userName eq <value>: {PF_SETTINGS}; RFC 7644 §3.4.2.2; docs/pingfederate-idp.md §3"
    ),
    tags={"users", "matching"},
    hint='answer GET /Users?filter=userName eq "..." with the user that has that userName',
)
def match_existing_user(ctx: CheckContext) -> None:
    ann = person(ctx, "pf", lastName="Datastore")
    existing = ctx.create_user(ann.login, name={"givenName": "Old", "familyName": "Name"})
    ping = Ping(ctx, directory([ann], assigned=[ann]))
    ping.cycle("provision a user whose account exists")
    found = _users_named(ctx, ann.login)
    ctx.expect(
        len(found) == 1, "the user is on the server more than once, or not at all", expected="1", actual=str(len(found))
    )
    ctx.expect(
        ping.user_id(ann) == existing["id"],
        "PingFederate created another account",
        expected=existing["id"],
        actual=ping.user_id(ann),
    )
    family = (found[0].get("name") or {}).get("familyName")
    ctx.expect(
        family == "Datastore", "the matched account was not written", expected="Datastore", actual=json.dumps(family)
    )


@SUITE.check(
    "pingfederate-put-replaces-user",
    "A changed user is written with PUT: changed attributes take the new value, an emptied one is removed",
    level=Level.MUST,
    ref=(
        f"users are updated when a mapped attribute changes: {PF_MANAGEMENT}; the provisioner does not PATCH users: "
        f"{PF_OVERVIEW}; RFC 7644 §3.5.1 (PUT replaces); docs/pingfederate-idp.md §4"
    ),
    tags={"users", "put"},
    hint="apply every attribute of a PUT /Users/{id} and clear the ones it leaves out",
)
def put_replaces_user(ctx: CheckContext) -> None:
    ann = person(ctx, "pf")
    ping = Ping(ctx, directory([ann], assigned=[ann]))
    ping.cycle("provision a user")
    ping.console.update_user(ann.id, {"lastName": "Changed", "displayName": None})
    ping.cycle("update a user")
    doc = ctx.fetch(f"/Users/{ping.user_id(ann)}")
    family = (doc.get("name") or {}).get("familyName")
    ctx.expect(
        family == "Changed", "the PUT's new value was not applied", expected="Changed", actual=json.dumps(family)
    )
    ctx.expect(
        "displayName" not in doc,
        "an attribute the PUT left out is still there",
        expected="no displayName",
        actual=json.dumps(doc.get("displayName")),
    )


@SUITE.check(
    "pingfederate-disable-with-put",
    "Remove User Action Disable: a user disabled in the datastore is written with PUT and active false, and "
    "enabled again with PUT and active true, keeping its id",
    level=Level.MUST,
    ref=(
        f"users are deprovisioned when disabled or removed from the source, by the Remove User Action: "
        f"{PF_MANAGEMENT}; no PATCH for users: {PF_OVERVIEW}; RFC 7643 §4.1.1 (active); "
        "docs/pingfederate-idp.md §4"
    ),
    tags={"users", "put", "lifecycle"},
    hint="read active from a PUT /Users/{id}: false deactivates the account, true activates it",
)
def disable_with_put(ctx: CheckContext) -> None:
    ann = person(ctx, "pf")
    ping = Ping(ctx, directory([ann], assigned=[ann]))
    ping.cycle("provision a user")
    scim_id = ping.user_id(ann)
    ping.console.deactivate(ann.id)
    ping.cycle("disable a user")
    active = ctx.fetch(f"/Users/{scim_id}").get("active")
    ctx.expect(active is False, "the disabled user is still active", expected="false", actual=json.dumps(active))
    ping.console.reactivate(ann.id)
    ping.cycle("enable a user again")
    active = ctx.fetch(f"/Users/{scim_id}").get("active")
    ctx.expect(active is True, "the enabled user is not active", expected="true", actual=json.dumps(active))


@SUITE.check(
    "pingfederate-delete-user",
    "Remove User Action Delete: a user removed from the source is deleted, and is gone afterwards",
    level=Level.MUST,
    ref=(
        f"the Remove User Action disables or deletes: {PF_MANAGEMENT}; RFC 7644 §3.6 (a deleted resource is not "
        "returned again); docs/pingfederate-idp.md §4"
    ),
    tags={"users", "delete", "lifecycle"},
    hint="DELETE /Users/{id} removes the user: a later GET answers 404 and no filter finds it",
)
def delete_user(ctx: CheckContext) -> None:
    ann = person(ctx, "pf")
    people = directory([ann], assigned=[ann])
    ping = Ping(ctx, people, settings={"remove_user_action": "delete"})
    ping.cycle("provision a user")
    scim_id = ping.user_id(ann)
    ping.console.unassign_user(ann.id)
    ping.cycle("delete a user removed from the source")
    ctx.forget(f"/Users/{scim_id}")
    response = ctx.raw("GET", f"/Users/{scim_id}")
    if response.status_code != 404:
        ctx.track(f"/Users/{scim_id}")
    ctx.expect_status(response, 404, what="GET of the deleted user")
    ctx.expect(not _users_named(ctx, ann.login), "a filter still finds the deleted user", expected="none")


# -- groups -----------------------------------------------------------------------------------------------------


def _linked_group(ctx: CheckContext, size: int, profile: PingFederateProfile) -> tuple[Ping, list[User], Group]:
    people = [person(ctx, "pfm") for _ in range(size)]
    group = team(ctx, people[:1])
    ping = Ping(ctx, directory(people, [group], assigned=people, pushed=[group]), profile=profile)
    ping.cycle("provision users and a group")
    return ping, people, group


@SUITE.check(
    "pingfederate-find-group-by-listing",
    "An existing group is found by reading every page of /Groups without a filter, linked, and its members set",
    level=Level.MUST,
    ref=(
        f"the provisioner filters groups by retrieving all groups and finding a match: {PF_OVERVIEW}; "
        "RFC 7644 §3.4.2 (a list without a filter) and §3.4.2.4 (startIndex, count); docs/pingfederate-idp.md §5"
    ),
    tags={"groups", "matching", "list"},
    hint="answer GET /Groups?startIndex=1&count=100 with a ListResponse of every group, page by page",
)
def find_group_by_listing(ctx: CheckContext) -> None:
    ann = person(ctx, "pfm")
    group = team(ctx, [ann])
    existing = ctx.create_group(group.name)
    ping = Ping(ctx, directory([ann], [group], assigned=[ann], pushed=[group]))
    ping.cycle("provision a group that exists already")
    ctx.expect(
        ping.group_id(group) == existing["id"],
        "PingFederate did not find the existing group",
        expected=existing["id"],
        actual=ping.group_id(group),
    )
    _expect_members(ctx, ping, group, [ann], "the existing group does not hold the datastore's members")


@SUITE.check(
    "pingfederate-group-members-patch",
    "Membership changes go as one PATCH (add of members, remove by members[value eq ...]), applied in order",
    level=Level.MUST,
    ref=(
        f"group memberships are updated with PATCH: {PF_OVERVIEW}; RFC 7644 §3.5.2.1 and §3.5.2.2; "
        "docs/pingfederate-idp.md §5"
    ),
    tags={"groups", "patch"},
    hint='apply PATCH add of members and remove with path members[value eq "<id>"] to just those members',
)
def group_members_patch(ctx: CheckContext) -> None:
    ping, people, group = _linked_group(ctx, 3, PINGFEDERATE_PATCH)
    ping.console.remove_member(group.id, people[0].id)
    ping.console.add_member(group.id, people[1].id)
    ping.console.add_member(group.id, people[2].id)
    ping.cycle("change a group's members")
    _expect_members(ctx, ping, group, people[1:], "the group's members are not what the PATCH made them")


@SUITE.check(
    "pingfederate-group-rename-patch",
    "A renamed group is written with a PATCH replace of displayName, keeping its id and members",
    level=Level.MUST,
    ref=f"group name updates: {PF_MANAGEMENT}; RFC 7644 §3.5.2.3; docs/pingfederate-idp.md §5",
    tags={"groups", "patch"},
)
def group_rename_patch(ctx: CheckContext) -> None:
    ping, people, group = _linked_group(ctx, 1, PINGFEDERATE_PATCH)
    new_name = ctx.name("pfr")
    ping.console.rename_group(group.id, new_name)
    ping.cycle("rename a group")
    doc = ctx.fetch(f"/Groups/{ping.group_id(group)}")
    ctx.expect(
        doc.get("displayName") == new_name,
        "the group keeps its old name",
        expected=new_name,
        actual=json.dumps(doc.get("displayName")),
    )
    _expect_members(ctx, ping, group, people, "the rename changed the group's members")


@SUITE.check(
    "pingfederate-group-put",
    "Without PATCH (the connection's PATCH box cleared), membership changes replace the whole group with PUT",
    level=Level.MUST,
    ref=(
        f"SCIM SP Supports Patch Updates: {PF_OVERVIEW}; RFC 7644 §3.5.1 (PUT replaces members); "
        "docs/pingfederate-idp.md §5"
    ),
    tags={"groups", "put"},
    hint="a PUT /Groups/{id} sets members to exactly the list it carries",
)
def group_put(ctx: CheckContext) -> None:
    ping, people, group = _linked_group(ctx, 2, PINGFEDERATE_PUT)
    ping.console.remove_member(group.id, people[0].id)
    ping.console.add_member(group.id, people[1].id)
    ping.cycle("replace a group's members")
    _expect_members(ctx, ping, group, people[1:], "the group's members are not the PUT's list")


@SUITE.check(
    "pingfederate-delete-group",
    "A group taken out of the source is deleted, and is gone afterwards",
    level=Level.MUST,
    ref=f"group deletion: {PF_MANAGEMENT}; RFC 7644 §3.6; docs/pingfederate-idp.md §5",
    tags={"groups", "delete"},
)
def delete_group(ctx: CheckContext) -> None:
    ping, _, group = _linked_group(ctx, 1, PINGFEDERATE_PATCH)
    scim_id = ping.group_id(group)
    ping.console.disconnect_group(group.id)
    ping.cycle("delete a group")
    ctx.forget(f"/Groups/{scim_id}")
    response = ctx.raw("GET", f"/Groups/{scim_id}")
    if response.status_code != 404:
        ctx.track(f"/Groups/{scim_id}")
    ctx.expect_status(response, 404, what="GET of the deleted group")
