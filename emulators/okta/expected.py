"""What Okta's immediate pushes leave on the service provider (docs/okta-idp.md §4-§7).

A user is in scope when assigned (directly or by an assigned group) and not deactivated; suspension
sends nothing, so a suspended user stays active. Out of scope means deactivated, never deleted. Every
mapped value is written, an empty one removes the attribute. ``externalId`` is the Okta user id.
Pushed groups hold exactly their in-scope members; a member who left the scope (deactivated on the
service provider) may linger until the next Push Now.
"""

from __future__ import annotations

from emulators.core.directory import Directory, Status
from emulators.core.expected import EXTERNAL_ID, ExpectedGroup, ExpectedState, ExpectedUser
from emulators.core.mapping import CompiledMapping, is_empty
from emulators.okta.users import user_attributes


def expected_state(directory: Directory, mapping: CompiledMapping) -> ExpectedState:
    """The expected state of ``directory`` pushed through ``mapping`` (see the module docstring)."""
    expected = ExpectedState()
    names: dict[str, str] = {}
    in_scope: set[str] = set()
    for user in directory.users.values():
        values = [
            (path, None if is_empty(value) else value)
            for path, value in mapping.values(user_attributes(directory, user))
        ]
        user_name = str({str(p): v for p, v in values}.get("userName") or user.login)
        names[user.id] = user_name
        if directory.is_assigned(user.id) and user.status is not Status.DEPROVISIONED:
            in_scope.add(user.id)
            values.append((EXTERNAL_ID, user.id))
            expected.users[user_name] = ExpectedUser(user_name, "active", tuple(values))
        else:
            expected.users[user_name] = ExpectedUser(user_name, "inactive")
    for group_id, pushing in directory.app.push_groups.items():
        if not pushing:
            continue  # a paused push sends nothing: the app group is left as it was
        group = directory.group(group_id)
        required = frozenset(names[uid] for uid in group.members if uid in in_scope)
        expected.groups[group.name] = ExpectedGroup(group.name, required, required, inactive_may_linger=True)
    return expected
