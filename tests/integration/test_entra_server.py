"""The Entra emulator against the reference server, in process: server state after every admin action."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask

from emulators.core.clock import FakeClock
from emulators.core.directory import AppAssignments, Directory, Group, User
from emulators.entra import (
    DEFAULT_USER_MAPPING,
    ENTRA_DEFAULT,
    ENTRA_SCIM062020,
    EntraDirectory,
    EntraEmulator,
    EntraProfile,
    EntraRule,
    EntraSettings,
)
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL, BearerAuth, make_http

BASE_URL = IN_PROCESS_SCIM_URL
BOTH = pytest.mark.parametrize("profile", [ENTRA_DEFAULT, ENTRA_SCIM062020], ids=["scim", "flag"])
ANN, BEN, CAT, TEAM = "ann-oid", "ben-oid", "cat-oid", "team-oid"

Factory = Callable[..., EntraEmulator]


def people() -> EntraDirectory:
    ann = User(
        ANN,
        {
            "login": "Ann.Lee@contoso.test",
            "email": "ann@contoso.test",
            "firstName": "Ann",
            "lastName": "Lee",
            "displayName": "Ann Lee",
            "title": "Engineer",
            "department": "R&D",
            "employeeNumber": "E1",
            "managerId": BEN,
        },
    )
    ben = User(BEN, {"login": "ben@contoso.test", "firstName": "Bến", "lastName": "Ng", "mobilePhone": "+1 555"})
    cat = User(CAT, {"login": "cat@contoso.test", "firstName": "Cat", "lastName": "Zoë"})
    team = Group(TEAM, "Team Ω", members=[ANN, BEN])
    core = Directory(
        users={u.id: u for u in (ann, ben, cat)},
        groups={TEAM: team},
        app=AppAssignments(users=[CAT], groups=[TEAM]),
    )
    return EntraDirectory(core)


@pytest.fixture
def make_entra(app: Flask, token: str) -> Iterator[Factory]:
    clients: list[httpx.Client] = []

    def build(directory: EntraDirectory, profile: EntraProfile = ENTRA_DEFAULT, **kwargs: Any) -> EntraEmulator:
        http = make_http(app, BearerAuth(token), base_url=BASE_URL, headers=profile.headers)
        clients.append(http)
        return EntraEmulator(directory, http, profile, clock=FakeClock(), **kwargs)

    yield build
    for http in clients:
        http.close()


def users_by_name(client: httpx.Client) -> dict[str, dict[str, Any]]:
    found = client.get("/Users", params={"count": 100}).json()["Resources"]
    return {doc["userName"]: doc for doc in found}


def group(client: httpx.Client, entra: EntraEmulator) -> dict[str, Any]:
    return client.get(f"/Groups/{entra.links.scim_id('group', TEAM)}").json()


@BOTH
def test_initial_cycle_leaves_users_groups_managers_and_members_on_the_server(
    make_entra: Factory, client: httpx.Client, profile: EntraProfile
) -> None:
    entra = make_entra(people(), profile)
    report = entra.start()
    assert not [e for e in report.entries if e.outcome == "Failure"], [str(e) for e in report.entries]
    users = users_by_name(client)
    assert set(users) == {"Ann.Lee@contoso.test", "ben@contoso.test", "cat@contoso.test"}
    ann = users["Ann.Lee@contoso.test"]
    assert ann["active"] is True and ann["title"] == "Engineer"
    assert ann["name"] == {"givenName": "Ann", "familyName": "Lee", "formatted": "Ann Lee"}
    assert ann["emails"] == [{"type": "work", "value": "ann@contoso.test", "primary": True}]
    enterprise = ann[urns.ENTERPRISE_USER]
    assert enterprise["employeeNumber"] == "E1" and enterprise["department"] == "R&D"
    assert enterprise["manager"]["value"] == entra.links.scim_id("user", BEN)
    team = group(client, entra)
    assert team["displayName"] == "Team Ω" and team["externalId"] == TEAM
    members = {m["value"] for m in team["members"]}
    assert members == {entra.links.scim_id("user", ANN), entra.links.scim_id("user", BEN)}
    # a second cycle with no change sends nothing but the probes and leaves the state alone
    assert entra.run_cycle().entries == []


@BOTH
def test_updates_disable_restore_delete_and_membership_changes(
    make_entra: Factory, client: httpx.Client, profile: EntraProfile
) -> None:
    entra = make_entra(people(), profile)
    entra.start()
    entra.update_user(ANN, {"jobTitle": "Lead", "surname": "Lee-Smith", "mail": "ann.ls@contoso.test"})
    entra.run_cycle()
    ann = users_by_name(client)["Ann.Lee@contoso.test"]
    assert ann["title"] == "Lead" and ann["name"]["familyName"] == "Lee-Smith"
    assert ann["emails"][0]["value"] == "ann.ls@contoso.test" and len(ann["emails"]) == 1

    entra.set_account_enabled(CAT, False)
    entra.run_cycle()
    assert users_by_name(client)["cat@contoso.test"]["active"] is False
    entra.set_account_enabled(CAT, True)
    entra.run_cycle()
    assert users_by_name(client)["cat@contoso.test"]["active"] is True

    entra.remove_group_member(TEAM, BEN)
    entra.run_cycle()
    assert {m["value"] for m in group(client, entra)["members"]} == {entra.links.scim_id("user", ANN)}

    entra.update_user(ANN, {"manager": None})
    entra.run_cycle()
    assert "manager" not in users_by_name(client)["Ann.Lee@contoso.test"].get(urns.ENTERPRISE_USER, {})

    entra.hard_delete_user(CAT)
    entra.run_cycle()
    assert "cat@contoso.test" not in users_by_name(client)

    entra.unassign_group(TEAM)
    report = entra.run_cycle()
    assert client.get("/Groups").json()["totalResults"] == 0
    # members of the unassigned group are disabled, never deleted (§3.3)
    assert users_by_name(client)["Ann.Lee@contoso.test"]["active"] is False
    assert not [e for e in report.entries if e.outcome == "Failure"]


def test_invalid_anchor_then_restart_recreates_and_full_reset_relinks(
    make_entra: Factory, client: httpx.Client
) -> None:
    entra = make_entra(people())
    entra.start()
    cat_id = entra.links.scim_id("user", CAT)
    assert client.delete(f"/Users/{cat_id}").status_code == 204
    entra.update_user(CAT, {"jobTitle": "Vet"})
    report = entra.run_cycle()
    assert [e.code for e in report.entries] == ["InvalidAnchor"]
    entra.restart()
    entra.run_cycle()
    assert users_by_name(client)["cat@contoso.test"]["title"] == "Vet"
    before = dict(entra.links.links("user"))
    entra.restart(full=True)
    report = entra.run_cycle()
    assert entra.links.links("user") == before  # matched back to the same server objects
    assert not any(e.action == "Create" for e in report.entries)


def test_provision_on_demand_and_match_of_an_existing_user(make_entra: Factory, client: httpx.Client) -> None:
    existing = client.post(
        "/Users", json={"schemas": [urns.USER], "userName": "CAT@contoso.test", "title": "old"}
    ).json()
    entra = make_entra(people())
    entries = entra.provision_on_demand(CAT)
    assert [(e.action, e.outcome) for e in entries] == [("Update", "Success")]
    assert entra.links.scim_id("user", CAT) == existing["id"]
    doc = client.get(f"/Users/{existing['id']}").json()
    assert doc["name"]["givenName"] == "Cat" and doc["active"] is True
    entries = entra.provision_group_on_demand(TEAM, [ANN])
    assert [(e.kind, e.action, e.outcome) for e in entries] == [
        ("user", "Create", "Success"),
        ("group", "Create", "Success"),
        ("group", "Update", "Success"),
    ]
    assert [m["value"] for m in group(client, entra)["members"]] == [entra.links.scim_id("user", ANN)]


def test_duplicate_target_entries_against_case_insensitive_matches(make_entra: Factory, client: httpx.Client) -> None:
    """userName is unique case-insensitively on the server, so duplicates come from another matching attribute."""
    for name in ("x1@contoso.test", "x2@contoso.test"):
        client.post("/Users", json={"schemas": [urns.USER], "userName": name, "externalId": "cat"})
    mapping = DEFAULT_USER_MAPPING.merged([EntraRule("externalId", "direct", "mailNickname", matching=2)])
    entra = make_entra(people(), user_mapping=mapping, settings=EntraSettings(create=False))
    report = entra.start()
    assert ("cat-oid", "DuplicateTargetEntries") in [(e.source_id, e.code) for e in report.entries]


@pytest.mark.network
def test_cli_runs_cycles_against_a_served_server(served: Any, tmp_path: Path) -> None:
    from aup.commands.connection import ConnectionOptions
    from aup.commands.entra import EntraOptions, run_entra
    from emulators.core.directory import save_directory

    path = tmp_path / "people.yaml"
    save_directory(people().core, path)
    lines: list[str] = []
    connection = ConnectionOptions(target=served.base_url + "?aadOptscim062020", token=served.token)
    entries = run_entra(path, connection, EntraOptions(cycles=2), echo=lines.append)
    assert [line.split(":")[0] for line in lines if line.startswith("cycle ")] == [
        "cycle 1 (initial)",
        "cycle 2 (incremental)",
    ]
    assert any("Create Success" in line for line in lines)
    assert {entry.cycle for entry in entries} == {1}  # cycle 2 finds nothing changed: no entry
    assert (tmp_path / "people.entra-links.json").exists() and (tmp_path / "people.entra-job.json").exists()
