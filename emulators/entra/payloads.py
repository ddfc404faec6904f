"""The request bodies Entra sends (docs/entra-idp.md §4, §5), built from mapped values and a dialect profile."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from emulators.core.mapping import TargetPath, folded, get_value, set_value
from emulators.core.payloads import ordered, patch_request
from emulators.entra.functions import RoleList
from emulators.entra.profile import BooleanEncoding, EntraProfile
from scimcore import urns
from scimcore.schemas import core_registry

_REGISTRY = core_registry()
ROLE_TYPE = "WindowsAzureActiveDirectoryRole"  # docs/entra-idp.md §4 Roles


def path_text(path: TargetPath) -> str:
    """The path as Entra writes it: ``emails[type eq "work"].value``, ``name.givenName``, ``urn:…:employeeNumber``."""
    text = path.attribute
    if path.selector is not None:
        text += f"[{path.selector[0]} eq {json.dumps(path.selector[1])}]"
    if path.sub:
        text += f".{path.sub}"
    return f"{path.urn}:{text}" if path.urn else text


def is_boolean(path: TargetPath, resource_type: str = "User") -> bool:
    dotted = f"{path.attribute}.{path.sub}" if path.sub else path.attribute
    resolved = _REGISTRY.resolve(resource_type, f"{path.urn}:{dotted}" if path.urn else dotted)
    return resolved is not None and resolved.target.type == "boolean"


def encode(value: Any, path: TargetPath, encoding: BooleanEncoding, resource_type: str = "User") -> Any:
    """Booleans as the dialect sends them: ``"True"``/``"False"`` strings or JSON booleans (§4, §5)."""
    if not is_boolean(path, resource_type):
        return value
    if encoding == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if encoding == "string" and isinstance(value, bool):
        return "True" if value else "False"
    return value


def same(current: Any, wanted: Any, path: TargetPath, resource_type: str = "User") -> bool:
    """Whether the target already holds the value; booleans compare by truth, the rest exactly (§6 fidelity)."""
    if is_boolean(path, resource_type):
        return str(current).lower() == str(wanted).lower()
    if path.attribute.lower() == "roles" and isinstance(wanted, RoleList):
        held = {folded(item, "value") for item in current} if isinstance(current, list) else set()
        values = {role.get("value") for role in wanted}
        # AppRoleAssignmentsComplex only adds; the assertive one replaces until the lists agree (§4 Roles)
        return held == values if wanted.assertive else values <= held
    if path.attribute.lower() == "roles" and isinstance(wanted, dict):
        return isinstance(current, list) and any(folded(item, "value") == wanted.get("value") for item in current)
    return bool(current == wanted)


def _role_element(role: dict[str, Any]) -> dict[str, Any]:
    """``SingleAppRoleAssignment`` on create (docs/entra-idp.md §4 Roles)."""
    return {"primary": True, "type": ROLE_TYPE, "value": role.get("value")}


def _role_elements(roles: RoleList) -> list[dict[str, Any]]:
    """Several roles, ``primary`` false: AppRoleAssignmentsComplex names each ``displayName``, the assertive one
    ``display``, as Microsoft's example bodies do (docs/entra-idp.md §4 Roles)."""
    name = "display" if roles.assertive else "displayName"
    return [
        {
            "primary": False,
            "type": ROLE_TYPE,
            name: role.get("displayName") or role.get("value"),
            "value": role.get("value"),
        }
        for role in roles
    ]


def _stringified(role: dict[str, Any]) -> dict[str, Any]:
    """A role in a PATCH without the flag: its ``{"id", "value", "displayName"}`` as JSON text (§4 Roles)."""
    keys = ("id", "value", "displayName")
    return {"value": json.dumps({key: role.get(key) for key in keys if key in role}, separators=(",", ":"))}


def user_create_body(values: Sequence[tuple[TargetPath, Any]], profile: EntraProfile) -> dict[str, Any]:
    """POST /Users (docs/entra-idp.md §4): core and enterprise URNs in ``schemas`` (custom extension URNs
    are nested but not listed), ``meta.resourceType``, ``roles: []`` unless roles are mapped, no nulls,
    and ``primary: true`` on the work email as in the documented body.
    """
    body: dict[str, Any] = {"schemas": [urns.USER, urns.ENTERPRISE_USER]}
    for path, value in values:
        if path.attribute.lower() == "roles" and isinstance(value, RoleList):
            body["roles"] = _role_elements(value)
            continue
        if path.attribute.lower() == "roles" and isinstance(value, dict):
            body["roles"] = [_role_element(value)]
            continue
        set_value(body, path, encode(value, path, profile.post_booleans))
    for email in body.get("emails", []):
        if email.get("type") == "work":
            email.setdefault("primary", True)
    body["meta"] = {"resourceType": "User"}
    body.setdefault("roles", [])
    return ordered(body, ("schemas", "externalId", "userName", "active", "emails", "meta", "name"))


def group_create_body(values: Sequence[tuple[TargetPath, Any]], profile: EntraProfile) -> dict[str, Any]:
    """POST /Groups (docs/entra-idp.md §4): no members; they are added by PATCH afterwards (§3.4)."""
    body: dict[str, Any] = {"schemas": list(profile.group_schemas)}
    for path, value in values:
        set_value(body, path, encode(value, path, profile.post_booleans, "Group"))
    body["meta"] = {"resourceType": "Group"}
    return ordered(body, ("schemas", "externalId", "displayName", "meta"))


def update_operations(
    current: dict[str, Any],
    values: Sequence[tuple[TargetPath, Any]],
    profile: EntraProfile,
    resource_type: str = "User",
) -> list[dict[str, Any]]:
    """PATCH operations for the values that differ from ``current``; empty when nothing differs (§3.2).

    Add where the target has no value, Replace where it has one (Microsoft staff). With the flag,
    filter paths and adds keep their own op and two or more plain replaces become one path-less
    replace with dotted and URN keys (§5); a single replace keeps its path, as the disable does.
    """
    singles: list[dict[str, Any]] = []
    pathless: list[dict[str, Any]] = []
    for path, wanted in values:
        present = get_value(current, path)
        if present is not None and same(present, wanted, path, resource_type):
            continue
        if isinstance(wanted, RoleList):
            singles.append(_roles_operation(present, wanted, profile))
            continue
        op = profile.op("add" if present is None else "replace")
        singles.append({"op": op, "path": path_text(path), "value": _patch_value(path, wanted, profile, resource_type)})
        if profile.pathless_replace and present is not None and path.selector is None:
            pathless.append(singles[-1])
    if len(pathless) < 2:
        return singles
    grouped = {op["path"]: op["value"] for op in pathless}
    return [op for op in singles if all(op is not p for p in pathless)] + [
        {"op": profile.op("replace"), "value": grouped}
    ]


def _roles_operation(present: Any, wanted: RoleList, profile: EntraProfile) -> dict[str, Any]:
    """The assertive function replaces the whole list; AppRoleAssignmentsComplex adds the roles the target lacks,
    stringified without the flag, as the POST has them with it (docs/entra-idp.md §4 Roles)."""
    if wanted.assertive:
        return {"op": profile.op("replace"), "path": "roles", "value": _role_elements(wanted)}
    held = {folded(item, "value") for item in present} if isinstance(present, list) else set()
    missing = RoleList([role for role in wanted if role.get("value") not in held], assertive=False)
    value = _role_elements(missing) if profile.pathless_replace else [_stringified(role) for role in missing]
    return {"op": profile.op("add"), "path": "roles", "value": value}


def _patch_value(path: TargetPath, value: Any, profile: EntraProfile, resource_type: str) -> Any:
    if path.attribute.lower() == "roles" and isinstance(value, dict):
        if profile.pathless_replace:  # the flag makes the roles PATCH match the POST (§4 Roles)
            return [_role_element(value)]
        return [{"value": json.dumps(value, separators=(",", ":"))}]  # stringified JSON without the flag
    return encode(value, path, profile.patch_booleans, resource_type)


def manager_operation(current: str | None, manager_id: str | None, profile: EntraProfile) -> dict[str, Any] | None:
    """The separate manager PATCH operation (§3.1 step 4, §4 Manager), or None when nothing changes."""
    path = f"{urns.ENTERPRISE_USER}:manager"
    if manager_id == current:
        return None
    if manager_id is None:
        # docs/entra-idp.md §4: removal by a filter on the manager value (observed)
        return {"op": profile.op("remove"), "path": f"manager[value eq {json.dumps(current)}]"}
    op = profile.op("add" if current is None else "replace")
    if profile.manager_shape == "legacy-array":
        return {"op": op, "path": "manager", "value": [{"$ref": None, "value": manager_id}]}
    return {"op": op, "path": path, "value": manager_id}


def current_manager(doc: dict[str, Any]) -> str | None:
    """The manager id a server returned: ``{"value": id}`` or a bare string (§4 Manager, §6)."""
    manager = folded(folded(doc, urns.ENTERPRISE_USER), "manager")
    if isinstance(manager, dict):
        manager = folded(manager, "value")
    return str(manager) if manager else None


def member_add_patch(scim_ids: Sequence[str], profile: EntraProfile) -> dict[str, Any]:
    """Add members (docs/entra-idp.md §4): ``value: [{"$ref": null, "value": id}]``."""
    refs = [{"$ref": None, "value": sid} for sid in scim_ids]
    return patch_request([{"op": profile.op("add"), "path": "members", "value": refs}])


def member_remove_patch(scim_ids: Sequence[str], profile: EntraProfile) -> dict[str, Any]:
    """Remove members: by value array without the flag, by ``members[value eq …]`` with it (§4, §5)."""
    if profile.member_remove_by_filter:
        ops = [{"op": profile.op("remove"), "path": f"members[value eq {json.dumps(sid)}]"} for sid in scim_ids]
        return patch_request(ops)
    refs = [{"$ref": None, "value": sid} if profile.member_remove_ref else {"value": sid} for sid in scim_ids]
    return patch_request([{"op": profile.op("remove"), "path": "members", "value": refs}])
