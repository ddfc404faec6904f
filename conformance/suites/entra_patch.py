"""Entra's PATCH dialects against a service provider (docs/entra-idp.md §4-§5): Title-case ops, string
booleans, the flag's path-less replace, valuePath and manager paths, member Add and Remove.

Each request is built with the Entra dialect profiles and payload builders and sent with Entra's headers.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.context import CheckContext
from conformance.helpers import member_ids
from conformance.idp import entra_scim
from conformance.model import Level
from conformance.references import ENTRA_ACTIVE_STRING, ENTRA_KNOWN_ISSUES, ENTRA_TUTORIAL, scim_patch, scim_sdk
from conformance.registry import Suite
from emulators.core.mapping import TargetPath, get_value
from emulators.core.payloads import patch_request
from emulators.entra import ENTRA_DEFAULT, ENTRA_SCIM062020, EntraProfile, payloads
from scimcore import urns

SUITE = Suite("entra")

WORK_EMAIL = TargetPath.parse('emails[type eq "work"].value')
EMPLOYEE_NUMBER = TargetPath("employeeNumber", urn=urns.ENTERPRISE_USER)


def _patch(ctx: CheckContext, path: str, operations: list[dict[str, Any]], profile: EntraProfile) -> dict[str, Any]:
    """Send Entra's PATCH; 200 with the resource or 204 are both fine (docs/entra-idp.md §6); the stored resource."""
    response = entra_scim(ctx, profile).patch(path, patch_request(operations))
    ctx.expect_status(response, 200, 204, what=f"Entra's PATCH {json.dumps(operations)[:160]}")
    return ctx.fetch(path)


def _expect_value(ctx: CheckContext, doc: dict[str, Any], path: TargetPath, wanted: Any, why: str) -> None:
    actual = get_value(doc, path)
    ctx.expect(actual == wanted, why, expected=f"{path}: {json.dumps(wanted)}", actual=f"{path}: {json.dumps(actual)}")


def _create_with_enterprise(ctx: CheckContext, enterprise: dict[str, Any]) -> dict[str, Any]:
    body = ctx.user_body()
    body["schemas"] = [urns.USER, urns.ENTERPRISE_USER]
    body[urns.ENTERPRISE_USER] = enterprise
    return ctx.create("/Users", body)


@SUITE.check(
    "entra-patch-title-case-ops",
    "PATCH ops spelled 'Replace' and 'Add' (Entra's default dialect) are applied",
    level=Level.MUST,
    ref=(
        f"Entra sends the ops Add, Replace and Remove capitalised: {ENTRA_KNOWN_ISSUES}; RFC 7644 §3.5.2; "
        "docs/entra-idp.md §5 (servers must match op case-insensitively)"
    ),
    tags={"users", "patch"},
)
def title_case_ops(ctx: CheckContext) -> None:
    user = ctx.create_user()
    title = TargetPath("title")
    values = [(TargetPath("displayName"), "Grace Hopper"), (title, "Rear Admiral")]
    operations = payloads.update_operations(user, values, ENTRA_DEFAULT)
    doc = _patch(ctx, f"/Users/{user['id']}", operations, ENTRA_DEFAULT)
    _expect_value(ctx, doc, TargetPath("displayName"), "Grace Hopper", "the 'Replace' op was not applied")
    _expect_value(ctx, doc, title, "Rear Admiral", "the 'Add' op was not applied")


@SUITE.check(
    "entra-patch-string-booleans",
    'active sent as the strings "False" and "True" (flag off) deactivates and reactivates the user',
    level=Level.MUST,
    ref=(
        f"Entra sends booleans as strings in its default PATCH mode: {ENTRA_KNOWN_ISSUES}; "
        f"{ENTRA_ACTIVE_STRING}; RFC 7643 §2.3.2; docs/entra-idp.md §5"
    ),
    tags={"users", "patch", "lifecycle"},
)
def string_booleans(ctx: CheckContext) -> None:
    user = ctx.create_user()
    path = f"/Users/{user['id']}"
    active = TargetPath("active")
    for wanted in (False, True):
        current = ctx.fetch(path)
        operations = payloads.update_operations(current, [(active, wanted)], ENTRA_DEFAULT)
        doc = _patch(ctx, path, operations, ENTRA_DEFAULT)
        ctx.expect(
            doc.get("active") is wanted,
            f"active sent as {json.dumps(operations[0]['value'])} did not become {json.dumps(wanted)}",
            expected=f'"active": {json.dumps(wanted)}',
            actual=f'"active": {json.dumps(doc.get("active"))}',
        )


@SUITE.check(
    "entra-flag-pathless-replace",
    "With aadOptscim062020, one path-less replace with dotted and URN-qualified keys updates each attribute",
    level=Level.MUST,
    ref=(
        f"With the aadOptscim062020 flag a path-less replace uses keys like name.givenName: {ENTRA_KNOWN_ISSUES}; "
        "RFC 7644 §3.5.2.3; docs/entra-idp.md §5"
    ),
    tags={"users", "patch"},
)
def pathless_dotted(ctx: CheckContext) -> None:
    user = _create_with_enterprise(ctx, {"employeeNumber": "1"})
    given = TargetPath("name", sub="givenName")
    values = [(TargetPath("displayName"), "Kkom Unua"), (given, "Kkom"), (EMPLOYEE_NUMBER, "2")]
    operations = payloads.update_operations(user, values, ENTRA_SCIM062020)
    doc = _patch(ctx, f"/Users/{user['id']}", operations, ENTRA_SCIM062020)
    for path, wanted in values:
        _expect_value(ctx, doc, path, wanted, f"the path-less replace did not update {path}")


@SUITE.check(
    "entra-valuepath-replace",
    'Replace on emails[type eq "work"].value updates the work email in place, never adding a second one',
    level=Level.MUST,
    ref=(
        f"Entra's Update User [multi-valued properties]: {ENTRA_TUTORIAL}; RFC 7644 §3.5.2.3; "
        "docs/entra-idp.md §4 and §6 (type values unique within a multi-valued attribute)"
    ),
    tags={"users", "patch", "valuepath"},
)
def valuepath_replace(ctx: CheckContext) -> None:
    user = ctx.create_user()
    new_mail = f"{ctx.name('mail')}@example.org"
    family = TargetPath("name", sub="familyName")
    operations = payloads.update_operations(user, [(WORK_EMAIL, new_mail), (family, "Hopper")], ENTRA_DEFAULT)
    doc = _patch(ctx, f"/Users/{user['id']}", operations, ENTRA_DEFAULT)
    work = [e for e in doc.get("emails") or [] if isinstance(e, dict) and e.get("type") == "work"]
    ctx.expect(
        [e.get("value") for e in work] == [new_mail],
        "the work email was not replaced in place",
        expected=f'one work email "{new_mail}"',
        actual=json.dumps(work),
    )
    _expect_value(ctx, doc, family, "Hopper", "name.familyName was not replaced")


@SUITE.check(
    "entra-valuepath-add-merges",
    'Several Adds on addresses[type eq "work"].<sub> create one work address holding every sub-attribute',
    level=Level.MUST,
    ref=(
        "RFC 7644 §3.5.2.1 (a filtered path creates a missing element); "
        f"several adds on one filtered element, as reported in {scim_sdk(680)}; docs/entra-idp.md §5"
    ),
    tags={"users", "patch", "valuepath"},
)
def valuepath_add(ctx: CheckContext) -> None:
    user = ctx.create_user()
    subs = {"streetAddress": "1 Main St", "locality": "Springfield", "postalCode": "49007"}
    values = [(TargetPath("addresses", sub=sub, selector=("type", "work")), v) for sub, v in subs.items()]
    doc = _patch(ctx, f"/Users/{user['id']}", payloads.update_operations(user, values, ENTRA_DEFAULT), ENTRA_DEFAULT)
    work = [a for a in doc.get("addresses") or [] if isinstance(a, dict) and a.get("type") == "work"]
    ctx.expect(
        len(work) == 1 and all(work[0].get(sub) == v for sub, v in subs.items()),
        "the Adds did not build exactly one work address",
        expected=json.dumps([{"type": "work", **subs}]),
        actual=json.dumps(doc.get("addresses")),
    )


@SUITE.check(
    "entra-group-add-member",
    'Entra\'s member Add (value [{"$ref": null, "value": id}]) adds the member and keeps the others',
    level=Level.MUST,
    ref=(
        f"Entra's Add Members request: {ENTRA_TUTORIAL}; RFC 7644 §3.5.2.1; "
        "docs/entra-idp.md §4 and §3.4 (one member per PATCH)"
    ),
    tags={"groups", "patch"},
    hint="apply a PATCH add of members with a value list as an append of those members, keeping the others",
)
def group_add_member(ctx: CheckContext) -> None:
    first, second = ctx.create_user(), ctx.create_user()
    group = ctx.create_group(members=[first["id"]])
    path = f"/Groups/{group['id']}"
    doc = _patch(ctx, path, payloads.member_add_patch([second["id"]], ENTRA_DEFAULT)["Operations"], ENTRA_DEFAULT)
    ctx.expect(
        member_ids(doc) == {first["id"], second["id"]},
        "after the Add the group does not hold both members",
        expected=json.dumps(sorted([first["id"], second["id"]])),
        actual=json.dumps(sorted(member_ids(doc))),
    )


@SUITE.check(
    "entra-group-remove-member-by-value",
    "Entra's member Remove (path members with a value list) removes only the listed member",
    level=Level.MUST,
    ref=(
        f"Entra's Remove Members request (op remove, path members, a value list): {ENTRA_TUTORIAL}; "
        f"RFC 7644 §3.5.2.2; reported in {scim_sdk(167)} and {scim_patch(959)}; "
        "docs/entra-idp.md §4 and §5 (read literally it removes all members)"
    ),
    tags={"groups", "patch"},
)
def group_remove_member(ctx: CheckContext) -> None:
    keep, leave = ctx.create_user(), ctx.create_user()
    group = ctx.create_group(members=[keep["id"], leave["id"]])
    operations = payloads.member_remove_patch([leave["id"]], ENTRA_DEFAULT)["Operations"]
    doc = _patch(ctx, f"/Groups/{group['id']}", operations, ENTRA_DEFAULT)
    ctx.expect(
        member_ids(doc) == {keep["id"]},
        "the Remove did not remove exactly the listed member",
        expected=json.dumps([keep["id"]]),
        actual=json.dumps(sorted(member_ids(doc))),
    )


def _manager(doc: dict[str, Any]) -> Any:
    return (doc.get(urns.ENTERPRISE_USER) or {}).get("manager")


@SUITE.check(
    "entra-manager-bare-string",
    "The manager sent as a bare id on the enterprise URN path comes back as a complex {value: id}",
    # MUST, not SHOULD: Entra's default mapping sends the manager this way, so every Entra sync of users with a
    # manager fails on a server that refuses it (the sync checks, MUST, stand on this one)
    level=Level.MUST,
    hint=(
        "accept a PATCH whose value for urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager is a bare "
        'id string, and store and return it as {"value": id}'
    ),
    ref=(
        f"Entra's Manager update: {ENTRA_TUTORIAL}; "
        f"the manager sent as a bare string, as reported in {scim_sdk(541)}; "
        "RFC 7643 §4.3 (manager is complex); "
        "docs/entra-idp.md §4 and §6 (a bare-string manager in answers breaks Entra's parser)"
    ),
    tags={"users", "patch", "manager"},
)
def manager_add(ctx: CheckContext) -> None:
    boss, user = ctx.create_user(), ctx.create_user()
    operation = payloads.manager_operation(None, boss["id"], ENTRA_DEFAULT)
    assert operation is not None
    doc = _patch(ctx, f"/Users/{user['id']}", [operation], ENTRA_DEFAULT)
    manager = _manager(doc)
    ctx.expect(
        isinstance(manager, dict) and manager.get("value") == boss["id"],
        "the manager is not stored as a complex value naming the manager's id",
        expected=f'"manager": {{"value": "{boss["id"]}", ...}}',
        actual=f'"manager": {json.dumps(manager)}',
    )


@SUITE.check(
    "entra-manager-remove-filter",
    'Removing the manager with path manager[value eq "<id>"] clears it',
    level=Level.SHOULD,
    ref=(
        f"RFC 7644 §3.5.2.2; Entra removes a manager with a value filter, as reported in {scim_patch(453)}; "
        "docs/entra-idp.md §4 (servers answer 'cannot search a mono-valued attribute')"
    ),
    tags={"users", "patch", "manager"},
)
def manager_remove(ctx: CheckContext) -> None:
    boss = ctx.create_user()
    user = _create_with_enterprise(ctx, {"manager": {"value": boss["id"]}})
    operation = payloads.manager_operation(boss["id"], None, ENTRA_DEFAULT)
    assert operation is not None
    doc = _patch(ctx, f"/Users/{user['id']}", [operation], ENTRA_DEFAULT)
    ctx.expect(
        _manager(doc) is None,
        "the manager is still set",
        expected="no manager",
        actual=f'"manager": {json.dumps(_manager(doc))}',
    )
