"""The source directory in Entra terms: an attribute view over the core directory, plus what only Entra has.

The core directory stores profiles under IdP-neutral names (``login``, ``firstName``, ...). Entra
mappings read ``userPrincipalName``, ``givenName``, ``surname``...; ``entra_view`` renames them.
Entra-only state (soft-delete dates, app role assignments, security-enabled groups) lives in
``EntraDirectory`` and in an optional ``entra:`` section of the directory file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from emulators.core.directory import Directory, Group, Status, User, load_directory
from emulators.core.errors import DirectoryError

# Core profile name -> Entra (Graph) attribute name; names not listed pass through unchanged.
ENTRA_NAMES: Mapping[str, str] = {
    "login": "userPrincipalName",
    "email": "mail",
    "firstName": "givenName",
    "lastName": "surname",
    "title": "jobTitle",
    "employeeNumber": "employeeId",
    "mobilePhone": "mobile",
    "primaryPhone": "telephoneNumber",
    "zipCode": "postalCode",
    "countryCode": "country",
    "nickName": "mailNickname",
}
# Source attributes of an Entra user that mappings may name even when the directory holds no value
# (reference/entra.md §9 default mappings and the sources the issue lists).
ENTRA_USER_ATTRIBUTES = (
    "userPrincipalName",
    "originalUserPrincipalName",
    "mail",
    "mailNickname",
    "givenName",
    "surname",
    "displayName",
    "jobTitle",
    "department",
    "employeeId",
    "manager",
    "mobile",
    "telephoneNumber",
    "facsimileTelephoneNumber",
    "physicalDeliveryOfficeName",
    "streetAddress",
    "city",
    "state",
    "postalCode",
    "country",
    "preferredLanguage",
    "proxyAddresses",
    "userType",
    "accountEnabled",
    "objectId",
)
# Read from the core model, never from a profile attribute of the same name.
_COMPUTED = ("objectId", "accountEnabled", "manager", "IsSoftDeleted", "appRoleAssignments", "mailNickname")


def entra_view(user: User) -> dict[str, Any]:
    """The user as Entra mappings see it (reference/entra.md §9 source names).

    ``manager`` is the manager's directory id (a reference resolved at send time). ``mailNickname``
    falls back to the part of the UPN before ``@`` (inferred: Entra requires it, the core model has no field).
    """
    view: dict[str, Any] = {}
    for name, value in user.profile.items():
        if name not in ("managerId", "manager"):
            view[ENTRA_NAMES.get(name, name)] = value
    view["objectId"] = user.id
    view["accountEnabled"] = user.status is Status.ACTIVE
    view.setdefault("mailNickname", user.login.split("@", 1)[0])
    manager = user.profile.get("managerId") or user.profile.get("manager")
    if manager:
        view["manager"] = str(manager)
    return view


def group_view(group: Group, *, security_enabled: bool) -> dict[str, Any]:
    """A group as Entra mappings see it (reference/entra.md §9 default group mappings)."""
    view: dict[str, Any] = {"objectId": group.id, "displayName": group.name, "securityEnabled": security_enabled}
    if group.description:
        view["description"] = group.description
    return view


def entra_attribute_names(directory: Directory) -> frozenset[str]:
    """Every attribute an Entra mapping may read (``[name]``), the computed ones included."""
    renamed = {ENTRA_NAMES.get(name, name) for name in directory.known_attributes() if name != "managerId"}
    return frozenset(renamed | set(_COMPUTED) | set(ENTRA_USER_ATTRIBUTES))


GROUP_ATTRIBUTES = frozenset({"objectId", "displayName", "description", "securityEnabled", "members"})


@dataclass(frozen=True)
class AppRole:
    """One app role assignment (reference/entra.md §4 Roles)."""

    id: str
    value: str
    display_name: str


@dataclass
class EntraDirectory:
    """The core directory plus Entra-only state; soft-deleted users keep their core status DEPROVISIONED."""

    core: Directory
    soft_deleted_at: dict[str, float] = field(default_factory=dict)
    app_roles: dict[str, list[AppRole]] = field(default_factory=dict)
    non_security_groups: set[str] = field(default_factory=set)

    def user_view(self, user_id: str) -> dict[str, Any]:
        view = entra_view(self.core.user(user_id))
        view["appRoleAssignments"] = [
            {"id": role.id, "value": role.value, "displayName": role.display_name}
            for role in self.app_roles.get(user_id, ())
        ]
        return view

    def group_view(self, group_id: str) -> dict[str, Any]:
        return group_view(self.core.group(group_id), security_enabled=group_id not in self.non_security_groups)

    def is_soft_deleted(self, user_id: str) -> bool:
        return self.core.user(user_id).status is Status.DEPROVISIONED

    def soft_delete(self, user_id: str, now: float) -> None:
        """Move a user to the recycle bin: Entra also drops its group memberships (reference/entra.md §3.3)."""
        user = self.core.user(user_id)
        user.status = Status.DEPROVISIONED
        self.soft_deleted_at[user_id] = now
        for group in self.core.groups_of(user_id):
            group.members.remove(user_id)

    def restore(self, user_id: str) -> None:
        """Restore from the recycle bin; memberships are not restored (reference/entra.md §3.3)."""
        self.core.user(user_id).status = Status.ACTIVE
        self.soft_deleted_at.pop(user_id, None)

    def hard_delete(self, user_id: str) -> None:
        self.core.user(user_id)
        for group in list(self.core.groups_of(user_id)):
            group.members.remove(user_id)
        if user_id in self.core.app.users:
            self.core.app.users.remove(user_id)
        del self.core.users[user_id]
        self.soft_deleted_at.pop(user_id, None)
        self.app_roles.pop(user_id, None)

    def to_data(self) -> dict[str, Any]:
        data = self.core.to_data()
        data["entra"] = {
            "soft_deleted": dict(self.soft_deleted_at),
            "app_roles": {
                uid: [{"id": r.id, "value": r.value, "displayName": r.display_name} for r in roles]
                for uid, roles in self.app_roles.items()
            },
            "non_security_groups": sorted(self.non_security_groups),
        }
        return data

    @classmethod
    def from_data(cls, data: Any) -> EntraDirectory:
        core = Directory.from_data(data)
        extra = data.get("entra") or {} if isinstance(data, dict) else {}
        if not isinstance(extra, dict):
            raise DirectoryError("the entra: section of a directory file must be a mapping")
        directory = cls(core)
        for user_id, when in (extra.get("soft_deleted") or {}).items():
            core.user(str(user_id)).status = Status.DEPROVISIONED
            directory.soft_deleted_at[str(user_id)] = float(when)
        for user_id, roles in (extra.get("app_roles") or {}).items():
            core.user(str(user_id))
            directory.app_roles[str(user_id)] = [
                AppRole(str(r["id"]), str(r["value"]), str(r.get("displayName", r["value"]))) for r in roles
            ]
        for group_id in extra.get("non_security_groups") or ():
            core.group(str(group_id))
            directory.non_security_groups.add(str(group_id))
        return directory


def load_entra_directory(path: str | Path) -> EntraDirectory:
    """A directory file (YAML or JSON) read with its optional ``entra:`` section."""
    path = Path(path)
    load_directory(path)  # reports unreadable or invalid files the core way
    return EntraDirectory.from_data(yaml.safe_load(path.read_text(encoding="utf-8")))
