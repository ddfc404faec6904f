"""The SCIM state a one-way sync must leave, and every way a server's state differs from it.

Each IdP computes its ``ExpectedState`` from the directory and its mapping alone (``expected_state`` in
``emulators/okta/expected.py`` and ``emulators/entra/expected.py``), never from the emulator's links or
logs, so it is an independent oracle for "server state == expected state of the directory".
``differences`` compares a server's resources with one and names every divergence; conformance checks,
Gherkin steps and the stateful proofs all judge through it.

The manager reference is not part of the expected state (it names another resource's server id).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from emulators.core.mapping import TargetPath, get_value

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
    ``member_groups``: the child groups (by displayName) it must hold as members; any other group member
    is one it should not hold (nested groups, RFC 7643 §4.2).
    """

    name: str
    required: frozenset[str]
    allowed: frozenset[str]
    inactive_may_linger: bool = False
    member_groups: frozenset[str] = frozenset()


@dataclass
class ExpectedState:
    """The users (by userName) and groups (by displayName) a sync must leave on the service provider."""

    users: dict[str, ExpectedUser] = field(default_factory=dict)
    groups: dict[str, ExpectedGroup] = field(default_factory=dict)


def same_value(actual: Any, expected: Any) -> bool:
    """Booleans compare by truth whatever their encoding ("True" or true); everything else exactly."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return str(actual).lower() == str(expected).lower()
    return bool(actual == expected)


def differences(
    expected: ExpectedState,
    users: Sequence[Mapping[str, Any]],
    groups: Sequence[Mapping[str, Any]],
    *,
    absent: Collection[str] = (),
    inactive: Collection[str] = (),
    absent_groups: Collection[str] = (),
    tolerated: Mapping[str, Collection[str]] | None = None,
    members_complete: bool = True,
) -> list[str]:
    """Every way the server's ``users`` and ``groups`` (the run's resources) differ from ``expected``.

    Users the directory no longer holds are not in the expected state: ``absent`` lists userNames that
    must not exist, ``inactive`` userNames no active user may have, ``absent_groups`` group names
    that must not exist. ``tolerated`` maps a userName to target paths whose value is not checked
    (a drift edit the IdP has not overwritten yet). ``members_complete=False`` checks only that no
    group holds a member it should not (Entra adds a member who came into scope later only at the
    next restart, docs/entra-idp.md §3.4).
    """
    tolerated = tolerated or {}
    problems: list[str] = []
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for doc in users:
        by_name.setdefault(str(doc.get("userName")).lower(), []).append(doc)
    name_of = {doc.get("id"): name for name, docs in by_name.items() for doc in docs}
    inactive_ids = {doc.get("id") for doc in users if doc.get("active") is False}
    for name in absent:
        if name.lower() in by_name and name not in expected.users:
            problems.append(f"user {name}: should be gone, but the server still has it")
    for name in inactive:
        if name not in expected.users and any(d.get("active") is not False for d in by_name.get(name.lower(), [])):
            problems.append(f"user {name}: should be inactive or gone, but the server has it active")
    for name, user in expected.users.items():
        skip = {str(TargetPath.parse(path)).lower() for path in tolerated.get(name, ())}
        problems.extend(_user_differences(user, by_name.get(name.lower(), []), skip))
    named: dict[str, list[Mapping[str, Any]]] = {}
    for doc in groups:
        named.setdefault(str(doc.get("displayName")), []).append(doc)
    group_name_of = {doc.get("id"): str(doc.get("displayName")) for doc in groups}
    for name in absent_groups:
        if name in named and name not in expected.groups:
            problems.append(f"group {name}: should be gone, but the server still has it")
    for name, group in expected.groups.items():
        found = named.get(name, [])
        if len(found) != 1:
            problems.append(f"group {name}: expected once; the server has {len(found)}")
            continue
        refs = [m.get("value") for m in found[0].get("members") or () if isinstance(m, dict)]
        nested = {group_name_of[ref] for ref in refs if ref in group_name_of}
        refs = [ref for ref in refs if ref not in group_name_of]
        if missing_groups := group.member_groups - nested:
            problems.append(f"group {name}: member groups {sorted(missing_groups)} are missing")
        if extra_groups := nested - group.member_groups:
            problems.append(f"group {name}: member groups {sorted(extra_groups)} should not be there")
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
