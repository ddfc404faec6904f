"""The IdP directory: users, groups and the app's assignments, loaded from and saved to YAML or JSON.

Profile attributes use the IdP's variable names (``login``, ``firstName``, ...), which are what
mapping expressions read as ``user.<name>``. The file format is documented by ``to_data``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from emulators.core.errors import DirectoryError

DIRECTORY_VERSION = 1

# The base profile of an Okta user (Universal Directory); custom attributes are declared per directory.
BASE_ATTRIBUTES: tuple[str, ...] = (
    "login",
    "email",
    "secondEmail",
    "firstName",
    "lastName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
    "title",
    "displayName",
    "nickName",
    "profileUrl",
    "primaryPhone",
    "mobilePhone",
    "streetAddress",
    "city",
    "state",
    "zipCode",
    "countryCode",
    "postalAddress",
    "preferredLanguage",
    "locale",
    "timezone",
    "userType",
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
    "managerId",
    "manager",
)


class Status(StrEnum):
    """Lifecycle state of a directory user."""

    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    DEPROVISIONED = "DEPROVISIONED"


@dataclass
class User:
    id: str
    profile: dict[str, Any]
    status: Status = Status.ACTIVE

    @property
    def login(self) -> str:
        return str(self.profile["login"])


@dataclass
class Group:
    id: str
    name: str
    description: str = ""
    members: list[str] = field(default_factory=list)


@dataclass
class AppAssignments:
    """Who the app is assigned to, and which groups it pushes (push on/off per group)."""

    users: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    push_groups: dict[str, bool] = field(default_factory=dict)


@dataclass
class Directory:
    users: dict[str, User] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    app: AppAssignments = field(default_factory=AppAssignments)
    custom_attributes: tuple[str, ...] = ()

    def known_attributes(self) -> frozenset[str]:
        """Every attribute name a mapping may read as ``user.<name>``."""
        return frozenset(BASE_ATTRIBUTES) | frozenset(self.custom_attributes)

    def user(self, user_id: str) -> User:
        try:
            return self.users[user_id]
        except KeyError:
            raise DirectoryError(f"no user with id {user_id!r} in the directory") from None

    def group(self, group_id: str) -> Group:
        try:
            return self.groups[group_id]
        except KeyError:
            raise DirectoryError(f"no group with id {group_id!r} in the directory") from None

    def find_user(self, login_or_id: str) -> User:
        """A user by id, exact login, or (when unambiguous) login in any case."""
        if login_or_id in self.users:
            return self.users[login_or_id]
        exact = [user for user in self.users.values() if user.login == login_or_id]
        folded = [user for user in self.users.values() if user.login.lower() == login_or_id.lower()]
        matches = exact or folded
        if len(matches) != 1:
            problem = "no user" if not matches else f"{len(matches)} users"
            raise DirectoryError(f"{problem} with login {login_or_id!r}; give the exact login or the user id")
        return matches[0]

    def find_group(self, name_or_id: str) -> Group:
        if name_or_id in self.groups:
            return self.groups[name_or_id]
        matches = [group for group in self.groups.values() if group.name == name_or_id]
        if len(matches) != 1:
            problem = "no group" if not matches else f"{len(matches)} groups"
            raise DirectoryError(f"{problem} named {name_or_id!r}; give the exact name or the group id")
        return matches[0]

    def groups_of(self, user_id: str) -> Iterator[Group]:
        return (group for group in self.groups.values() if user_id in group.members)

    def is_assigned(self, user_id: str) -> bool:
        """Assigned to the app directly or through an assigned group (whatever the user's status)."""
        if user_id in self.app.users:
            return True
        return any(user_id in self.group(gid).members for gid in self.app.groups)

    def assigned_users(self) -> list[User]:
        # One pass over the assignments, not one per user: directories of 10k+ users are synced whole.
        assigned = set(self.app.users).union(*(self.group(gid).members for gid in self.app.groups))
        return [user for user in self.users.values() if user.id in assigned]

    def to_data(self) -> dict[str, Any]:
        """The directory as plain data, the shape of a directory file."""
        return {
            "version": DIRECTORY_VERSION,
            "custom_attributes": list(self.custom_attributes),
            "users": [{"id": u.id, "status": u.status.value, "profile": u.profile} for u in self.users.values()],
            "groups": [
                {"id": g.id, "name": g.name, "description": g.description, "members": g.members}
                for g in self.groups.values()
            ],
            "app": {
                "users": self.app.users,
                "groups": self.app.groups,
                "push_groups": [{"group": gid, "active": active} for gid, active in self.app.push_groups.items()],
            },
        }

    @classmethod
    def from_data(cls, data: Any) -> Directory:
        """Build and validate a directory; DirectoryError names the first problem found."""
        if not isinstance(data, dict):
            raise DirectoryError("a directory file must hold a mapping with users, groups and app")
        if data.get("version", DIRECTORY_VERSION) != DIRECTORY_VERSION:
            raise DirectoryError(f"directory version {data['version']!r} is not supported ({DIRECTORY_VERSION} is)")
        directory = cls(custom_attributes=tuple(str(name) for name in data.get("custom_attributes") or ()))
        known = directory.known_attributes()
        for item in data.get("users") or ():
            user = _user_from(item, known)
            if user.id in directory.users:
                raise DirectoryError(f"user id {user.id!r} appears twice")
            directory.users[user.id] = user
        for item in data.get("groups") or ():
            group = _group_from(item, directory)
            if group.id in directory.groups:
                raise DirectoryError(f"group id {group.id!r} appears twice")
            directory.groups[group.id] = group
        directory.app = _app_from(data.get("app") or {}, directory)
        return directory


def _user_from(item: Any, known: frozenset[str]) -> User:
    if not isinstance(item, dict) or not item.get("id"):
        raise DirectoryError(f"each user needs an id and a profile, got {item!r}")
    user_id, profile = str(item["id"]), item.get("profile") or {}
    if not isinstance(profile, dict) or not profile.get("login"):
        raise DirectoryError(f"user {user_id}: the profile needs a non-empty login")
    unknown = sorted(set(profile) - known)
    if unknown:
        raise DirectoryError(
            f"user {user_id}: unknown profile attribute(s) {', '.join(unknown)}; "
            "declare custom attributes under custom_attributes"
        )
    try:
        status = Status(str(item.get("status", Status.ACTIVE.value)).upper())
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise DirectoryError(f"user {user_id}: status must be one of {allowed}, not {item['status']!r}") from None
    return User(id=user_id, profile=dict(profile), status=status)


def _group_from(item: Any, directory: Directory) -> Group:
    if not isinstance(item, dict) or not item.get("id") or not item.get("name"):
        raise DirectoryError(f"each group needs an id and a name, got {item!r}")
    members = [str(member) for member in item.get("members") or ()]
    missing = [member for member in members if member not in directory.users]
    if missing:
        raise DirectoryError(f"group {item['name']!r} lists unknown user id(s): {', '.join(missing[:5])}")
    if len(set(members)) != len(members):
        raise DirectoryError(f"group {item['name']!r} lists a member twice")
    return Group(
        id=str(item["id"]), name=str(item["name"]), description=str(item.get("description", "")), members=members
    )


def _app_from(item: dict[str, Any], directory: Directory) -> AppAssignments:
    app = AppAssignments(
        users=[str(uid) for uid in item.get("users") or ()],
        groups=[str(gid) for gid in item.get("groups") or ()],
        push_groups={str(entry["group"]): bool(entry.get("active", True)) for entry in item.get("push_groups") or ()},
    )
    for user_id in app.users:
        directory.user(user_id)
    for group_id in [*app.groups, *app.push_groups]:
        directory.group(group_id)
    return app


def load_directory(path: str | Path) -> Directory:
    """Read a directory from a ``.yaml``/``.yml`` or ``.json`` file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DirectoryError(f"cannot read directory file {path}: {exc.strerror}") from None
    try:
        # _YamlLoader is a SafeLoader (the C one when libyaml is present).
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.load(text, Loader=_YamlLoader)  # noqa: S506
    except (ValueError, yaml.YAMLError) as exc:
        raise DirectoryError(f"{path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from None
    return Directory.from_data(data)


def save_directory(directory: Directory, path: str | Path) -> None:
    """Write a directory as JSON (``.json``) or YAML (anything else)."""
    path = Path(path)
    data = directory.to_data()
    if path.suffix.lower() == ".json":
        text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    else:
        text = yaml.dump(data, Dumper=_YamlDumper, allow_unicode=True, sort_keys=False, width=120)
    path.write_text(text, encoding="utf-8")


_YamlLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YamlDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
