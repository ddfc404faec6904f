"""The SCIM state a one-way sync must leave: the projection of the IdP directory through the IdP's mapping.

It is computed from the directory and the mapping alone, never from the emulator's links or logs, so
it is an independent oracle for "server state == projection(directory)". Each IdP has its own rules:

- Okta (docs/okta.md §4-§7): a user is in scope when assigned (directly or by an assigned group)
  and not deactivated; suspension sends nothing, so a suspended user stays active. Out of scope
  means deactivated, never deleted. Every mapped value is written, an empty one removes the
  attribute. ``externalId`` is the Okta user id. Pushed groups hold exactly their in-scope members;
  a member who left the scope (deactivated on the service provider) may linger until the next Push Now.
- Entra (docs/entra.md §3, §9): a user is in scope when enabled, not soft-deleted, assigned
  (or "sync all") and admitted by the scoping filter. Out of scope means ``active`` false; a hard
  delete removes the user. Null values are never sent, so an emptied source leaves the target value
  alone (unconstrained here), and a disabled user keeps its other values. Assigned groups hold
  their in-scope members; disabled members may stay (as inactive users).

The manager reference is not part of the projection (it names another resource's server id).
``differences`` compares a server's resources with a projection and names every divergence.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from emulators.core.directory import Directory, Status
from emulators.core.mapping import CompiledMapping, TargetPath, is_empty
from emulators.entra import EntraDirectory, EntraSettings, ScopingFilter
from emulators.entra.mapping import CompiledEntraMapping
from emulators.entra.payloads import get_value

State = Literal["active", "inactive", "absent"]
EXTERNAL_ID = TargetPath("externalId")


@dataclass(frozen=True)
class ExpectedUser:
    """``active``: exactly one user with this userName, active, holding ``values`` (None: no value).

    ``inactive``: no *active* user with this userName (deactivated, or not there at all).
    ``absent``: no user with this userName.
    """

    user_name: str
    state: State
    values: tuple[tuple[TargetPath, Any], ...] = ()


@dataclass(frozen=True)
class ExpectedGroup:
    """A group that must exist once, with members (by userName) between ``required`` and ``allowed``.

    ``inactive_may_linger``: members that are inactive on the service provider are tolerated too.
    """

    name: str
    required: frozenset[str]
    allowed: frozenset[str]
    inactive_may_linger: bool = False


@dataclass
class Projection:
    users: dict[str, ExpectedUser] = field(default_factory=dict)
    groups: dict[str, ExpectedGroup] = field(default_factory=dict)


def okta_projection(directory: Directory, mapping: CompiledMapping) -> Projection:
    """What Okta's immediate pushes leave on the service provider (see the module docstring)."""
    projection = Projection()
    names: dict[str, str] = {}
    in_scope: set[str] = set()
    for user in directory.users.values():
        values = [(path, None if is_empty(value) else value) for path, value in mapping.values(user.profile)]
        user_name = str({str(p): v for p, v in values}.get("userName") or user.login)
        names[user.id] = user_name
        if directory.is_assigned(user.id) and user.status is not Status.DEPROVISIONED:
            in_scope.add(user.id)
            values.append((EXTERNAL_ID, user.id))
            projection.users[user_name] = ExpectedUser(user_name, "active", tuple(values))
        else:
            projection.users[user_name] = ExpectedUser(user_name, "inactive")
    for group_id, pushing in directory.app.push_groups.items():
        if not pushing:
            continue  # a paused push sends nothing: the app group is left as it was
        group = directory.group(group_id)
        required = frozenset(names[uid] for uid in group.members if uid in in_scope)
        projection.groups[group.name] = ExpectedGroup(group.name, required, required, inactive_may_linger=True)
    return projection


def entra_projection(
    directory: EntraDirectory,
    mapping: CompiledEntraMapping,
    settings: EntraSettings | None = None,
    scoping: ScopingFilter | None = None,
) -> Projection:
    """What the next Entra cycle leaves on the service provider (see the module docstring)."""
    settings = settings or EntraSettings()
    scoping = scoping or ScopingFilter()
    core = directory.core
    projection = Projection()
    names: dict[str, str] = {}
    in_scope: set[str] = set()
    for user in core.users.values():
        view = {**directory.user_view(user.id), "IsSoftDeleted": False}
        values = _entra_values(mapping, view)
        user_name = str({str(p): v for p, v in values}.get("userName") or user.login)
        names[user.id] = user_name
        entitled = settings.scope == "all" or core.is_assigned(user.id)
        if user.status is Status.ACTIVE and entitled and scoping.admits(view):
            in_scope.add(user.id)
            projection.users[user_name] = ExpectedUser(user_name, "active", tuple(values))
        else:
            projection.users[user_name] = ExpectedUser(user_name, "inactive")
    group_ids = core.groups if settings.scope == "all" else core.app.groups
    for group_id in group_ids:
        group = core.group(group_id)
        required = frozenset(names[uid] for uid in group.members if uid in in_scope)
        projection.groups[group.name] = ExpectedGroup(group.name, required, required, inactive_may_linger=True)
    return projection


def _entra_values(mapping: CompiledEntraMapping, view: Mapping[str, Any]) -> list[tuple[TargetPath, Any]]:
    """Values of the rows applied on every update; ``active`` is the user's state, not a value here."""
    values = []
    for row in mapping.rows:
        if row.rule.is_reference or row.rule.apply != "always" or row.path == TargetPath("active"):
            continue
        value = row.value(view, creating=False)
        if not is_empty(value):
            values.append((row.path, value))
    return values


def same_value(actual: Any, expected: Any) -> bool:
    """Booleans compare by truth whatever their encoding ("True" or true); everything else exactly."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return str(actual).lower() == str(expected).lower()
    return bool(actual == expected)


def differences(
    projection: Projection,
    users: Sequence[Mapping[str, Any]],
    groups: Sequence[Mapping[str, Any]],
    *,
    absent: Collection[str] = (),
    inactive: Collection[str] = (),
    absent_groups: Collection[str] = (),
    tolerated: Mapping[str, Collection[str]] | None = None,
    members_complete: bool = True,
) -> list[str]:
    """Every way the server's ``users`` and ``groups`` (the run's resources) differ from ``projection``.

    Users the directory no longer holds are not in the projection: ``absent`` lists userNames that
    must not exist, ``inactive`` userNames no active user may have, ``absent_groups`` group names
    that must not exist. ``tolerated`` maps a userName to target paths whose value is not checked
    (a drift edit the IdP has not overwritten yet). ``members_complete=False`` checks only that no
    group holds a member it should not (Entra adds a member who came into scope later only at the
    next restart, docs/entra.md §3.4).
    """
    tolerated = tolerated or {}
    problems: list[str] = []
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for doc in users:
        by_name.setdefault(str(doc.get("userName")).lower(), []).append(doc)
    name_of = {doc.get("id"): name for name, docs in by_name.items() for doc in docs}
    inactive_ids = {doc.get("id") for doc in users if doc.get("active") is False}
    for name in absent:
        if name.lower() in by_name and name not in projection.users:
            problems.append(f"user {name}: should be gone, but the server still has it")
    for name in inactive:
        if name not in projection.users and any(d.get("active") is not False for d in by_name.get(name.lower(), [])):
            problems.append(f"user {name}: should be inactive or gone, but the server has it active")
    for name, expected in projection.users.items():
        skip = {str(TargetPath.parse(path)).lower() for path in tolerated.get(name, ())}
        problems.extend(_user_differences(expected, by_name.get(name.lower(), []), skip))
    named: dict[str, list[Mapping[str, Any]]] = {}
    for doc in groups:
        named.setdefault(str(doc.get("displayName")), []).append(doc)
    for name in absent_groups:
        if name in named and name not in projection.groups:
            problems.append(f"group {name}: should be gone, but the server still has it")
    for name, group in projection.groups.items():
        found = named.get(name, [])
        if len(found) != 1:
            problems.append(f"group {name}: expected once; the server has {len(found)}")
            continue
        refs = [m.get("value") for m in found[0].get("members") or () if isinstance(m, dict)]
        if group.inactive_may_linger:
            refs = [ref for ref in refs if ref not in inactive_ids]
        members = {name_of.get(ref, f"<{ref}>") for ref in refs}
        if members_complete and (missing := {n.lower() for n in group.required} - members):
            problems.append(f"group {name}: members {sorted(missing)} are missing")
        if extra := members - {n.lower() for n in group.allowed}:
            problems.append(f"group {name}: members {sorted(extra)} should not be there")
    return problems


def _user_differences(expected: ExpectedUser, found: list[Mapping[str, Any]], skip: Collection[str] = ()) -> list[str]:
    name = expected.user_name
    if expected.state == "absent":
        return [f"user {name}: should be gone, but the server still has it"] if found else []
    if expected.state == "inactive":
        if any(doc.get("active") is not False for doc in found):
            return [f"user {name}: should be inactive or gone, but the server has it active"]
        return []
    if len(found) != 1:
        return [f"user {name}: expected once, active; the server has {len(found)}"]
    doc = dict(found[0])
    problems = [] if doc.get("active") is True else [f"user {name}: active is {doc.get('active')!r}, expected true"]
    for path, value in expected.values:
        if str(path).lower() in skip:
            continue
        actual = get_value(doc, path)
        if not same_value(actual, value):
            problems.append(f"user {name}: {path} is {actual!r}, expected {value!r}")
    return problems
