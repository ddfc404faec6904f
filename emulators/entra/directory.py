"""The source directory in Entra terms: an attribute view over the core directory, plus what only Entra has.

The core directory stores profiles under IdP-neutral names (``login``, ``firstName``, ...). Entra
mappings read ``userPrincipalName``, ``givenName``, ``surname``...; ``entra_view`` renames them.
Entra-only state (soft-delete dates, app role assignments, security-enabled groups) and the
provisioning job's admin settings live in ``EntraDirectory`` and in an optional ``entra:`` section of
the directory file (docs/directory.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.core.directory import (
    Directory,
    DirectorySource,
    Group,
    Status,
    User,
    identifier,
    located,
    only_keys,
    write_directory_data,
)
from emulators.core.errors import DirectoryError
from emulators.entra.profile import EntraSettings, Scope
from emulators.entra.scoping import Clause, ScopingFilter

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
# (docs/entra-idp.md §9 default mappings and the sources the issue lists).
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
    """The user as Entra mappings see it (docs/entra-idp.md §9 source names).

    ``manager`` is the profile's manager reference (``EntraDirectory.user_view`` resolves a login to the
    manager's id; the target id is looked up at send time). ``mailNickname``
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
    """A group as Entra mappings see it (docs/entra-idp.md §9 default group mappings)."""
    view: dict[str, Any] = {"objectId": group.id, "displayName": group.name, "securityEnabled": security_enabled}
    if group.description:
        view["description"] = group.description
    return view


def entra_attribute_names(directory: Directory) -> frozenset[str]:
    """Every attribute an Entra mapping may read (``[name]``), the computed ones included."""
    renamed = {ENTRA_NAMES.get(name, name) for name in directory.known_attributes() if name != "managerId"}
    return frozenset(renamed | set(_COMPUTED) | set(ENTRA_USER_ATTRIBUTES))


GROUP_ATTRIBUTES = frozenset({"objectId", "displayName", "description", "securityEnabled", "members"})


TARGET_ACTIONS = ("create", "update", "delete")
_ENTRA_KEYS = ("soft_deleted", "app_roles", "non_security_groups", "provisioning")
_PROVISIONING_KEYS = (
    "scope",
    "scoping_filter",
    "skip_out_of_scope_deletions",
    "accidental_deletion_threshold",
    "target_actions",
)
_CLAUSE_KEYS = ("attribute", "operator", "value")
_ROLE_KEYS = ("id", "value", "displayName")


@dataclass(frozen=True)
class EntraJobConfig:
    """The provisioning job's settings as an admin sets them in the portal (``entra.provisioning``).

    Microsoft documents them under "Provisioning" of the enterprise app: the scope (assigned users and
    groups, or all), attribute scoping filters, target object actions, and the accidental-deletions
    threshold; ``skip_out_of_scope_deletions`` is the job's SkipOutOfScopeDeletions property.
    """

    scope: Scope = "assigned"
    scoping_filter: ScopingFilter = field(default_factory=ScopingFilter)
    skip_out_of_scope_deletions: bool = False
    accidental_deletion_threshold: int | None = None
    create: bool = True
    update: bool = True
    delete: bool = True

    def settings(self) -> EntraSettings:
        return EntraSettings(
            scope=self.scope,
            create=self.create,
            update=self.update,
            delete=self.delete,
            skip_out_of_scope_deletions=self.skip_out_of_scope_deletions,
            accidental_deletion_threshold=self.accidental_deletion_threshold,
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "scoping_filter": [[_clause_data(clause) for clause in group] for group in self.scoping_filter.groups],
            "skip_out_of_scope_deletions": self.skip_out_of_scope_deletions,
            "accidental_deletion_threshold": self.accidental_deletion_threshold,
            "target_actions": {"create": self.create, "update": self.update, "delete": self.delete},
        }

    @classmethod
    def from_data(cls, data: Any) -> EntraJobConfig:
        """Validate an ``entra.provisioning`` mapping; errors are located DirectoryErrors (file and line)."""
        base = ("entra", "provisioning")
        with located(*base):
            if data is None:
                data = {}
            if not isinstance(data, dict):
                raise DirectoryError(f"entra.provisioning must be a mapping, not {data!r}")
            only_keys(data, _PROVISIONING_KEYS, "entra.provisioning", base)
        with located(*base, "scope"):
            scope = data.get("scope", "assigned")
            if scope not in ("assigned", "all"):
                raise DirectoryError(f"entra.provisioning: scope must be 'assigned' or 'all', not {scope!r}")
        with located(*base, "skip_out_of_scope_deletions"):
            skip = data.get("skip_out_of_scope_deletions", False)
            if not isinstance(skip, bool):
                raise DirectoryError(
                    f"entra.provisioning: skip_out_of_scope_deletions must be true or false, not {skip!r}"
                )
        with located(*base, "accidental_deletion_threshold"):
            threshold = data.get("accidental_deletion_threshold")
            if threshold is not None and (
                isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1
            ):
                raise DirectoryError(
                    "entra.provisioning: accidental_deletion_threshold must be a whole number of at least 1 "
                    f"or null (off), not {threshold!r}"
                )
        with located(*base, "target_actions"):
            actions = data.get("target_actions")
            if actions is None:
                actions = {}
            if not isinstance(actions, dict):
                raise DirectoryError(f"entra.provisioning: target_actions must be a mapping, not {actions!r}")
            only_keys(actions, TARGET_ACTIONS, "entra.provisioning.target_actions", (*base, "target_actions"))
        for action, value in actions.items():
            with located(*base, "target_actions", action):
                if not isinstance(value, bool):
                    raise DirectoryError(f"entra.provisioning: target_actions.{action} must be true or false")
        return cls(
            scope=scope,
            scoping_filter=_scoping_filter(data.get("scoping_filter"), (*base, "scoping_filter")),
            skip_out_of_scope_deletions=skip,
            accidental_deletion_threshold=threshold,
            **{action: actions.get(action, True) for action in TARGET_ACTIONS},
        )


def _clause_data(clause: Clause) -> dict[str, str]:
    data = {"attribute": clause.attribute, "operator": clause.operator}
    if clause.value:
        data["value"] = clause.value
    return data


def _scoping_filter(data: Any, where: tuple[str, ...]) -> ScopingFilter:
    """``ScopingFilter.from_data``, with each clause checked (and located) on its own."""
    with located(*where):
        if data is None:
            return ScopingFilter()
        if not isinstance(data, list):
            raise DirectoryError("a scoping filter is a list of clause groups, each a non-empty list of clauses")
    for index, group in enumerate(data):
        with located(*where, index):
            if not isinstance(group, list) or not group:
                raise DirectoryError("a scoping filter is a list of clause groups, each a non-empty list of clauses")
        for number, clause in enumerate(group):
            with located(*where, index, number):
                if not isinstance(clause, dict):
                    raise DirectoryError(
                        f"a scoping clause is a mapping of attribute, operator and value, not {clause!r}"
                    )
                only_keys(clause, _CLAUSE_KEYS, "a scoping clause", (*where, index, number))
                for key in ("attribute", "operator"):
                    if not isinstance(clause.get(key), str) or not clause[key]:
                        raise DirectoryError(f"a scoping clause needs {key} (text), got {clause!r}")
                value = clause.get("value", "")
                if isinstance(value, dict | list) or value is None:
                    raise DirectoryError(f"scoping clause on {clause['attribute']}: value must be text, not {value!r}")
                ScopingFilter.from_data([[clause]])  # the operator, attribute and value checks
    with located(*where):
        return ScopingFilter.from_data(data)


@dataclass(frozen=True)
class AppRole:
    """One app role assignment (docs/entra-idp.md §4 Roles)."""

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
    provisioning: EntraJobConfig | None = None  # the file's entra.provisioning section, when it has one
    _by_login: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def job_settings(self) -> tuple[EntraSettings, ScopingFilter]:
        """The job's settings and scoping filter from ``entra.provisioning`` (the defaults without one)."""
        config = self.provisioning or EntraJobConfig()
        return config.settings(), config.scoping_filter

    def user_view(self, user_id: str) -> dict[str, Any]:
        view = entra_view(self.core.user(user_id))
        if "manager" in view:
            view["manager"] = self._manager_id(view["manager"])
        view["appRoleAssignments"] = [
            {"id": role.id, "value": role.value, "displayName": role.display_name}
            for role in self.app_roles.get(user_id, ())
        ]
        return view

    def _manager_id(self, reference: str) -> str:
        """The manager's object id: a profile names the manager by id or by login (docs/directory.md),
        Entra references the object (docs/entra-idp.md §4 Manager). An unknown name is kept as given."""
        if reference in self.core.users:
            return reference
        cached = self._by_login.get(reference)
        if cached is None or cached not in self.core.users or self.core.users[cached].login != reference:
            # logins change between cycles: rebuilt on a miss, so a view stays O(1) in large directories
            self._by_login = {user.login: user.id for user in self.core.users.values()}
        if reference in self._by_login:
            return self._by_login[reference]
        try:
            return self.core.find_user(reference).id  # a login in another case, when unambiguous
        except DirectoryError:
            return reference

    def group_view(self, group_id: str) -> dict[str, Any]:
        return group_view(self.core.group(group_id), security_enabled=group_id not in self.non_security_groups)

    def is_soft_deleted(self, user_id: str) -> bool:
        return self.core.user(user_id).status is Status.DEPROVISIONED

    def soft_delete(self, user_id: str, now: float) -> None:
        """Move a user to the recycle bin: Entra also drops its group memberships (docs/entra-idp.md §3.3)."""
        user = self.core.user(user_id)
        user.status = Status.DEPROVISIONED
        self.soft_deleted_at[user_id] = now
        for group in self.core.groups_of(user_id):
            group.members.remove(user_id)

    def restore(self, user_id: str) -> None:
        """Restore from the recycle bin; memberships are not restored (docs/entra-idp.md §3.3)."""
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
        if self.provisioning is not None:
            data["entra"]["provisioning"] = self.provisioning.to_data()
        return data

    @classmethod
    def from_data(cls, data: Any) -> EntraDirectory:
        """Validate a directory file's data with its ``entra:`` section; errors are located DirectoryErrors."""
        core = Directory.from_data(data)
        with located("entra"):
            extra = data.get("entra")
            if extra is None:
                extra = {}
            if not isinstance(extra, dict):
                raise DirectoryError("the entra: section of a directory file must be a mapping")
            only_keys(extra, _ENTRA_KEYS, "entra", ("entra",))
        directory = cls(core)
        with located("entra", "soft_deleted"):
            soft_deleted = _mapping(extra, "soft_deleted")
        for user_id, when in soft_deleted.items():
            with located("entra", "soft_deleted", user_id):
                user = core.user(identifier(user_id, "entra.soft_deleted: a user id"))
                if isinstance(when, bool) or not isinstance(when, int | float):
                    raise DirectoryError(f"entra.soft_deleted {user.id}: the deletion time is a number (epoch seconds)")
                user.status = Status.DEPROVISIONED
                directory.soft_deleted_at[user.id] = float(when)
        with located("entra", "app_roles"):
            app_roles = _mapping(extra, "app_roles")
        for user_id, roles in app_roles.items():
            with located("entra", "app_roles", user_id):
                user = core.user(identifier(user_id, "entra.app_roles: a user id"))
                if not isinstance(roles, list):
                    raise DirectoryError(f"entra.app_roles {user.id}: a list of roles, not {roles!r}")
            assigned = directory.app_roles.setdefault(user.id, [])
            for index, role in enumerate(roles):
                with located("entra", "app_roles", user_id, index):
                    assigned.append(_role_from(role, user.id, ("entra", "app_roles", user_id, index)))
        with located("entra", "non_security_groups"):
            groups = extra.get("non_security_groups")
            if groups is None:
                groups = []
            if not isinstance(groups, list):
                raise DirectoryError("entra.non_security_groups must be a list of group ids")
        for index, group_id in enumerate(groups):
            with located("entra", "non_security_groups", index):
                directory.non_security_groups.add(core.group(identifier(group_id, "a group id")).id)
        if "provisioning" in extra:
            directory.provisioning = EntraJobConfig.from_data(extra["provisioning"])
        return directory


def _mapping(item: dict[str, Any], key: str) -> dict[Any, Any]:
    value = item.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DirectoryError(f"entra.{key} must be a mapping keyed by user id, not {type(value).__name__}")
    return value


def _role_from(role: Any, user_id: str, where: tuple[str | int, ...]) -> AppRole:
    if not isinstance(role, dict) or not isinstance(role.get("id"), str) or not isinstance(role.get("value"), str):
        raise DirectoryError(f"entra.app_roles {user_id}: each role needs an id and a value (text), got {role!r}")
    only_keys(role, _ROLE_KEYS, f"entra.app_roles {user_id}", where)
    display = role.get("displayName", role["value"])
    if not isinstance(display, str):
        raise DirectoryError(f"entra.app_roles {user_id}: displayName must be text, not {display!r}")
    return AppRole(role["id"], role["value"], display)


def load_entra_directory(path: str | Path) -> EntraDirectory:
    """A directory file (YAML or JSON) read with its optional ``entra:`` section; errors name the file and line."""
    return DirectorySource.read(path).build(EntraDirectory.from_data)


def save_entra_directory(directory: EntraDirectory, path: str | Path) -> None:
    """Write the directory with its ``entra:`` section, keeping the admin's comments and layout (YAML)."""
    write_directory_data(directory.to_data(), path, EntraDirectory.from_data)
