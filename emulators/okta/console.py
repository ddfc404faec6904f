"""Okta's admin console: every change is sent when it happens, so ``sync`` has nothing left to send."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulators.core.console import AdminConsole, ConsoleSetup
from emulators.core.expected import ExpectedState
from emulators.core.linkstore import LinkStore
from emulators.okta.default_mapping import OKTA_DEFAULT_MAPPING
from emulators.okta.engine import OktaEmulator
from emulators.okta.expected import expected_state
from emulators.okta.profile import OktaProfile, OktaSettings
from emulators.okta.tasks import Task


class OktaConsole(AdminConsole):
    """Okta's verbs (docs/okta-idp.md §4-§7); ``tasks`` keeps every task the console ran."""

    label = "Okta"

    def __init__(self, setup: ConsoleSetup) -> None:
        super().__init__(setup.directory, setup.clock)
        profile = self.own_profile(setup, OktaProfile)
        self.emulator = OktaEmulator(
            setup.directory,
            setup.http,
            profile,
            settings=OktaSettings(**setup.settings),
            mapping=OKTA_DEFAULT_MAPPING.merged(list(setup.rules)),
            links=setup.links,
            clock=setup.clock,
        )
        self.tasks: list[Task] = []
        self._reassign: set[str] = set()

    @property
    def links(self) -> LinkStore:
        return self.emulator.links

    def _ran(self, tasks: list[Task]) -> None:
        self.tasks.extend(tasks)

    def assign_user(self, user_id: str) -> None:
        self._ran(self.emulator.assign_user(user_id))

    def unassign_user(self, user_id: str) -> None:
        self._ran(self.emulator.unassign_user(user_id))

    def update_user(self, user_id: str, changes: Mapping[str, Any]) -> None:
        self._ran(self.emulator.update_profile(user_id, changes))

    def deactivate(self, user_id: str) -> None:
        """Okta also drops the direct assignment (docs/okta-idp.md §6); ``reactivate`` gives it back."""
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
        """Nothing is pending: Okta sent each change when it happened (docs/okta-idp.md §4-§7)."""

    def provision_all(self) -> None:
        """Provision every assigned user and push the pushed groups (the initial push, docs/okta-idp.md §4, §7)."""
        self._ran(self.emulator.sync_all())

    def resync(self) -> None:
        """Force sync plus Push Now of every pushed group: Okta re-sends all it owns."""
        self.rewrite()
        for group_id, pushing in list(self.directory.app.push_groups.items()):
            if pushing:
                self._ran(self.emulator.push_now(group_id))

    def rewrite(self) -> None:
        self._ran(self.emulator.force_sync())

    def unresolved_failures(self) -> list[str]:
        return [f"{task.title}: {task.error}" for task in self.emulator.tasks.failed()]

    def expected_state(self) -> ExpectedState:
        return expected_state(self.directory, self.emulator.users.mapping)
