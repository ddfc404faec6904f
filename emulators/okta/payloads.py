"""The request bodies Okta sends, built from mapped values and the server's own representations."""

from __future__ import annotations

import copy
import secrets
import string
from collections.abc import Mapping
from typing import Any

from emulators.core.mapping import CompiledMapping
from emulators.core.payloads import ordered, patch_request
from emulators.okta.profile import OktaProfile
from scimcore import urns

_PASSWORD_CHARS = string.ascii_lowercase + string.digits


def placeholder_password() -> str:
    """Okta's random 8-character password, sent on every create (docs/okta-idp.md §4.3)."""
    return "".join(secrets.choice(_PASSWORD_CHARS) for _ in range(8))


def user_create_body(
    mapped: dict[str, Any], *, external_id: str, profile: OktaProfile, password: str | None = None
) -> dict[str, Any]:
    """POST /Users (docs/okta-idp.md §4.3): only the core URN in ``schemas``, ``groups: []``,
    a password (the user's, with password sync on and one known, else Okta's random placeholder) and
    ``active: true`` always, ``externalId`` = the Okta user id.
    """
    body = {
        "schemas": [urns.USER],
        **mapped,
        "externalId": external_id,
        "groups": [],
        "password": password or placeholder_password(),
        "active": True,
    }
    return ordered(body, profile.user_keys_first, profile.user_keys_last)


def user_put_body(
    server_doc: Mapping[str, Any],
    mapping: CompiledMapping,
    attributes: Mapping[str, Any],
    *,
    external_id: str,
    profile: OktaProfile,
    active: bool | None = None,
    password: str | None = None,
) -> dict[str, Any]:
    """PUT /Users/{id} (docs/okta-idp.md §5): the server's resource echoed back, read-only fields
    included, with Okta's mapped attributes overwritten; emptied attributes are dropped (inferred).
    ``active`` changes only for a lifecycle change (§6, §9); a profile push keeps the server's value.
    """
    body = mapping.write_into(copy.deepcopy(dict(server_doc)), attributes)
    body["externalId"] = external_id
    if profile.put_sends_empty_groups:
        body["groups"] = []
    if password is not None:
        body["password"] = password
    if active is not None:
        body["active"] = active
    return body


def active_patch(active: bool) -> dict[str, Any]:
    """Deactivate/reactivate (docs/okta-idp.md §6): no ``path``, an object value, lowercase ``op``."""
    return patch_request([{"op": "replace", "value": {"active": active}}])


def password_patch(password: str) -> dict[str, Any]:
    """Password sync (docs/okta-idp.md §6): the body is undocumented; this shape is inferred."""
    return patch_request([{"op": "replace", "value": {"password": password}}])


def member_filter_path(scim_id: str) -> str:
    """``members[value eq "<id>"]``; json-escaping of the inner quotes happens when the body is encoded."""
    return f'members[value eq "{scim_id}"]'


def members_patch(removes: list[str], adds: list[dict[str, Any]]) -> dict[str, Any]:
    """Membership change (docs/okta-idp.md §7): removes first, each by filter path without a value,
    then one ``add`` of every new member.
    """
    operations: list[dict[str, Any]] = [{"op": "remove", "path": member_filter_path(sid)} for sid in removes]
    if adds:
        operations.append({"op": "add", "path": "members", "value": adds})
    return patch_request(operations)


def rename_patch(scim_id: str, display_name: str, *, profile: OktaProfile) -> dict[str, Any]:
    """Rename (docs/okta-idp.md §7): path-less replace whose value repeats the group ``id``."""
    value = {"id": scim_id, "displayName": display_name} if profile.rename_sends_id else {"displayName": display_name}
    return patch_request([{"op": "replace", "value": value}])


def replace_members_patch(members: list[dict[str, Any]]) -> dict[str, Any]:
    """Push Now (docs/okta-idp.md §7): replace ``members`` with the full list, ``[]`` for an empty group."""
    return patch_request([{"op": "replace", "path": "members", "value": members}])


def group_create_body(display_name: str, members: list[dict[str, Any]]) -> dict[str, Any]:
    """POST /Groups (docs/okta-idp.md §7)."""
    return {"schemas": [urns.GROUP], "displayName": display_name, "members": members}


def group_put_body(server_doc: Mapping[str, Any], display_name: str, members: list[dict[str, Any]]) -> dict[str, Any]:
    """PUT /Groups/{id} in AIW mode (docs/okta-idp.md §7): schemas, id, displayName and the full member list."""
    body: dict[str, Any] = {"schemas": [urns.GROUP]}
    if "id" in server_doc:
        body["id"] = server_doc["id"]
    body["displayName"] = display_name
    body["members"] = members
    return body
