"""The Okta emulator against the reference server, in process: the server state after each admin action."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from flask import Flask

from aup_server.app import create_app
from aup_server.store import SqliteStore
from emulators.core.clock import FakeClock
from emulators.core.directory import Directory, Group, Status, User
from emulators.core.generator import generate_directory
from emulators.core.mapping import MappingRule
from emulators.okta import OKTA_AIW, OKTA_DEFAULT_MAPPING, OKTA_OIN, OktaEmulator, OktaProfile, OktaSettings, TaskStatus
from emulators.okta.profile import OKTA_OIN_MEMBERS_IN_POST
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL, BearerAuth, Wiretap, make_http

BASE_URL = IN_PROCESS_SCIM_URL
BOTH = pytest.mark.parametrize("profile", [OKTA_OIN, OKTA_AIW], ids=["oin", "aiw"])
ANN, BEN, TEAM = "00uANN0000000000000a", "00uBEN0000000000000b", "00gTEAM000000000000t"
SSH_URN = "urn:example:params:scim:schemas:extension:posix:2.0:User"

OktaFactory = Callable[..., tuple[OktaEmulator, Wiretap]]


def people() -> Directory:
    ann = User(
        ANN,
        {
            "login": "Ann.Lee@example.com",
            "email": "ann@example.com",
            "firstName": "Ann",
            "lastName": "Lee",
            "displayName": "Ann Lee",
            "department": "R&D",
            "sshPublicKeys": ["ssh-ed25519 AAAAC3Nza ann@laptop"],
        },
    )
    ben = User(BEN, {"login": "ben.ng@example.com", "email": "ben@example.com", "firstName": "Bến", "lastName": "Ng"})
    return Directory(
        users={ANN: ann, BEN: ben}, groups={TEAM: Group(TEAM, "Team Ω")}, custom_attributes=("sshPublicKeys",)
    )


@pytest.fixture
def app(store: SqliteStore) -> Flask:
    """The reference server with an SSH-key extension (custom attributes, docs/domain.md §1.2)."""
    ssh = {
        "resourceType": "User",
        "schema": {
            "id": SSH_URN,
            "name": "Posix",
            "attributes": [{"name": "sshPublicKeys", "type": "string", "multiValued": True}],
        },
    }
    return create_app({"extensions": [ssh]}, store=store)


@pytest.fixture
def make_okta(app: Flask, token: str) -> Iterator[OktaFactory]:
    clients: list[httpx.Client] = []

    def build(directory: Directory, profile: OktaProfile = OKTA_OIN, **kwargs: Any) -> tuple[OktaEmulator, Wiretap]:
        tap = Wiretap(profile.source)
        http = make_http(app, BearerAuth(token), hooks=tap.hooks, base_url=BASE_URL)
        clients.append(http)
        mapping = OKTA_DEFAULT_MAPPING.merged(
            [
                MappingRule(f"{urns.ENTERPRISE_USER}:department", "user.department"),
                MappingRule(f"{SSH_URN}:sshPublicKeys", "user.sshPublicKeys"),
            ]
        )
        return OktaEmulator(directory, http, profile, mapping=mapping, clock=FakeClock(), **kwargs), tap

    yield build
    for http in clients:
        http.close()


def server_user(client: httpx.Client, okta: OktaEmulator, user_id: str) -> dict[str, Any]:
    response = client.get(f"/Users/{okta.links.scim_id('user', user_id)}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def server_group(client: httpx.Client, okta: OktaEmulator) -> dict[str, Any]:
    response = client.get(f"/Groups/{okta.links.scim_id('group', TEAM)}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def member_ids(group: dict[str, Any]) -> set[str]:
    return {member["value"] for member in group.get("members") or ()}


def all_done(tasks: list[Any]) -> None:
    assert [t.error for t in tasks if t.status is not TaskStatus.DONE] == []


@BOTH
def test_assigned_user_is_created_with_the_mapped_profile(
    make_okta: OktaFactory, client: httpx.Client, profile: OktaProfile
) -> None:
    okta, _ = make_okta(people(), profile)
    all_done(okta.assign_user(ANN))
    user = server_user(client, okta, ANN)
    assert user["userName"] == "Ann.Lee@example.com", "case kept (docs/okta-idp.md §10.9)"
    assert user["name"]["givenName"] == "Ann" and user["externalId"] == ANN and user["active"] is True
    assert user["emails"][0]["value"] == "ann@example.com"
    assert user[urns.ENTERPRISE_USER]["department"] == "R&D"
    assert user[SSH_URN]["sshPublicKeys"] == ["ssh-ed25519 AAAAC3Nza ann@laptop"]
    assert "password" not in user


@BOTH
def test_profile_changes_and_cleared_values_reach_the_server(
    make_okta: OktaFactory, client: httpx.Client, profile: OktaProfile
) -> None:
    okta, _ = make_okta(people(), profile)
    okta.assign_user(ANN)
    all_done(okta.update_profile(ANN, {"firstName": "Anna", "department": None, "sshPublicKeys": ["k1", "k2"]}))
    user = server_user(client, okta, ANN)
    assert user["name"]["givenName"] == "Anna" and user["active"] is True
    assert "department" not in user.get(urns.ENTERPRISE_USER, {})
    assert user[SSH_URN]["sshPublicKeys"] == ["k1", "k2"]


@BOTH
def test_deactivated_users_stay_readable_and_come_back_with_the_same_id(
    make_okta: OktaFactory, client: httpx.Client, profile: OktaProfile
) -> None:
    okta, _ = make_okta(people(), profile)
    okta.assign_user(ANN)
    scim_id = okta.links.scim_id("user", ANN)
    all_done(okta.deactivate_user(ANN))
    assert client.get(f"/Users/{scim_id}").json()["active"] is False
    okta.reactivate_user(ANN)
    all_done(okta.assign_user(ANN))
    assert okta.links.scim_id("user", ANN) == scim_id
    assert server_user(client, okta, ANN)["active"] is True
    listed = client.get("/Users", params={"filter": 'userName eq "ann.lee@example.com"'}).json()
    assert listed["totalResults"] == 1


@pytest.mark.parametrize(
    "profile", [OKTA_OIN, OKTA_AIW, OKTA_OIN_MEMBERS_IN_POST], ids=["oin", "aiw", "oin-members-in-post"]
)
def test_group_push_lifecycle(make_okta: OktaFactory, client: httpx.Client, profile: OktaProfile) -> None:
    """Every dialect of group push, the members-in-POST variant's repeated add included (docs/okta-idp.md §7)."""
    directory = people()
    directory.groups[TEAM].members.append(ANN)
    okta, _ = make_okta(directory, profile)
    okta.assign_user(ANN)
    okta.assign_user(BEN)
    all_done(okta.push_group(TEAM))
    ann, ben = okta.links.scim_id("user", ANN), okta.links.scim_id("user", BEN)
    assert server_group(client, okta)["displayName"] == "Team Ω"
    assert [m["value"] for m in server_group(client, okta)["members"]] == [ann], "a repeated add is a no-op (§10.3)"
    all_done(okta.add_group_member(TEAM, BEN))
    assert member_ids(server_group(client, okta)) == {ann, ben}
    all_done(okta.remove_group_member(TEAM, ANN))
    assert member_ids(server_group(client, okta)) == {ben}
    all_done(okta.rename_group(TEAM, "Team Ω2"))
    assert server_group(client, okta)["displayName"] == "Team Ω2"
    okta.directory.groups[TEAM].members.clear()
    all_done(okta.push_now(TEAM))
    assert member_ids(server_group(client, okta)) == set()
    scim_group = okta.links.scim_id("group", TEAM)
    all_done(okta.unlink_group(TEAM, delete=True))
    assert client.get(f"/Groups/{scim_group}").status_code == 404


def test_suspend_sends_nothing_and_force_sync_repairs_drift(make_okta: OktaFactory, client: httpx.Client) -> None:
    okta, tap = make_okta(people())
    okta.assign_user(ANN)
    tap.clear()
    okta.suspend_user(ANN)
    assert tap.exchanges == []
    scim_id = okta.links.scim_id("user", ANN)
    drift = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": "name.givenName", "value": "Drift"}]}
    assert client.patch(f"/Users/{scim_id}", json=drift).status_code in (200, 204)
    all_done(okta.force_sync())
    user = server_user(client, okta, ANN)
    assert user["name"]["givenName"] == "Ann" and user["active"] is True


def test_import_reads_only_active_users(make_okta: OktaFactory) -> None:
    okta, _ = make_okta(people())
    okta.assign_user(ANN)
    okta.assign_user(BEN)
    okta.deactivate_user(BEN)
    result = okta.import_users()
    assert result.task.status is TaskStatus.DONE
    assert result.scanned == 2 and [u["userName"] for u in result.users] == ["Ann.Lee@example.com"]


def test_a_wrong_token_fails_the_connection_test_with_the_server_detail(app: Flask) -> None:
    http = make_http(app, BearerAuth("not-a-token"), base_url=BASE_URL)
    [task] = OktaEmulator(people(), http, clock=FakeClock()).test_connection()
    assert task.status is TaskStatus.FAILED and "401" in task.error


def test_full_sync_of_a_generated_directory_matches_its_expected_state(
    make_okta: OktaFactory, client: httpx.Client
) -> None:
    directory = generate_directory(150, 8, seed=21)
    okta, tap = make_okta(directory, OKTA_OIN, settings=OktaSettings(import_groups=True))
    all_done(okta.sync_all())
    for user in directory.assigned_users():
        scim_id = okta.links.scim_id("user", user.id)
        if user.status is Status.DEPROVISIONED:
            assert scim_id is None
            continue
        doc = client.get(f"/Users/{scim_id}").json()
        assert doc["userName"].lower() == user.login.lower(), "case twins link to one resource (§4.2)"
    for group_id, active in directory.app.push_groups.items():
        group = directory.groups[group_id]
        expected = {
            okta.links.scim_id("user", uid)
            for uid in group.members
            if okta.links.scim_id("user", uid) and directory.users[uid].status is not Status.DEPROVISIONED
        }
        doc = client.get(f"/Groups/{okta.links.scim_id('group', group_id)}").json()
        assert active and doc["displayName"] == group.name and member_ids(doc) == expected
    tap.clear()
    all_done(okta.sync_all())
    methods = {exchange.method for exchange in tap.exchanges}
    assert "POST" not in methods and "DELETE" not in methods, "a second sync creates nothing"
