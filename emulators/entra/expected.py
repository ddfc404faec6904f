"""What the next Entra cycle leaves on the service provider (docs/entra-idp.md §3, §9).

A user is in scope when enabled, not soft-deleted, assigned (or "sync all") and admitted by the scoping
filter. Out of scope means ``active`` false; a hard delete removes the user. Null values are never sent,
so an emptied source leaves the target value alone (unconstrained here), and a disabled user keeps its
other values. Assigned groups hold their in-scope members; disabled members may stay (as inactive users).
A child group in scope is sent as one member of its parent (docs/entra-idp.md §3.4): a server with nested groups
holds it, a flat one (AUP, docs/domain.md §1.1) refuses it and holds the rest of the membership.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulators.core.directory import Status
from emulators.core.expected import ExpectedGroup, ExpectedState, ExpectedUser
from emulators.core.mapping import TargetPath, is_empty
from emulators.entra.directory import EntraDirectory
from emulators.entra.mapping import CompiledEntraMapping
from emulators.entra.profile import EntraSettings
from emulators.entra.scoping import ScopingFilter


def expected_state(
    directory: EntraDirectory,
    mapping: CompiledEntraMapping,
    settings: EntraSettings | None = None,
    scoping: ScopingFilter | None = None,
    *,
    nested_groups: bool = False,
) -> ExpectedState:
    """The expected state after the next cycle (see the module docstring); ``nested_groups``: whether the
    server accepts groups as members (the reference server's default is flat)."""
    settings = settings or EntraSettings()
    scoping = scoping or ScopingFilter()
    core = directory.core
    expected = ExpectedState()
    names: dict[str, str] = {}
    in_scope: set[str] = set()
    for user in core.users.values():
        view = {**directory.user_view(user.id), "IsSoftDeleted": False}
        values = _values(mapping, view)
        user_name = str({str(p): v for p, v in values}.get("userName") or user.login)
        names[user.id] = user_name
        entitled = settings.scope == "all" or core.is_assigned(user.id)
        if user.status is Status.ACTIVE and entitled and scoping.admits(view):
            in_scope.add(user.id)
            expected.users[user_name] = ExpectedUser(user_name, "active", tuple(values))
        else:
            expected.users[user_name] = ExpectedUser(user_name, "inactive")
    group_ids = core.groups if settings.scope == "all" else core.app.groups
    for group_id in group_ids:
        group = core.group(group_id)
        required = frozenset(names[uid] for uid in group.members if uid in in_scope)
        children = frozenset(
            core.group(child).name for child in group.member_groups if child in group_ids and nested_groups
        )
        expected.groups[group.name] = ExpectedGroup(
            group.name, required, required, inactive_may_linger=True, member_groups=children
        )
    return expected


def _values(mapping: CompiledEntraMapping, view: Mapping[str, Any]) -> list[tuple[TargetPath, Any]]:
    """Values of the rows applied on every update; ``active`` is the user's state, not a value here."""
    values = []
    for row in mapping.rows:
        if row.rule.is_reference or row.rule.apply != "always" or row.path == TargetPath("active"):
            continue
        if row.path.attribute.lower() == "roles":
            continue  # role encodings differ by function and dialect (docs/entra-idp.md §4 Roles): not judged here
        value = row.value(view, creating=False)
        if not is_empty(value):
            values.append((row.path, value))
    return values
