"""The IdP directory: users, groups and the app's assignments, loaded from and saved to YAML or JSON.

Profile attributes use the IdP's variable names (``login``, ``firstName``, ...), which are what
mapping expressions read as ``user.<name>``. The file format is docs/directory.md (JSON Schema:
``directory.schema.json`` next to this module). Loading names the file and line of a bad item;
saving over an existing file keeps the admin's comments, key order and layout.
"""

from __future__ import annotations

import copy
import io
import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError as RuamelError

from emulators.core.errors import ConfigurationError, DirectoryError

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
    # Child groups that are members of this one (RFC 7643 §4.2 allows groups as members). Okta groups
    # are flat and Okta pushes user members only; Entra sends a child group as one member (docs/entra-idp.md §3.4).
    member_groups: list[str] = field(default_factory=list)


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
        """The directory as plain data, the shape of a directory file (docs/directory.md)."""
        return {
            "version": DIRECTORY_VERSION,
            "custom_attributes": list(self.custom_attributes),
            "users": [{"id": u.id, "status": u.status.value, "profile": u.profile} for u in self.users.values()],
            "groups": [_group_data(g) for g in self.groups.values()],
            "app": {
                "users": self.app.users,
                "groups": self.app.groups,
                "push_groups": [{"group": gid, "active": active} for gid, active in self.app.push_groups.items()],
            },
        }

    @classmethod
    def from_data(cls, data: Any) -> Directory:
        """Build and validate a directory; DirectoryError names the first problem found.

        Every error raised here is a ``LocatedDirectoryError`` whose ``where`` is the path of the
        offending item in ``data`` (``("groups", 2, "members", 5)``), which the file loaders turn into a line.
        """
        with located():
            if not isinstance(data, dict):
                raise DirectoryError("a directory file must hold a mapping with users, groups and app")
            only_keys(data, _ROOT_KEYS, "a directory file", ())
        with located("version"):
            version = data.get("version", DIRECTORY_VERSION)
            if isinstance(version, bool) or version != DIRECTORY_VERSION or not isinstance(version, int):
                raise DirectoryError(f"directory version {version!r} is not supported ({DIRECTORY_VERSION} is)")
        with located("custom_attributes"):
            names = _list(data, "custom_attributes")
        for index, name in enumerate(names):
            with located("custom_attributes", index):
                if not isinstance(name, str) or not name:
                    raise DirectoryError(f"custom attribute names are non-empty strings, not {name!r}")
        directory = cls(custom_attributes=tuple(names))
        known = directory.known_attributes()
        with located("users"):
            users = _list(data, "users")
        for index, item in enumerate(users):
            user = _user_from(item, known, ("users", index))
            with located("users", index):
                if user.id in directory.users:
                    raise DirectoryError(f"user id {user.id!r} appears twice")
            directory.users[user.id] = user
        with located("groups"):
            groups = _list(data, "groups")
        for index, item in enumerate(groups):
            group = _group_from(item, directory, ("groups", index))
            with located("groups", index):
                if group.id in directory.groups:
                    raise DirectoryError(f"group id {group.id!r} appears twice")
            directory.groups[group.id] = group
        for index, item in enumerate(groups):
            _member_groups_from(item, directory, ("groups", index))
        directory.app = _app_from(data.get("app"), directory)
        return directory


# The keys each part of a directory file may hold (a misspelt key is an error, not silently ignored).
_ROOT_KEYS = ("version", "custom_attributes", "users", "groups", "app", "entra")
_USER_KEYS = ("id", "status", "profile")
_GROUP_KEYS = ("id", "name", "description", "members", "member_groups")
_APP_KEYS = ("users", "groups", "push_groups")
_PUSH_KEYS = ("group", "active")

Where = tuple[str | int, ...]


class LocatedDirectoryError(DirectoryError):
    """A DirectoryError that knows where in the file's data the offending item is (``where``)."""

    def __init__(self, message: str, where: Where) -> None:
        super().__init__(message)
        self.where = where


@contextmanager
def located(*where: str | int) -> Iterator[None]:
    """Attach ``where`` to any ConfigurationError raised inside (the innermost location wins)."""
    try:
        yield
    except LocatedDirectoryError:
        raise
    except ConfigurationError as exc:
        raise LocatedDirectoryError(str(exc), where) from None


def only_keys(item: dict[Any, Any], allowed: tuple[str, ...], what: str, where: Where) -> None:
    """Refuse a key the format does not know, located at that key (a misspelt key is not silently ignored)."""
    unknown = [key for key in item if key not in allowed]
    if unknown:
        message = f"{what}: unknown key {unknown[0]!r} (allowed: {', '.join(allowed)})"
        raise LocatedDirectoryError(message, (*where, unknown[0]))


def _list(item: dict[str, Any], key: str) -> list[Any]:
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise DirectoryError(f"{key} must be a list, not {type(value).__name__}")
    return value


def identifier(value: Any, what: str) -> str:
    """An object id as text: ids are non-empty strings (a YAML number is accepted as its text)."""
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise DirectoryError(f"{what} must be a non-empty string, not {value!r}")
    return str(value)


def _user_from(item: Any, known: frozenset[str], where: Where) -> User:
    with located(*where):
        if not isinstance(item, dict) or not item.get("id"):
            raise DirectoryError(f"each user needs an id and a profile, got {item!r}")
        user_id = identifier(item["id"], "a user id")
        only_keys(item, _USER_KEYS, f"user {user_id}", where)
    with located(*where, "profile"):
        profile = item.get("profile") or {}
        if not isinstance(profile, dict) or not isinstance(profile.get("login"), str) or not profile["login"]:
            raise DirectoryError(f"user {user_id}: the profile needs a non-empty login")
    for name in profile:
        with located(*where, "profile", name):
            if name not in known:
                unknown = ", ".join(sorted(str(key) for key in set(profile) - known))
                raise DirectoryError(
                    f"user {user_id}: unknown profile attribute(s) {unknown}; "
                    "declare custom attributes under custom_attributes"
                )
    with located(*where, "status"):
        status = item.get("status", Status.ACTIVE.value)
        try:
            if not isinstance(status, str):
                raise ValueError(status)
            status = Status(status.upper())
        except ValueError:
            allowed = ", ".join(s.value for s in Status)
            raise DirectoryError(f"user {user_id}: status must be one of {allowed}, not {status!r}") from None
    # Copy the containers too: the loaded data stays the file's, the directory is the admin's to change.
    return User(id=user_id, profile=dict(profile), status=status)


def _group_from(item: Any, directory: Directory, where: Where) -> Group:
    with located(*where):
        if not isinstance(item, dict) or not item.get("id") or not item.get("name"):
            raise DirectoryError(f"each group needs an id and a name, got {item!r}")
        group_id = identifier(item["id"], "a group id")
        name = identifier(item["name"], f"group {group_id}: the name")
        only_keys(item, _GROUP_KEYS, f"group {name!r}", where)
    with located(*where, "description"):
        description = item.get("description")
        if description is not None and not isinstance(description, str):
            raise DirectoryError(f"group {name!r}: the description must be text, not {description!r}")
    with located(*where, "members"):
        listed = _list(item, "members")
    members: list[str] = []
    seen: set[str] = set()
    for index, member in enumerate(listed):
        with located(*where, "members", index):
            member_id = identifier(member, f"group {name!r}: a member id")
            if member_id not in directory.users:
                missing = [str(m) for m in listed[index:] if str(m) not in directory.users]
                raise DirectoryError(f"group {name!r} lists unknown user id(s): {', '.join(missing[:5])}")
            if member_id in seen:
                raise DirectoryError(f"group {name!r} lists a member twice ({member_id})")
            seen.add(member_id)
            members.append(member_id)
    return Group(id=group_id, name=name, description=description or "", members=members)


def _group_data(group: Group) -> dict[str, Any]:
    data: dict[str, Any] = {"id": group.id, "name": group.name, "description": group.description}
    data["members"] = group.members
    if group.member_groups:  # written only when there are some, so flat directories keep their files
        data["member_groups"] = group.member_groups
    return data


def _member_groups_from(item: dict[str, Any], directory: Directory, where: Where) -> None:
    """A group's child groups, read once every group is known (a child may be listed after its parent)."""
    group = directory.groups[identifier(item["id"], "a group id")]
    with located(*where, "member_groups"):
        listed = _list(item, "member_groups")
    for index, member in enumerate(listed):
        with located(*where, "member_groups", index):
            child = identifier(member, f"group {group.name!r}: a member group id")
            if child not in directory.groups:
                raise DirectoryError(f"group {group.name!r} lists unknown member group id {child!r}")
            if child == group.id:
                raise DirectoryError(f"group {group.name!r} cannot be a member of itself")
            if child in group.member_groups:
                raise DirectoryError(f"group {group.name!r} lists a member group twice ({child})")
            group.member_groups.append(child)


def _app_from(item: Any, directory: Directory) -> AppAssignments:
    with located("app"):
        if item is None:
            item = {}
        if not isinstance(item, dict):
            raise DirectoryError(f"app must be a mapping with users, groups and push_groups, not {item!r}")
        only_keys(item, _APP_KEYS, "app", ("app",))
    app = AppAssignments()
    for key, target, lookup in (("users", app.users, directory.user), ("groups", app.groups, directory.group)):
        with located("app", key):
            listed = _list(item, key)
        for index, value in enumerate(listed):
            with located("app", key, index):
                object_id = identifier(value, f"app {key}: an id")
                lookup(object_id)
                target.append(object_id)
    with located("app", "push_groups"):
        pushes = _list(item, "push_groups")
    for index, entry in enumerate(pushes):
        with located("app", "push_groups", index):
            if not isinstance(entry, dict) or "group" not in entry:
                raise DirectoryError(f"each push_groups entry needs a group id, got {entry!r}")
            only_keys(entry, _PUSH_KEYS, "a push_groups entry", ("app", "push_groups", index))
            group_id = identifier(entry["group"], "push_groups: a group id")
            directory.group(group_id)
        with located("app", "push_groups", index, "active"):
            active = entry.get("active", True)
            if not isinstance(active, bool):
                raise DirectoryError(f"push_groups {group_id}: active must be true or false, not {active!r}")
        app.push_groups[group_id] = active
    return app


_YamlLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YamlDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

T = TypeVar("T")


@dataclass
class DirectorySource:
    """A directory file read but not yet validated: its text, its data and (YAML) its node tree for line numbers."""

    path: Path
    text: str
    data: Any
    root: yaml.Node | None = None

    @classmethod
    def read(cls, path: str | Path) -> DirectorySource:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise DirectoryError(f"cannot read directory file {path}: {reason}") from None
        if _is_json(path):
            try:
                return cls(path, text, json.loads(text))
            except ValueError as exc:
                line = getattr(exc, "lineno", None)
                where = f"{path}:{line}" if line else str(path)
                raise DirectoryError(f"{where}: not valid JSON: {getattr(exc, 'msg', exc)}") from None
        try:
            root, data = _compose(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise DirectoryError(f"{where}: not valid YAML: {problem}") from None
        return cls(path, text, data, root)

    def line_of(self, where: Where) -> int | None:
        """The 1-based line of the item at ``where`` (as deep as the file allows), None when unknown."""
        root = self.root
        if root is None:  # JSON: compose it as YAML (JSON is YAML's flow style) only now, on the error path
            try:
                root = _compose(self.text)[0]
            except yaml.YAMLError:
                return None
        if root is None:
            return 1
        node, line = root, root.start_mark.line
        for step in where:
            if isinstance(node, yaml.MappingNode):
                pair = next(((k, v) for k, v in node.value if str(k.value) == str(step)), None)
                if pair is None:
                    break
                line, node = pair[0].start_mark.line, pair[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
                node = node.value[step]
                line = node.start_mark.line
            else:
                break
        return line + 1

    def build(self, make: Callable[[Any], T]) -> T:
        """``make(data)``, with a DirectoryError naming this file and the line of the offending item."""
        try:
            return make(self.data)
        except LocatedDirectoryError as exc:
            line = self.line_of(exc.where)
            raise DirectoryError(f"{self.path}:{line}: {exc}" if line else f"{self.path}: {exc}") from None
        except ConfigurationError as exc:
            raise DirectoryError(f"{self.path}: {exc}") from None


def _is_json(path: Path) -> bool:
    return path.suffix.lower() == ".json"


def _compose(text: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (with line marks) and its data, in one parse (libyaml when present)."""
    loader = _YamlLoader(text)
    try:
        root = loader.get_single_node()
        return root, None if root is None else loader.construct_document(root)
    finally:
        loader.dispose()


def load_directory(path: str | Path) -> Directory:
    """Read a directory from a ``.yaml``/``.yml`` or ``.json`` file; errors name the file and line."""
    return DirectorySource.read(path).build(Directory.from_data)


def save_directory(directory: Directory, path: str | Path) -> None:
    """Write a directory as JSON (``.json``) or YAML (anything else).

    An existing file is the admin's: only what changed is rewritten. YAML keeps its comments, key
    order, quoting and layout everywhere else (changed items go through ruamel.yaml's round-trip
    mode, unchanged ones are copied as they are); JSON keeps its key order.
    """
    write_directory_data(directory.to_data(), path, Directory.from_data)


def write_directory_data(data: dict[str, Any], path: str | Path, parse: Callable[[Any], Any]) -> None:
    """Write directory-file data over ``path``, keeping what did not change (see ``save_directory``).

    ``parse`` validates the existing file's data and has ``to_data()``: the file, read that way, is
    compared with ``data`` (so defaults the admin left out stay out).
    """
    path = Path(path)
    text = _merged_text(data, path, parse) if path.exists() else None
    if text is None:
        if _is_json(path):
            text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
        else:
            text = yaml.dump(data, Dumper=_YamlDumper, allow_unicode=True, sort_keys=False, width=120)
    path.write_text(text, encoding="utf-8")


def _merged_text(data: dict[str, Any], path: Path, parse: Callable[[Any], Any]) -> str | None:
    """The existing file's text with ``data`` merged in, or None to write ``data`` afresh."""
    try:
        source = DirectorySource.read(path)
    except DirectoryError:
        return None  # unreadable or not YAML/JSON: nothing of the admin's can be kept
    if not isinstance(source.data, dict):
        return None
    try:
        # JSON: _apply changes the file's data in place, so the model reads a copy of its own.
        old = parse(json.loads(source.text) if _is_json(path) else source.data).to_data()
    except ConfigurationError:
        old = copy.deepcopy(source.data)
    if _is_json(path):
        _apply(source.data, old, data)
        return json.dumps(source.data, ensure_ascii=False, indent=_json_indent(source.text)) + "\n"
    return _YamlPatcher(source.text).document(source.root, old, data)


def _json_indent(text: str) -> int | None:
    """The indentation of an existing JSON file (None: it is on one line)."""
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" ")
        if stripped and len(stripped) < len(line):
            return len(line) - len(stripped)
    return None


# --- Keeping the admin's YAML: merge new data into the existing text -------------------------------------------

_MISSING: Any = object()
Edit = tuple[int, int, str]


def _identity(item: Any) -> str:
    """What lines up an item of the old and the new list: its id (users, groups), group (pushes) or its value."""
    if isinstance(item, dict):
        for key in ("id", "group"):
            if key in item:
                return f"{key}\0{item[key]}"
    return json.dumps(item, sort_keys=True, default=str)


def _merge(raw: Any, old: Any, new: Any) -> Any:
    """``raw`` (the file's container: ruamel round-trip or plain JSON) changed in place from ``old`` to ``new``."""
    if isinstance(raw, dict) and isinstance(old, dict) and isinstance(new, dict):
        _apply(raw, old, new)
        return raw
    if isinstance(raw, list) and isinstance(old, list) and isinstance(new, list) and len(raw) == len(old):
        opcodes = SequenceMatcher(None, [_identity(x) for x in old], [_identity(x) for x in new], autojunk=False)
        for tag, i1, i2, j1, j2 in reversed(opcodes.get_opcodes()):
            if tag == "equal":
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                    if old[i] != new[j]:
                        raw[i] = _merge(raw[i], old[i], new[j])
                continue
            for i in reversed(range(i1, i2)):
                del raw[i]  # one at a time: ruamel moves the comments of the later items along
            for offset, value in enumerate(new[j1:j2]):
                raw.insert(i1 + offset, value)
        return raw
    return new


def _apply(raw: dict[Any, Any], old: dict[str, Any], new: dict[str, Any]) -> None:
    """Keys gone from ``new`` are removed, changed ones replaced in place, new ones appended.

    A key ``old`` (the file as the model reads it) has but the file does not is a default the admin left
    out: it stays out while its value is unchanged. Keys the model does not know are kept.
    """
    for key in [key for key in raw if key not in new and key in old]:
        del raw[key]
    for key, value in new.items():
        if key in raw:
            if old.get(key, _MISSING) != value:
                raw[key] = _merge(raw[key], old.get(key, _MISSING), value)
        elif key not in old or old[key] != value:
            raw[key] = value


def _render(value: Any, column: int) -> str:
    """New block content (a mapping or a list), indented to ``column``."""
    text = yaml.dump(value, Dumper=_YamlDumper, allow_unicode=True, sort_keys=False, width=120)
    pad = " " * column
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))


def _scalar(value: Any) -> str | None:
    """A one-line YAML scalar for ``value``, or None when it needs more than one line."""
    text = yaml.dump(value, Dumper=_YamlDumper, allow_unicode=True, width=1 << 30)
    text = text.removesuffix("\n...\n").removesuffix("\n")
    return None if "\n" in text else text


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _guess_indent(text: str) -> tuple[int, int, int]:
    """ruamel's (mapping, sequence, offset) indentation as the text uses it (pyyaml's 2, 2, 0 by default)."""
    mapping = offset = None
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for prev, line in itertools.pairwise(lines):
        if not prev.rstrip().endswith(":"):
            continue
        key_column = _indent_of(prev) + (2 if prev.lstrip().startswith("- ") else 0)
        step = _indent_of(line) - key_column
        if line.lstrip().startswith("-") and offset is None and step >= 0:
            offset = step
        elif not line.lstrip().startswith("-") and mapping is None and step > 0:
            mapping = step
        if mapping is not None and offset is not None:
            break
    offset = offset or 0
    return mapping or 2, offset + 2, offset


def _round_trip(fragment: str, column: int, key: str | int | None, old: Any, new: Any) -> str | None:
    """``fragment`` (a mapping pair, a list item or the whole document at ``column``) with the change made.

    ruamel.yaml's round-trip mode keeps the fragment's comments, key order and quoting; None when the
    fragment cannot be handled this way.
    """
    lines = fragment.splitlines(keepends=True)
    dedented = []
    for line in lines:
        if line[:column].strip() == "":
            dedented.append(line[column:] if line.strip() else line.lstrip(" \t"))
        elif line.lstrip().startswith("#"):
            dedented.append(line.lstrip(" \t"))
        else:
            return None
    source = "".join(dedented)
    mapping, sequence, offset = _guess_indent(source)
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 4096
    rt.allow_unicode = True
    rt.indent(mapping=mapping, sequence=sequence, offset=offset)
    try:
        doc = rt.load(source)
        if key is None:
            doc = _merge(doc, old, new)
        elif isinstance(key, int):
            if not isinstance(doc, list) or len(doc) != 1:
                return None
            doc[0] = _merge(doc[0], old, new)
        else:
            if not isinstance(doc, dict) or list(doc) != [key]:
                return None
            doc[key] = _merge(doc[key], old, new)
        out = io.StringIO()
        rt.dump(doc, out)
    except RuamelError:
        return None
    dumped = out.getvalue().splitlines(keepends=True)
    strip = min((_indent_of(line) for line in dumped if line.strip()), default=0)
    pad = " " * column
    text = "".join(pad + line[strip:] if line.strip() else line for line in dumped)
    return text if fragment.endswith("\n") else text.removesuffix("\n")


class _YamlPatcher:
    """Text edits that turn an existing YAML directory file into new data, keeping everything else.

    Unchanged items are left as they are; a changed scalar has only its value replaced; a changed
    item or pair with other changes goes through ruamel.yaml's round-trip mode on its own text; new
    list items and keys are appended in block style; removed ones are cut with their lines.
    """

    def __init__(self, text: str) -> None:
        self.text = text

    def document(self, root: yaml.Node | None, old: Any, new: Any) -> str | None:
        if old == new:
            return self.text
        edits = self._node(root, old, new) if root is not None else None
        if edits is None:
            whole = _round_trip(self.text, 0, None, old, new)
            if whole is None:
                return None
            edits = [(0, len(self.text), whole)]
        out, position = [], 0
        for start, end, replacement in sorted(edits, key=lambda edit: (edit[0], edit[1])):
            if start < position:
                return None  # overlapping edits: write the data afresh rather than guess
            out += [self.text[position:start], replacement]
            position = end
        out.append(self.text[position:])
        return "".join(out)

    def _node(self, node: yaml.Node, old: Any, new: Any) -> list[Edit] | None:
        if old == new:
            return []
        if isinstance(node, yaml.ScalarNode):
            text = None if isinstance(new, dict | list) or node.style in ("|", ">") else _scalar(new)
            return None if text is None else [(node.start_mark.index, node.end_mark.index, text)]
        if getattr(node, "flow_style", False):
            return None
        if isinstance(node, yaml.MappingNode) and isinstance(old, dict) and isinstance(new, dict):
            return self._mapping(node, old, new)
        if isinstance(node, yaml.SequenceNode) and isinstance(old, list) and isinstance(new, list):
            return self._sequence(node, old, new)
        return None

    def _mapping(self, node: yaml.MappingNode, old: dict[str, Any], new: dict[str, Any]) -> list[Edit] | None:
        pairs: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                return None
            pairs[key_node.value] = (key_node, value_node)
        edits: list[Edit] = []
        for key, (key_node, value_node) in pairs.items():
            if key in new:
                before = old.get(key, _MISSING)
                if before == new[key]:
                    continue
                sub = None if before is _MISSING else self._node(value_node, before, new[key])
                if sub is None:
                    sub = self._rewrite_pair(key_node, value_node, before, new[key])
                if sub is None:
                    return None
                edits += sub
            elif key in old:
                region = self._pair_region(key_node, value_node)
                if region is None:
                    return None
                edits.append((region[0], region[1], ""))
        added = {key: value for key, value in new.items() if key not in pairs and old.get(key, _MISSING) != value}
        if added:
            if not node.value:
                return None
            region = self._pair_region(*node.value[-1])
            if region is None:
                return None
            edits.append((region[1], region[1], self._newline(region[1]) + _render(added, region[2])))
        return edits

    def _sequence(self, node: yaml.SequenceNode, old: list[Any], new: list[Any]) -> list[Edit] | None:
        items = node.value
        if not items or not new or len(items) != len(old):
            return None
        matcher = SequenceMatcher(None, [_identity(x) for x in old], [_identity(x) for x in new], autojunk=False)
        edits: list[Edit] = []
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                    if old[i] == new[j]:
                        continue
                    sub = self._node(items[i], old[i], new[j])
                    if sub is None:
                        sub = self._rewrite_item(items[i], old[i], new[j])
                    if sub is None:
                        return None
                    edits += sub
                continue
            regions = [self._item_region(item) for item in items[i1:i2]]
            anchor = self._item_region(items[i1 - 1] if i1 else items[0])
            if anchor is None or None in regions:
                return None
            position = anchor[1] if i1 else anchor[0]
            for region in regions:
                assert region is not None  # checked above
                edits.append((region[0], region[1], ""))
            if j2 > j1:
                block = _render(new[j1:j2], anchor[2])
                edits.append((position, position, (self._newline(position) if i1 else "") + block))
        return edits

    def _newline(self, position: int) -> str:
        """A line break to put before text inserted at ``position`` when the file's last line has none."""
        return "" if position == 0 or self.text[position - 1] == "\n" else "\n"

    def _line_start(self, index: int) -> int:
        return self.text.rfind("\n", 0, index) + 1

    def _line_end(self, index: int) -> int:
        end = self.text.find("\n", index)
        return len(self.text) if end < 0 else end + 1

    def _content_end(self, node: yaml.Node) -> int:
        """Where the node's own text ends (a block collection's end mark runs on over comments)."""
        while isinstance(node, yaml.CollectionNode) and not node.flow_style and node.value:
            last = node.value[-1]
            node = last[1] if isinstance(node, yaml.MappingNode) else last
        return int(node.end_mark.index)

    def _pair_region(self, key_node: yaml.Node, value_node: yaml.Node) -> tuple[int, int, int] | None:
        """(start, end, column) of a ``key: value`` pair's whole lines, when the key starts its line."""
        start = self._line_start(key_node.start_mark.index)
        if self.text[start : key_node.start_mark.index].strip():
            return None
        return start, self._line_end(self._content_end(value_node)), key_node.start_mark.index - start

    def _item_region(self, item: yaml.Node) -> tuple[int, int, int] | None:
        """(start, end, column of the dash) of a block list item's whole lines."""
        dash = item.start_mark.index - 1
        while dash >= 0 and self.text[dash] in " \t\r\n":
            dash -= 1
        start = self._line_start(dash)
        if dash < 0 or self.text[dash] != "-" or self.text[start:dash].strip():
            return None
        return start, self._line_end(self._content_end(item)), dash - start

    def _rewrite_pair(self, key_node: yaml.Node, value_node: yaml.Node, old: Any, new: Any) -> list[Edit] | None:
        region = self._pair_region(key_node, value_node)
        if region is None or not isinstance(key_node.value, str):
            return None
        start, end, column = region
        text = _round_trip(self.text[start:end], column, key_node.value, old, new)
        return None if text is None else [(start, end, text)]

    def _rewrite_item(self, item: yaml.Node, old: Any, new: Any) -> list[Edit] | None:
        region = self._item_region(item)
        if region is None:
            return None
        start, end, column = region
        text = _round_trip(self.text[start:end], column, 0, old, new)
        return None if text is None else [(start, end, text)]
