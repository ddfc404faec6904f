"""Entra's admin console: changes wait for the next provisioning cycle (docs/entra-idp.md §8)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulators.core.console import AdminConsole, ConsoleSetup
from emulators.core.expected import ExpectedState
from emulators.core.linkstore import LinkStore
from emulators.entra.cycle import CycleReport
from emulators.entra.directory import EntraDirectory
from emulators.entra.engine import EntraEmulator
from emulators.entra.expected import expected_state
from emulators.entra.mapping import DEFAULT_GROUP_MAPPING, DEFAULT_USER_MAPPING
from emulators.entra.profile import EntraProfile, EntraSettings
from emulators.entra.scoping import ScopingFilter


class EntraConsole(AdminConsole):
    """Entra's verbs; ``reports`` keeps the report of every cycle the console ran."""

    label = "Entra"

    def __init__(self, setup: ConsoleSetup) -> None:
        super().__init__(setup.directory, setup.clock)
        profile = self.own_profile(setup, EntraProfile)
        self.entra_directory = EntraDirectory(setup.directory)
        self.settings = EntraSettings(**setup.settings)
        scoping = setup.options.get("scoping")
        self.scoping = scoping if isinstance(scoping, ScopingFilter) else ScopingFilter()
        self.emulator = EntraEmulator(
            self.entra_directory,
            setup.http,
            profile,
            settings=self.settings,
            user_mapping=DEFAULT_USER_MAPPING.merged(list(setup.rules)),
            group_mapping=DEFAULT_GROUP_MAPPING,
            scoping=self.scoping,
            links=setup.links,
            clock=setup.clock,
        )
        self.reports: list[CycleReport] = []

    @property
    def links(self) -> LinkStore:
        return self.emulator.links

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

    def provision_all(self) -> None:
        """A cycle provisions everything in scope (the first one is the initial cycle, docs/entra-idp.md §8)."""
        self.sync()

    def rewrite(self) -> None:
        """Restart provisioning: the next cycle is an initial one that re-evaluates every object (§8)."""
        self.emulator.restart()
        self.sync()

    def unresolved_failures(self) -> list[str]:
        state = self.emulator.state
        problems = [f"{kind} {sid} in escrow ({escrow.code})" for (kind, sid), escrow in state.escrows.items()]
        if state.quarantine is not None:
            problems.append(f"quarantine: {state.quarantine.reason} {state.quarantine.detail}")
        return problems

    def expected_state(self) -> ExpectedState:
        return expected_state(self.entra_directory, self.emulator.ctx.users, self.settings, self.scoping)
