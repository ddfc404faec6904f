"""An exported Entra provisioning schema (the JSON Microsoft Graph's synchronization API returns for a job) used as
the mapping file: its attributeMappings become the emulator's rows, and a cycle against the reference server sends
what they say."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store
from emulators.core.clock import FakeClock
from emulators.core.directory import AppAssignments, Directory, Group, User
from emulators.core.errors import ConfigurationError
from emulators.core.expected import differences
from emulators.entra import ENTRA_DEFAULT, EntraDirectory, EntraEmulator
from emulators.entra.expected import expected_state
from emulators.entra.mapping import load_mappings, schema_to_mapping_data
from scimcore.client import IN_PROCESS_SCIM_URL, BearerAuth, make_http


def attribute(target: str, kind: str, value: str, **extra: Any) -> dict[str, Any]:
    """One attributeMapping as Graph writes it (flowType Always, no matching, unless given)."""
    origin = {"name": value, "type": kind, "expression": f"[{value}]" if kind == "Attribute" else value}
    return {"targetAttributeName": target, "source": origin, "flowType": "Always", "matchingPriority": 0, **extra}


SCHEMA = {
    "id": "customappsso",
    "synchronizationRules": [
        {
            "name": "USER_OUTBOUND_USER",
            "objectMappings": [
                {
                    "enabled": True,
                    "sourceObjectName": "User",
                    "targetObjectName": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                    "attributeMappings": [
                        attribute("userName", "Attribute", "userPrincipalName", matchingPriority=1),
                        attribute("active", "Function", 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'),
                        attribute("displayName", "Attribute", "displayName"),
                        attribute("name.givenName", "Attribute", "givenName"),
                        attribute("name.familyName", "Attribute", "surname"),
                        attribute('emails[type eq "work"].value', "Attribute", "mail"),
                        attribute("externalId", "Attribute", "mailNickname"),
                        attribute("title", "Function", "ToUpper([jobTitle])", flowType="ObjectAddOnly"),
                        attribute("preferredLanguage", "Constant", '"en-US"', defaultValue="en-US"),
                    ],
                },
                {
                    "enabled": True,
                    "sourceObjectName": "Group",
                    "targetObjectName": "urn:ietf:params:scim:schemas:core:2.0:Group",
                    "attributeMappings": [
                        attribute("displayName", "Attribute", "displayName", matchingPriority=1),
                        attribute("externalId", "Attribute", "objectId"),
                        attribute("members", "Attribute", "members"),
                    ],
                },
            ],
        }
    ],
}


def test_the_schema_becomes_mapping_rows() -> None:
    data = schema_to_mapping_data(SCHEMA, "schema.json")
    assert data["replace"] is True
    rows = {row["target"]: row for row in data["user"]}
    assert rows["userName"] == {"target": "userName", "apply": "always", "source": "userPrincipalName", "matching": 1}
    assert rows["active"]["expression"].startswith("Switch([IsSoftDeleted]")
    assert rows["title"] == {"target": "title", "apply": "on_create", "expression": "ToUpper([jobTitle])"}
    assert rows["preferredLanguage"] == {
        "target": "preferredLanguage", "apply": "always", "expression": '"en-US"', "default": "en-US"
    }  # fmt: skip
    assert [row["target"] for row in data["group"]] == ["displayName", "externalId", "members"]


def test_an_exported_schema_is_a_mapping_file_and_a_cycle_sends_what_it_says(tmp_path: Path) -> None:
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(SCHEMA), encoding="utf-8")
    users, groups = load_mappings(path)
    store = open_store(ServerConfig())
    http = make_http(create_app(store=store), BearerAuth(issue_token(store, "s")), base_url=IN_PROCESS_SCIM_URL)
    ann = User("ann", {"login": "ann@contoso.test", "email": "ann@contoso.test", "firstName": "Ann",
                       "lastName": "Lee", "title": "engineer"})  # fmt: skip
    team = Group("team", "Team", members=["ann"])
    directory = EntraDirectory(Directory({"ann": ann}, {"team": team}, AppAssignments(users=["ann"], groups=["team"])))
    emulator = EntraEmulator(
        directory, http, ENTRA_DEFAULT, user_mapping=users, group_mapping=groups, clock=FakeClock()
    )
    emulator.start()
    found = http.get("/Users").json()["Resources"]
    assert found[0]["title"] == "ENGINEER" and found[0]["preferredLanguage"] == "en-US"
    assert "phoneNumbers" not in found[0], "the schema replaces the default rows"
    held_groups = http.get("/Groups").json()["Resources"]
    assert differences(expected_state(directory, emulator.ctx.users), found, held_groups) == []
    http.close()
    store.close()


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"synchronizationRules": []}, "not a Graph synchronizationSchema"),
        ({"synchronizationRules": [{"objectMappings": [{"sourceObjectName": "Device", "attributeMappings": []}]}]},
         "maps no User or Group objects"),
        ({"synchronizationRules": [{"objectMappings": [{"sourceObjectName": "User", "attributeMappings": [
            attribute("title", "Attribute", "jobTitle", flowType="ValueAddOnly")]}]}]},
         "flowType ValueAddOnly is not emulated"),
        ({"synchronizationRules": [{"objectMappings": [{"sourceObjectName": "User", "attributeMappings": [
            {"targetAttributeName": "title", "source": {"type": "Function"}}]}]}]},
         "the source has no expression"),
    ],
)  # fmt: skip
def test_a_schema_the_emulator_cannot_follow_is_refused(schema: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        schema_to_mapping_data(schema, "schema.json")
