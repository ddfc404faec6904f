"""Several app roles: AppRoleAssignmentsComplex and AssertiveAppRoleAssignmentsComplex send the bodies of
Microsoft's "Provisioning a role to a SCIM app" examples (docs/entra-idp.md §4 Roles), on create and on update,
with and without the aadOptscim062020 flag, and a cycle against the reference server keeps the roles in step."""

from __future__ import annotations

import json

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store
from emulators.core.clock import FakeClock
from emulators.core.directory import AppAssignments, Directory, User
from emulators.core.mapping import TargetPath
from emulators.entra import ENTRA_DEFAULT, EntraDirectory, EntraEmulator
from emulators.entra.directory import AppRole
from emulators.entra.expression import compile_expression
from emulators.entra.mapping import DEFAULT_USER_MAPPING, EntraRule
from emulators.entra.payloads import update_operations, user_create_body
from emulators.entra.profile import ENTRA_SCIM062020
from scimcore.client import IN_PROCESS_SCIM_URL, BearerAuth, make_http

ROLES = TargetPath("roles")
ADMIN = {"id": "06b07648-ecfe-589f-9d2f-6325724a46ee", "value": "Admin", "displayName": "Admin"}
USER = {"id": "06b07648-ecfe-599f-9d2f-6325724a46ee", "value": "User", "displayName": "User"}
TEST = {"id": "t", "value": "Test", "displayName": "Test"}


def roles(function: str, *assigned: dict[str, str]) -> object:
    return compile_expression(f"{function}([appRoleAssignments])").evaluate({"appRoleAssignments": list(assigned)})


def test_complex_roles_on_create_are_the_documented_post() -> None:
    body = user_create_body([(ROLES, roles("AppRoleAssignmentsComplex", ADMIN, USER))], ENTRA_DEFAULT)
    assert body["roles"] == [
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "displayName": "Admin", "value": "Admin"},
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "displayName": "User", "value": "User"},
    ]


def test_complex_roles_on_update_are_the_documented_stringified_add() -> None:
    ops = update_operations({"roles": []}, [(ROLES, roles("AppRoleAssignmentsComplex", ADMIN, USER))], ENTRA_DEFAULT)
    assert ops == [
        {
            "op": "Add",
            "path": "roles",
            "value": [
                {"value": '{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"Admin","displayName":"Admin"}'},
                {"value": '{"id":"06b07648-ecfe-599f-9d2f-6325724a46ee","value":"User","displayName":"User"}'},
            ],
        }
    ]
    # only adds: a role the target holds is not sent again, one it should not hold is not removed
    held = {"roles": [{"value": "Admin"}, {"value": "Legacy"}]}
    ops = update_operations(held, [(ROLES, roles("AppRoleAssignmentsComplex", ADMIN, USER))], ENTRA_DEFAULT)
    assert [json.loads(item["value"])["value"] for item in ops[0]["value"]] == ["User"]
    # with the flag the PATCH matches the POST
    flagged = update_operations({"roles": []}, [(ROLES, roles("AppRoleAssignmentsComplex", ADMIN))], ENTRA_SCIM062020)
    assert flagged[0]["value"] == [
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "displayName": "Admin", "value": "Admin"}
    ]


def test_assertive_roles_are_the_documented_post_and_replace() -> None:
    wanted = roles("AssertiveAppRoleAssignmentsComplex", USER, TEST)
    elements = [
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "display": "User", "value": "User"},
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "display": "Test", "value": "Test"},
    ]
    assert user_create_body([(ROLES, wanted)], ENTRA_DEFAULT)["roles"] == elements
    ops = update_operations({"roles": [{"value": "User"}, {"value": "Old"}]}, [(ROLES, wanted)], ENTRA_DEFAULT)
    assert ops == [{"op": "Replace", "path": "roles", "value": elements}]
    assert update_operations({"roles": elements}, [(ROLES, wanted)], ENTRA_DEFAULT) == [], "in step: nothing sent"


def test_a_cycle_keeps_the_assertive_roles_in_step_on_the_reference_server() -> None:
    store = open_store(ServerConfig())
    http = make_http(create_app(store=store), BearerAuth(issue_token(store, "roles")), base_url=IN_PROCESS_SCIM_URL)
    ann = User("ann", {"login": "ann@contoso.test", "firstName": "Ann", "lastName": "Lee"})
    directory = EntraDirectory(Directory(users={"ann": ann}, app=AppAssignments(users=["ann"])))
    directory.app_roles["ann"] = [AppRole(USER["id"], "User", "User"), AppRole(TEST["id"], "Test", "Test")]
    rule = EntraRule("roles", "expression", "AssertiveAppRoleAssignmentsComplex([appRoleAssignments])")
    emulator = EntraEmulator(
        directory, http, ENTRA_DEFAULT, user_mapping=DEFAULT_USER_MAPPING.merged([rule]), clock=FakeClock()
    )
    emulator.start()
    held = http.get("/Users", params={"filter": 'userName eq "ann@contoso.test"'}).json()["Resources"][0]
    assert sorted(role["value"] for role in held["roles"]) == ["Test", "User"]
    emulator.set_app_roles("ann", [AppRole(USER["id"], "User", "User")])
    emulator.run_cycle()
    held = http.get(f"/Users/{held['id']}").json()
    assert [role["value"] for role in held["roles"]] == ["User"], "the replace removed the role taken away"
    assert not [entry for entry in emulator.log if entry.outcome.value == "Failure"]
    http.close()
    store.close()
