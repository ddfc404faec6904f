"""A minimal IdP that exists only in the test suite, to prove the registry: registered here and nowhere
else, it must appear in ``aup sync --idp``, in the conformance ``sync`` suite and in a Gherkin run.

It reconciles like a cycle-based IdP: admin actions change the directory, ``sync`` sends what differs.
In scope is an assigned, active user: created (POST) once, then replaced (PUT) on every sync; a user that
leaves the scope is deactivated (PATCH ``active`` false), never deleted. Connected groups are created, then
replaced with their in-scope members; a disconnected group is deleted. Its traffic is marked
``Toy IdP/1.0`` in the User-Agent.
"""

from __future__ import annotations

from typing import Any

import httpx

from emulators.core.console import AdminConsole, ConsoleSetup, DirectoryActions
from emulators.core.directory import Status, User
from emulators.core.expected import EXTERNAL_ID, ExpectedGroup, ExpectedState, ExpectedUser
from emulators.core.linkstore import LinkStore
from emulators.core.mapping import TargetPath
from emulators.core.profile import IdpProfile
from emulators.core.retry import RateLimitPolicy
from emulators.registry import IdpSpec
from scimcore import urns
from scimcore.client import ScimClient, eq_filter

TOY_PROFILE = IdpProfile(
    name="plain",
    source="toy",
    headers=(("Accept", urns.MEDIA_TYPE), ("User-Agent", "Toy IdP/1.0")),
    body_headers=(("Content-Type", urns.MEDIA_TYPE),),
    query_space="%20",
    rate_limit=RateLimitPolicy(default_wait=1.0, factor=2.0, max_attempts=1),
)
_VALUES = (
    (TargetPath("userName"), "login"),
    (TargetPath("name", "givenName"), "firstName"),
    (TargetPath("name", "familyName"), "lastName"),
)


class ToyConsole(DirectoryActions, AdminConsole):
    label = "Toy"

    def __init__(self, setup: ConsoleSetup) -> None:
        super().__init__(setup.directory, setup.clock)
        profile = setup.profile
        self.scim = ScimClient(setup.http, headers=profile.headers, body_headers=profile.body_headers)
        self._links = setup.links or LinkStore()
        self.failures: list[str] = []

    @property
    def links(self) -> LinkStore:
        return self._links

    # admin actions only change the directory (DirectoryActions); ``sync`` sends
    def deactivate(self, user_id: str) -> None:
        self.directory.users[user_id].status = Status.DEPROVISIONED

    def reactivate(self, user_id: str) -> None:
        self.directory.users[user_id].status = Status.ACTIVE

    def provision_all(self) -> None:
        self.sync()

    def rewrite(self) -> None:
        self.sync()

    def unresolved_failures(self) -> list[str]:
        return list(self.failures)

    # the wire
    def sync(self) -> None:
        self.failures.clear()
        for user in self.directory.users.values():
            self._sync_user(user)
        for group_id, connected in self.directory.app.push_groups.items():
            self._sync_group(group_id, connected)
        self.links.save()

    def _in_scope(self, user: User) -> bool:
        return self.directory.is_assigned(user.id) and user.status is Status.ACTIVE

    def _sync_user(self, user: User) -> None:
        scim_id = self.links.scim_id("user", user.id)
        if not self._in_scope(user):
            if scim_id is not None:
                body = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": False}]}
                self._expect(self.scim.patch(f"/Users/{scim_id}", body), f"deactivate {user.login}")
            return
        doc: dict[str, Any] = {"schemas": [urns.USER], "externalId": user.id, "active": True}
        for path, source in _VALUES:
            if user.profile.get(source):
                if path.sub:
                    doc.setdefault(path.attribute, {})[path.sub] = user.profile[source]
                else:
                    doc[path.attribute] = user.profile[source]
        if scim_id is not None:
            self._expect(self.scim.put(f"/Users/{scim_id}", doc), f"update {user.login}")
            return
        response = self.scim.post("/Users", doc)
        if response.status_code == 409:  # already there: take it over, as IdPs match on userName, then write it
            found = self.scim.get("/Users", [("filter", eq_filter("userName", user.login))]).json()
            if found.get("Resources"):
                self.links.link("user", user.id, str(found["Resources"][0]["id"]))
                self._sync_user(user)
        elif self._expect(response, f"create {user.login}"):
            self.links.link("user", user.id, str(response.json()["id"]))

    def _sync_group(self, group_id: str, connected: bool) -> None:
        group = self.directory.group(group_id)
        scim_id = self.links.scim_id("group", group_id)
        if not connected:
            if scim_id is not None and self._expect(self.scim.delete(f"/Groups/{scim_id}"), f"delete {group.name}"):
                self.links.unlink("group", group_id)
            return
        members = [
            {"value": self.links.scim_id("user", uid)}
            for uid in group.members
            if uid in self.directory.users and self._in_scope(self.directory.users[uid])
        ]
        doc = {"schemas": [urns.GROUP], "displayName": group.name, "members": members}
        if scim_id is None:
            response = self.scim.post("/Groups", doc)
            if self._expect(response, f"create {group.name}"):
                self.links.link("group", group_id, str(response.json()["id"]))
            return
        self._expect(self.scim.put(f"/Groups/{scim_id}", doc), f"update {group.name}")

    def _expect(self, response: httpx.Response, what: str) -> bool:
        if response.is_success:
            return True
        self.failures.append(f"{what}: HTTP {response.status_code} {response.text[:200]}")
        return False

    def expected_state(self) -> ExpectedState:
        expected = ExpectedState()
        for user in self.directory.users.values():
            if self._in_scope(user):
                values = [(path, user.profile.get(source) or None) for path, source in _VALUES]
                values.append((EXTERNAL_ID, user.id))
                expected.users[user.login] = ExpectedUser(user.login, "active", tuple(values))
            else:
                expected.users[user.login] = ExpectedUser(user.login, "inactive")
        for group_id, connected in self.directory.app.push_groups.items():
            if connected:
                group = self.directory.group(group_id)
                in_scope = frozenset(
                    self.directory.users[uid].login
                    for uid in group.members
                    if uid in self.directory.users and self._in_scope(self.directory.users[uid])
                )
                expected.groups[group.name] = ExpectedGroup(group.name, in_scope, in_scope)
        return expected


TOY = IdpSpec(
    name="toy",
    label="Toy",
    profiles={TOY_PROFILE.name: TOY_PROFILE},
    default_profile=TOY_PROFILE.name,
    console=ToyConsole,
    agent_marks=("toy idp",),
    docs="tests/idps/toy.py",
)
