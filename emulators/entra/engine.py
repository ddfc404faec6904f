"""The Entra emulator: a provisioning job run in cycles on a clock, driven by the portal's admin actions.

Entra is cycle-based (docs/entra-idp.md §8): directory changes are not sent when they happen but
at the next cycle, about every 40 minutes. Admin actions that change the directory return nothing;
``start``, ``run_cycle``, ``restart`` and ``provision_on_demand`` send requests and return what
they logged. The provisioning log keeps every entry (``log``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from emulators.core.clock import FakeClock
from emulators.core.cycle_clock import CycleClock
from emulators.core.directory import Directory, Status
from emulators.core.errors import ConfigurationError, DirectoryError
from emulators.core.linkstore import LinkStore
from emulators.core.progress import ProgressCallback
from emulators.entra.context import Context, Disposition
from emulators.entra.cycle import CycleReport, CycleRunner
from emulators.entra.directory import ENTRA_NAMES, GROUP_ATTRIBUTES, AppRole, EntraDirectory, entra_attribute_names
from emulators.entra.groups import GroupFlows
from emulators.entra.log import Action, Code, LogEntry, Outcome, ProvisioningLog
from emulators.entra.mapping import DEFAULT_GROUP_MAPPING, DEFAULT_USER_MAPPING, EntraMapping
from emulators.entra.profile import ENTRA_DEFAULT, EntraProfile, EntraSettings
from emulators.entra.scoping import ScopingFilter
from emulators.entra.session import EntraSession, ProvisioningFailure
from emulators.entra.state import JobState, Quarantine
from emulators.entra.users import UserFlows

_CORE_NAMES = {entra: core for core, entra in ENTRA_NAMES.items()} | {"manager": "managerId"}


@dataclass(frozen=True)
class ConnectionTest:
    ok: bool
    detail: str = ""


class EntraEmulator:
    def __init__(
        self,
        directory: EntraDirectory | Directory,
        http: httpx.Client,
        profile: EntraProfile = ENTRA_DEFAULT,
        *,
        settings: EntraSettings | None = None,
        user_mapping: EntraMapping = DEFAULT_USER_MAPPING,
        group_mapping: EntraMapping = DEFAULT_GROUP_MAPPING,
        scoping: ScopingFilter | None = None,
        links: LinkStore | None = None,
        clock: CycleClock | None = None,
        log: ProvisioningLog | None = None,
        before_cycle: Callable[[], None] | None = None,
        progress: ProgressCallback | None = None,
        state: JobState | None = None,
    ) -> None:
        """Compiles the mappings first: a bad mapping raises ConfigurationError before any request.

        ``before_cycle`` runs when a cycle starts (the OAuth strategy checks its token there, §1);
        an exception from it fails the cycle like a failed connection test. ``progress`` receives
        count, rate and ETA reports for each stage of a cycle (users, managers, groups, memberships).
        ``state`` resumes a job saved by an earlier process (``emulators.entra.jobfile``).
        """
        if isinstance(directory, Directory):
            directory = EntraDirectory(directory)
        known = entra_attribute_names(directory.core)
        self.directory = directory
        self.profile = profile
        self.settings = settings or EntraSettings()
        self.clock: CycleClock = clock or FakeClock()
        self.log = log if log is not None else ProvisioningLog()  # an empty log is falsy
        self.links = links or LinkStore()
        self.state = state if state is not None else JobState()
        self.before_cycle = before_cycle
        self.ctx = Context(
            session=EntraSession(http, profile, self.clock),
            directory=directory,
            links=self.links,
            users=user_mapping.compile(known, gallery=self.settings.gallery_app),
            groups=group_mapping.compile(GROUP_ATTRIBUTES),
            profile=profile,
            settings=self.settings,
            scoping=scoping or ScopingFilter(),
            log=self.log,
            clock=self.clock,
            state=self.state,
        )
        self.users = UserFlows(self.ctx)
        self.groups = GroupFlows(self.ctx)
        self.runner = CycleRunner(self.ctx, self.users, self.groups, progress)

    # -- the job (§8) -----------------------------------------------------------------------------

    def test_connection(self) -> ConnectionTest:
        """Test Connection: random-GUID queries that must answer 200 with an empty ListResponse (§2)."""
        try:
            if self.before_cycle is not None:
                self.before_cycle()
            self.runner.probe()
        except ProvisioningFailure as exc:
            return ConnectionTest(False, exc.detail)
        except (httpx.HTTPError, ConfigurationError) as exc:
            return ConnectionTest(False, str(exc))
        return ConnectionTest(True)

    @property
    def quarantine(self) -> Quarantine | None:
        return self.state.quarantine

    def start(self) -> CycleReport:
        """Start provisioning: the first cycle runs now (initial unless a watermark exists)."""
        self.state.running = True
        self.state.disabled = False  # an admin starting a disabled job (§7) again (inferred)
        self.state.next_cycle_at = self.clock.now()
        return self.run_cycle()

    def stop(self) -> None:
        """Stop provisioning; the next ``start`` resumes from the watermark (§8)."""
        self.state.running = False

    def run_cycle(self) -> CycleReport:
        """Wait on the clock until the next cycle is due, then run it (§8: every 40 min; §7: daily in quarantine)."""
        state = self.state
        if state.disabled:
            return CycleReport(state.cycle, "disabled", self.clock.now(), quarantine=state.quarantine)
        if not state.running:
            raise ConfigurationError("provisioning is stopped; call start() first")
        wait = (state.next_cycle_at or self.clock.now()) - self.clock.now()
        if wait > 0:
            self.clock.advance(wait)
        now = self.clock.now()
        quarantine = state.quarantine
        if quarantine is not None and now - quarantine.since >= self.settings.quarantine.disable_after:
            state.disabled, state.running = True, False  # §7: disabled after 4 weeks in quarantine
            return CycleReport(state.cycle, "disabled", now, quarantine=quarantine)
        self._restart_on_scoping_change()
        report = self._token_checked() or self.runner.run()
        interval = self.settings.quarantine.interval if state.quarantine else self.settings.cycle_interval
        state.next_cycle_at = self.clock.now() + interval
        return report

    def set_scoping_filter(self, scoping: ScopingFilter) -> None:
        """The admin edits the scoping filter; the next cycle restarts the job (docs/entra-idp.md §8)."""
        self.ctx.scoping = scoping

    def _restart_on_scoping_change(self) -> None:
        """A changed scoping filter starts a new initial cycle (docs/entra-idp.md §8 (documented))."""
        fingerprint = self.ctx.scoping.fingerprint()
        if self.state.scoping not in (None, fingerprint) and self.settings.restart_on_scoping_change:
            self.restart()
        self.state.scoping = fingerprint

    def _token_checked(self) -> CycleReport | None:
        if self.before_cycle is None:
            return None
        try:
            self.before_cycle()
        except (httpx.HTTPError, ConfigurationError) as exc:
            self.state.cycle += 1
            entry = self.ctx.record("user", "*", Action.OTHER, Outcome.FAILURE, Code.QUARANTINE, str(exc))
            self.state.quarantine = self.state.quarantine or Quarantine(Code.QUARANTINE, self.clock.now(), str(exc))
            return CycleReport(self.state.cycle, "quarantined", self.clock.now(), [entry], self.state.quarantine)
        return None

    def run_cycles(self, count: int) -> list[CycleReport]:
        if not self.state.running:
            return [self.start(), *(self.run_cycle() for _ in range(count - 1))] if count > 0 else []
        return [self.run_cycle() for _ in range(count)]

    def restart(self, *, full: bool = False) -> None:
        """Restart provisioning: clear watermark, escrows and quarantine; ``full`` also drops links (§8)."""
        self.state.restart()
        self.state.unmanaged.clear()
        if full:
            self.state.members_sent.clear()
            self.state.member_groups_sent.clear()
            for kind in ("user", "group"):
                for source_id in self.links.links(kind):
                    self.links.unlink(kind, source_id)
        self.state.next_cycle_at = self.clock.now()

    def approve_staged_deletions(self) -> None:
        """Let the next cycle send the deletions staged by the accidental-deletion threshold (§3.3)."""
        self.state.deletions_approved = True
        self.state.next_cycle_at = self.clock.now()

    # -- provision on demand (§8) -------------------------------------------------------------

    def provision_on_demand(self, user_id: str) -> list[LogEntry]:
        """One user now: test connection, scope, match, then create, update or disable (not deleted/disabled users)."""
        first = len(self.log)
        self.directory.core.user(user_id)
        test = self.test_connection()
        if not test.ok:
            self.ctx.record("user", user_id, Action.OTHER, Outcome.FAILURE, Code.QUARANTINE, test.detail)
            return self.log.entries[first:]
        disposition = self.ctx.user_disposition(user_id)
        if disposition in (Disposition.SOFT_DELETED, Disposition.DISABLED, Disposition.GONE):
            self.ctx.record("user", user_id, Action.SKIP, Outcome.SKIPPED, Code.ON_DEMAND_NOT_ALLOWED)
            return self.log.entries[first:]
        done = self.runner.user(user_id, disposition, rematch=True, staged=set())
        if done is not None:
            self.users.set_manager(done)
        return self.log.entries[first:]

    def provision_group_on_demand(self, group_id: str, members: list[str]) -> list[LogEntry]:
        """One group and at most 5 of its members (§3.4, §8): the group, those users, their memberships."""
        first = len(self.log)
        group = self.directory.core.group(group_id)
        limit = self.settings.on_demand_group_members
        if len(members) > limit:
            raise ConfigurationError(
                f"provision on demand takes at most {limit} members of a group, got {len(members)}"
            )
        strangers = [uid for uid in members if uid not in group.members]
        if strangers:
            raise DirectoryError(f"not members of group {group.name!r}: {', '.join(strangers)}")
        test = self.test_connection()
        if not test.ok:
            self.ctx.record("group", group_id, Action.OTHER, Outcome.FAILURE, Code.QUARANTINE, test.detail)
            return self.log.entries[first:]
        if self.ctx.group_disposition(group_id) is not Disposition.ACTIVE:
            self.ctx.record("group", group_id, Action.SKIP, Outcome.SKIPPED, Code.NOT_IN_SCOPE)
            return self.log.entries[first:]
        for uid in members:
            self.runner.user(uid, self.ctx.user_disposition(uid), rematch=True, staged=set())
        if self.runner.group(group_id, Disposition.ACTIVE, True, set()):
            try:
                self.groups.sync_members(group_id, subset=set(members))
            except ProvisioningFailure as exc:
                self.ctx.record("group", group_id, Action.UPDATE, Outcome.FAILURE, exc.code, exc.detail)
        return self.log.entries[first:]

    # -- directory changes, sent at the next cycle ----------------------------------------------

    def assign_user(self, user_id: str) -> None:
        self.directory.core.user(user_id)
        if user_id not in self.directory.core.app.users:
            self.directory.core.app.users.append(user_id)

    def unassign_user(self, user_id: str) -> None:
        if user_id in self.directory.core.app.users:
            self.directory.core.app.users.remove(user_id)

    def assign_group(self, group_id: str) -> None:
        self.directory.core.group(group_id)
        if group_id not in self.directory.core.app.groups:
            self.directory.core.app.groups.append(group_id)

    def unassign_group(self, group_id: str) -> None:
        if group_id in self.directory.core.app.groups:
            self.directory.core.app.groups.remove(group_id)

    def update_user(self, user_id: str, changes: Mapping[str, Any]) -> None:
        """Change attributes by their Entra names (``jobTitle``, ``manager``...); None clears one."""
        user = self.directory.core.user(user_id)
        known = self.directory.core.known_attributes()
        for name, value in changes.items():
            core_name = _CORE_NAMES.get(name, name)
            if core_name not in known:
                raise DirectoryError(f"{name} is not a user attribute of this directory")
            if core_name == "login" and not value:
                raise DirectoryError("userPrincipalName cannot be empty")
            if core_name == "managerId":
                user.profile.pop("manager", None)  # one manager: the login form would outlive a cleared id
            if value is None:
                user.profile.pop(core_name, None)
            else:
                user.profile[core_name] = value

    def set_account_enabled(self, user_id: str, enabled: bool) -> None:
        user = self.directory.core.user(user_id)
        if user.status is not Status.DEPROVISIONED:
            user.status = Status.ACTIVE if enabled else Status.SUSPENDED

    def soft_delete_user(self, user_id: str) -> None:
        self.directory.soft_delete(user_id, self.clock.now())

    def restore_user(self, user_id: str) -> None:
        self.directory.restore(user_id)

    def hard_delete_user(self, user_id: str) -> None:
        self.directory.hard_delete(user_id)

    def set_app_roles(self, user_id: str, roles: list[AppRole]) -> None:
        self.directory.core.user(user_id)
        self.directory.app_roles[user_id] = list(roles)

    def add_group_member(self, group_id: str, user_id: str) -> None:
        group = self.directory.core.group(group_id)
        self.directory.core.user(user_id)
        if user_id not in group.members:
            group.members.append(user_id)

    def remove_group_member(self, group_id: str, user_id: str) -> None:
        group = self.directory.core.group(group_id)
        if user_id in group.members:
            group.members.remove(user_id)

    def rename_group(self, group_id: str, name: str) -> None:
        if not name:
            raise DirectoryError("a group name cannot be empty")
        self.directory.core.group(group_id).name = name

    def add_member_group(self, group_id: str, child_id: str) -> None:
        """Nest a group in another (docs/entra-idp.md §3.4: Entra sends the child as one member)."""
        group = self.directory.core.group(group_id)
        self.directory.core.group(child_id)
        if child_id == group_id:
            raise DirectoryError(f"group {group.name!r} cannot be a member of itself")
        if child_id not in group.member_groups:
            group.member_groups.append(child_id)

    def remove_member_group(self, group_id: str, child_id: str) -> None:
        group = self.directory.core.group(group_id)
        if child_id in group.member_groups:
            group.member_groups.remove(child_id)

    def delete_group(self, group_id: str) -> None:
        self.directory.core.group(group_id)
        del self.directory.core.groups[group_id]
        for parent in self.directory.core.groups.values():
            if group_id in parent.member_groups:
                parent.member_groups.remove(group_id)
        if group_id in self.directory.core.app.groups:
            self.directory.core.app.groups.remove(group_id)
