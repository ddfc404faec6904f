"""One set of admin verbs for both IdPs, so the one-way rules are written once and run for each.

Each adapter forwards to its emulator (Okta sends at once; Entra at the next cycle) and knows how
to compute its projection. The hypothesis state machines drive the same adapters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.projection import Projection, entra_projection, okta_projection
from emulators.core.clock import FakeClock
from emulators.core.directory import Directory, Group, User
from emulators.core.mapping import AttributeMapping
from emulators.entra import (
    DEFAULT_GROUP_MAPPING,
    DEFAULT_USER_MAPPING,
    ENTRA_DEFAULT,
    CycleReport,
    EntraDirectory,
    EntraEmulator,
    EntraMapping,
    EntraProfile,
    EntraSettings,
    ScopingFilter,
)
from emulators.okta import OKTA_DEFAULT_MAPPING, OKTA_OIN, OktaEmulator, OktaProfile, OktaSettings, Task
from features.steps.target import ScimTarget
from scimcore.client import Wiretap
from scimcore.faults import Script


class Idp:
    """The verbs shared by both IdPs; subclasses say what each means on the wire."""

    label = ""
    directory: Directory

    def __init__(self, faults: Script, tap: Wiretap, clock: FakeClock) -> None:
        self.faults = faults  # rules added here break the IdP's requests (scimcore.faults)
        self.tap = tap
        self.clock = clock

    # directory content (no request on either IdP)
    def add_user(self, user_id: str, profile: Mapping[str, Any]) -> None:
        self.directory.users[user_id] = User(user_id, dict(profile))

    def add_group(self, group_id: str, name: str, members: list[str]) -> None:
        self.directory.groups[group_id] = Group(group_id, name, members=list(members))

    def methods_sent(self) -> list[str]:
        return [exchange.method for exchange in self.tap.exchanges]

    # admin actions: each IdP says what they send and when
    def assign_user(self, user_id: str) -> None:
        raise NotImplementedError

    def unassign_user(self, user_id: str) -> None:
        raise NotImplementedError

    def update_user(self, user_id: str, changes: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def deactivate(self, user_id: str) -> None:
        raise NotImplementedError

    def reactivate(self, user_id: str) -> None:
        raise NotImplementedError

    def connect_group(self, group_id: str) -> None:
        """Start provisioning a group (Okta: push it; Entra: assign it)."""
        raise NotImplementedError

    def disconnect_group(self, group_id: str) -> None:
        """Stop provisioning a group (Okta: unlink and delete; Entra: unassign, which deletes it)."""
        raise NotImplementedError

    def add_member(self, group_id: str, user_id: str) -> None:
        raise NotImplementedError

    def remove_member(self, group_id: str, user_id: str) -> None:
        raise NotImplementedError

    def rename_group(self, group_id: str, name: str) -> None:
        raise NotImplementedError

    def sync(self) -> None:
        """Send what is pending."""
        raise NotImplementedError

    def resync(self) -> None:
        """Sync again with no directory change."""
        raise NotImplementedError

    def rewrite(self) -> None:
        """Write every object the IdP owns again, overwriting drift on mapped attributes."""
        raise NotImplementedError

    def unresolved_failures(self) -> list[str]:
        """Sends that failed and were not made good since: a projection check is void while any remain."""
        raise NotImplementedError

    def projection(self) -> Projection:
        raise NotImplementedError


class OktaIdp(Idp):
    """Okta: every change is sent when it happens; the "sync" has nothing left to send."""

    label = "Okta"

    def __init__(
        self,
        target: ScimTarget,
        directory: Directory,
        *,
        profile: OktaProfile = OKTA_OIN,
        mapping: AttributeMapping = OKTA_DEFAULT_MAPPING,
        settings: OktaSettings | None = None,
    ) -> None:
        tap = Wiretap(profile.source)
        http, faults = target.client(hooks=tap.hooks)
        super().__init__(faults, tap, FakeClock())
        self.directory = directory
        self.emulator = OktaEmulator(directory, http, profile, settings=settings, mapping=mapping, clock=self.clock)
        self.tasks: list[Task] = []
        self._reassign: set[str] = set()

    def _ran(self, tasks: list[Task]) -> None:
        self.tasks.extend(tasks)

    def assign_user(self, user_id: str) -> None:
        self._ran(self.emulator.assign_user(user_id))

    def unassign_user(self, user_id: str) -> None:
        self._ran(self.emulator.unassign_user(user_id))

    def update_user(self, user_id: str, changes: Mapping[str, Any]) -> None:
        self._ran(self.emulator.update_profile(user_id, changes))

    def deactivate(self, user_id: str) -> None:
        """Okta also drops the direct assignment (docs/okta.md §6); ``reactivate`` gives it back."""
        if user_id in self.directory.app.users:
            self._reassign.add(user_id)
        self._ran(self.emulator.deactivate_user(user_id))

    def reactivate(self, user_id: str) -> None:
        self._ran(self.emulator.reactivate_user(user_id))
        if user_id in self._reassign:
            self._reassign.discard(user_id)
            self._ran(self.emulator.assign_user(user_id))

    def connect_group(self, group_id: str) -> None:
        self._ran(self.emulator.push_group(group_id))

    def disconnect_group(self, group_id: str) -> None:
        self._ran(self.emulator.unlink_group(group_id, delete=True))

    def add_member(self, group_id: str, user_id: str) -> None:
        self._ran(self.emulator.add_group_member(group_id, user_id))

    def remove_member(self, group_id: str, user_id: str) -> None:
        self._ran(self.emulator.remove_group_member(group_id, user_id))

    def rename_group(self, group_id: str, name: str) -> None:
        self._ran(self.emulator.rename_group(group_id, name))

    def sync(self) -> None:
        """Nothing is pending: Okta sent each change when it happened (docs/okta.md §4-§7)."""

    def unresolved_failures(self) -> list[str]:
        return [f"{task.title}: {task.error}" for task in self.emulator.tasks.failed()]

    def resync(self) -> None:
        """Force sync plus Push Now of every pushed group: Okta re-sends all it owns."""
        self.rewrite()
        for group_id, pushing in list(self.directory.app.push_groups.items()):
            if pushing:
                self._ran(self.emulator.push_now(group_id))

    def rewrite(self) -> None:
        self._ran(self.emulator.force_sync())

    def projection(self) -> Projection:
        return okta_projection(self.directory, self.emulator.users.mapping)


class EntraIdp(Idp):
    """Entra: changes wait for the next cycle (or provision on demand)."""

    label = "Entra"

    def __init__(
        self,
        target: ScimTarget,
        directory: Directory,
        *,
        profile: EntraProfile = ENTRA_DEFAULT,
        user_mapping: EntraMapping = DEFAULT_USER_MAPPING,
        group_mapping: EntraMapping = DEFAULT_GROUP_MAPPING,
        settings: EntraSettings | None = None,
        scoping: ScopingFilter | None = None,
    ) -> None:
        tap = Wiretap(profile.source)
        http, faults = target.client(hooks=tap.hooks, headers=profile.headers)
        super().__init__(faults, tap, FakeClock())
        self.entra_directory = EntraDirectory(directory)
        self.directory = directory
        self.settings = settings or EntraSettings()
        self.scoping = scoping or ScopingFilter()
        self.emulator = EntraEmulator(
            self.entra_directory,
            http,
            profile,
            settings=self.settings,
            user_mapping=user_mapping,
            group_mapping=group_mapping,
            scoping=self.scoping,
            clock=self.clock,
        )
        self.reports: list[CycleReport] = []

    def assign_user(self, user_id: str) -> None:
        self.emulator.assign_user(user_id)

    def unassign_user(self, user_id: str) -> None:
        self.emulator.unassign_user(user_id)

    def update_user(self, user_id: str, changes: Mapping[str, Any]) -> None:
        self.emulator.update_user(user_id, changes)

    def deactivate(self, user_id: str) -> None:
        self.emulator.set_account_enabled(user_id, False)

    def reactivate(self, user_id: str) -> None:
        self.emulator.set_account_enabled(user_id, True)

    def connect_group(self, group_id: str) -> None:
        self.emulator.assign_group(group_id)

    def disconnect_group(self, group_id: str) -> None:
        self.emulator.unassign_group(group_id)

    def add_member(self, group_id: str, user_id: str) -> None:
        self.emulator.add_group_member(group_id, user_id)

    def remove_member(self, group_id: str, user_id: str) -> None:
        self.emulator.remove_group_member(group_id, user_id)

    def rename_group(self, group_id: str, name: str) -> None:
        self.emulator.rename_group(group_id, name)

    def sync(self) -> None:
        """Start provisioning the first time, then run the next cycle."""
        running = self.emulator.state.running
        self.reports.append(self.emulator.run_cycle() if running else self.emulator.start())

    def resync(self) -> None:
        self.sync()

    def unresolved_failures(self) -> list[str]:
        state = self.emulator.state
        problems = [f"{kind} {sid} in escrow ({escrow.code})" for (kind, sid), escrow in state.escrows.items()]
        if state.quarantine is not None:
            problems.append(f"quarantine: {state.quarantine.reason} {state.quarantine.detail}")
        return problems

    def rewrite(self) -> None:
        """Restart provisioning: the next cycle is an initial one that re-evaluates every object (§8)."""
        self.emulator.restart()
        self.sync()

    def projection(self) -> Projection:
        return entra_projection(self.entra_directory, self.emulator.ctx.users, self.settings, self.scoping)
