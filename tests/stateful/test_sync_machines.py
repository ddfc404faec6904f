"""One-way sync as a property: after any sequence of directory changes, service-provider edits and
syncs, the server holds the expected state of the directory through the IdP's mapping.

One RuleBasedStateMachine per IdP, driving the same IdP adapters as the features, against a fresh
embedded server per example. The default run is small; ``AUP_HYPOTHESIS_PROFILE=long`` gives the
larger budget of the separate tox environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import Store, open_store
from emulators.core.console import AdminConsole
from emulators.core.directory import Directory, Status
from emulators.core.expected import ExpectedState
from emulators.entra import EntraConsole
from emulators.okta import OktaConsole
from features.steps.checks import state_differences
from features.steps.target import ScimTarget, ServiceProvider
from features.steps.world import Config, open_console
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.target import Bearer, Target
from tests.conftest import fresh_db

LONG = os.environ.get("AUP_HYPOTHESIS_PROFILE") == "long"
SETTINGS = settings(
    max_examples=150 if LONG else 8,
    stateful_step_count=40 if LONG else 15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TIMEOUT_S = 3600 if LONG else 300  # a failure in the long run shrinks through many slow examples
PREFIX = "pbt"
DOMAIN = "example.test"
FIRST = st.sampled_from(["Ann", "Ben", "Zoë", "Ōta"])
LAST = st.sampled_from(["Lee", "Ng", "Müller", "O'Neil"])
ATTRIBUTES = st.sampled_from(["firstName", "lastName", "displayName", "email", "title"])
VALUES = st.one_of(st.none(), st.sampled_from(["x", "Ann Lee", "R&D", "ünï", "a@b.example.test"]))
NICK = "nickName"  # mapped by neither IdP's default mapping: must survive every write
MAPPED = "displayName"  # mapped by both: drift here is overwritten when the IdP writes the user again


class SyncMachine(RuleBasedStateMachine):
    users = Bundle("users")
    groups = Bundle("groups")

    def __init__(self) -> None:
        super().__init__()
        self.store = open_store(ServerConfig(db=fresh_db()))
        token = issue_token(self.store, "pbt")
        self.target = ScimTarget(Target(IN_PROCESS_SCIM_URL, Bearer(token), app=create_app(store=self.store)))
        http, _ = self.target.client()
        self.sp = ServiceProvider(http)
        self.directory = Directory()
        self.idp: AdminConsole = self.make_idp()
        self.counter = 0
        self.logins: dict[str, str] = {}  # user id -> current login (kept after a delete)
        self.retired: set[str] = set()  # old logins and deleted users: nobody active may hold them
        self.gone: set[str] = set()  # logins that must not exist at all
        self.gone_groups: set[str] = set()
        self.connected: set[str] = set()
        self.tolerated: dict[str, set[str]] = {}
        self.nicknames: dict[str, str] = {}  # server id -> the nickName set on that resource
        self.synced = True
        self.complete = True  # group memberships are complete (not lagging behind a scope change)

    def make_idp(self) -> AdminConsole:
        raise NotImplementedError

    def expected(self) -> ExpectedState:
        return self.idp.expected_state()

    def teardown(self) -> None:
        self.target.close()
        self.store.close()

    def _next(self, kind: str) -> str:
        self.counter += 1
        return f"{PREFIX}-{kind}{self.counter}"

    def _changed(self) -> None:
        self.synced = False
        self.complete = False

    def _exists(self, user_id: str) -> bool:
        return user_id in self.directory.users

    # -- directory changes --------------------------------------------------------------------------

    @initialize(target=users, first=FIRST, last=LAST)
    def first_user(self, first: str, last: str) -> str:
        return self._add_user(first, last, assigned=True)

    @rule(target=users, first=FIRST, last=LAST, assigned=st.booleans())
    def create_user(self, first: str, last: str, assigned: bool) -> str:
        return self._add_user(first, last, assigned=assigned)

    def _add_user(self, first: str, last: str, *, assigned: bool) -> str:
        user_id = self._next("u")
        login = f"{user_id}@{DOMAIN}"
        self.logins[user_id] = login
        profile = {"login": login, "firstName": first, "lastName": last, "displayName": f"{first} {last}"}
        self.idp.add_user(user_id, profile)
        if assigned:
            self.idp.assign_user(user_id)
        self._changed()
        return user_id

    @rule(user=users, attribute=ATTRIBUTES, value=VALUES)
    def update_user(self, user: str, attribute: str, value: str | None) -> None:
        assume(self._exists(user))
        self.idp.update_user(user, {attribute: value})
        self._changed()

    @rule(user=users)
    def rename_user(self, user: str) -> None:
        assume(self._exists(user))
        self.retired.add(self.logins[user])
        self.logins[user] = f"{self._next('r')}@{DOMAIN}"
        self.idp.update_user(user, {"login": self.logins[user]})
        self._changed()

    @rule(user=users, assign=st.booleans())
    def assignment(self, user: str, assign: bool) -> None:
        assume(self._exists(user))
        (self.idp.assign_user if assign else self.idp.unassign_user)(user)
        self._changed()

    @rule(user=users, active=st.booleans())
    def activation(self, user: str, active: bool) -> None:
        assume(self._exists(user))
        (self.idp.reactivate if active else self.idp.deactivate)(user)
        self._changed()

    @rule(target=groups, member=users)
    def create_group(self, member: str) -> str:
        group_id = self._next("g")
        self.idp.add_group(group_id, f"{group_id} team", [member] if self._exists(member) else [])
        self.idp.connect_group(group_id)
        self.connected.add(group_id)
        self._changed()
        return group_id

    @rule(group=groups)
    def rename_group(self, group: str) -> None:
        assume(group in self.directory.groups)
        self.gone_groups.add(self.directory.groups[group].name)
        self.idp.rename_group(group, f"{self._next('n')} team")
        self._changed()

    @rule(group=groups, user=users, join=st.booleans())
    def membership(self, group: str, user: str, join: bool) -> None:
        assume(group in self.directory.groups and self._exists(user))
        (self.idp.add_member if join else self.idp.remove_member)(group, user)
        self._changed()

    @rule(group=groups)
    def toggle_group(self, group: str) -> None:
        assume(group in self.directory.groups)
        if group in self.connected:
            self.idp.disconnect_group(group)
            self.connected.discard(group)
        else:
            self.idp.connect_group(group)
            self.connected.add(group)
        self._changed()

    # -- edits made directly on the service provider (they must never flow back) -----------------------

    @rule(user=users, value=st.sampled_from(["Drift", "Ünïcode drift"]), unmapped=st.booleans())
    def drift(self, user: str, value: str, unmapped: bool) -> None:
        doc = self.sp.user_named(self.logins[user])
        assume(doc is not None)
        assert doc is not None
        before = self.directory.to_data()
        self.sp.set_user_value(str(doc["id"]), NICK if unmapped else MAPPED, value)
        if unmapped:
            self.nicknames[str(doc["id"])] = value
        else:
            self.tolerated.setdefault(self.logins[user], set()).add(MAPPED)
        assert self.directory.to_data() == before, "an edit on the service provider reached the directory"

    # -- syncs ----------------------------------------------------------------------------------------

    @rule()
    def sync(self) -> None:
        before = self.directory.to_data()
        self.idp.sync()
        assert self.directory.to_data() == before, "a sync changed the IdP directory"
        self.synced = True
        self.cycle_ran()

    def cycle_ran(self) -> None:
        """What the IdP learnt in a sync (or restart) that later rules depend on; nothing by default."""

    @rule()
    def rewrite(self) -> None:
        self.idp.rewrite()
        self.cycle_ran()
        expected = self.idp.expected_state()
        for login in list(self.tolerated):
            if login in expected.users and expected.users[login].state == "active":
                del self.tolerated[login]
        self.synced = self.complete = True

    @invariant()
    def server_holds_the_expected_state(self) -> None:
        if not self.synced:
            return
        assert self.idp.unresolved_failures() == []
        problems = state_differences(
            self.sp,
            self.expected(),
            PREFIX,
            absent=self.gone,
            inactive=self.retired,
            absent_groups=self.gone_groups - {self.directory.groups[g].name for g in self.connected},
            tolerated=self.tolerated,
            members_complete=self.complete,
        )
        for scim_id, nick in self.nicknames.items():
            doc = self.sp.user_or_none(scim_id)
            if doc is not None and doc.get(NICK) != nick:
                problems.append(f"user {doc['userName']}: the unmapped {NICK} became {doc.get(NICK)!r}")
        assert not problems, "\n".join(problems)


class OktaSync(SyncMachine):
    """Okta sends each change at once, so the invariant holds after every step. A member who leaves a
    pushed group while out of scope is not removed until the next Push Now (see the xfail test below)."""

    def make_idp(self) -> AdminConsole:
        return open_console(self.target, self.directory, Config("okta"))[0]

    def __init__(self) -> None:
        super().__init__()
        self.stale: dict[str, set[str]] = {}  # pushed group id -> logins that left it while out of scope

    def expected(self) -> ExpectedState:
        expected = self.idp.expected_state()
        for group_id, logins in self.stale.items():
            name = self.directory.groups[group_id].name
            if name in expected.groups:
                group = expected.groups[name]
                expected.groups[name] = replace(group, allowed=group.allowed | logins)
        return expected

    @rule(group=SyncMachine.groups, user=SyncMachine.users, join=st.booleans())
    def membership(self, group: str, user: str, join: bool) -> None:
        assume(group in self.directory.groups and self._exists(user))
        in_scope = self.directory.is_assigned(user) and self.directory.users[user].status is not Status.DEPROVISIONED
        if not join and not in_scope and user in self.directory.groups[group].members:
            self.stale.setdefault(group, set()).add(self.logins[user])
        super().membership(group, user, join)

    def _changed(self) -> None:
        self.synced = self.complete = True

    @rule(user=SyncMachine.users)
    def suspend(self, user: str) -> None:
        assume(self._exists(user))
        okta = self.idp
        assert isinstance(okta, OktaConsole)
        if self.directory.users[user].status is Status.SUSPENDED:
            okta.emulator.unsuspend_user(user)
        else:
            okta.emulator.suspend_user(user)

    @rule(user=SyncMachine.users)
    def delete_user(self, user: str) -> None:
        assume(self._exists(user))
        okta = self.idp
        assert isinstance(okta, OktaConsole)
        okta.emulator.delete_user(user)
        self.retired.add(self.logins[user])

    @rule(group=SyncMachine.groups)
    def push_now(self, group: str) -> None:
        assume(group in self.connected)
        okta = self.idp
        assert isinstance(okta, OktaConsole)
        okta.emulator.push_now(group)
        self.stale.pop(group, None)

    @rule(group=SyncMachine.groups)
    def toggle_group(self, group: str) -> None:
        super().toggle_group(group)
        self.stale.pop(group, None)
        if group not in self.connected:
            self.gone_groups.add(self.directory.groups[group].name)

    @rule()
    def rewrite(self) -> None:
        super().rewrite()
        self.stale.clear()  # Force Sync plus Push Now of every pushed group


class EntraSync(SyncMachine):
    """Entra sends at its next cycle, so the invariant is checked after each sync. A member who comes
    into scope after its group was sent is added only by a restart (docs/entra-idp.md §3.4 (documented)),
    so missing members count only after a restart with no change since."""

    def __init__(self) -> None:
        super().__init__()
        self.unmanaged: set[str] = set()  # users a cycle found unassigned: disabled, then left alone

    def make_idp(self) -> AdminConsole:
        return open_console(self.target, self.directory, Config("entra"))[0]

    def cycle_ran(self) -> None:
        # Out of scope at a cycle: disabled, then unmanaged; a later hard delete sends no DELETE
        # (docs/entra-idp.md §3.3 (documented)). A cycle that finds the user assigned again manages it again.
        self.unmanaged = {user for user in self.directory.users if not self.directory.is_assigned(user)}

    @property
    def entra(self) -> EntraConsole:
        assert isinstance(self.idp, EntraConsole)
        return self.idp

    @rule(user=SyncMachine.users, restore=st.booleans())
    def soft_delete(self, user: str, restore: bool) -> None:
        assume(self._exists(user))
        if restore:
            self.entra.emulator.restore_user(user)
        else:
            self.entra.emulator.soft_delete_user(user)
        self._changed()

    @rule(user=SyncMachine.users)
    def hard_delete(self, user: str) -> None:
        assume(self._exists(user))
        self.entra.emulator.hard_delete_user(user)
        # An unmanaged user stays on the service provider, disabled; a managed one is deleted.
        (self.retired if user in self.unmanaged else self.gone).add(self.logins[user])
        self._changed()

    @rule()
    def rewrite(self) -> None:
        """Pending changes go out in a normal cycle before the restart, so this machine checks restarts of a
        settled job; a restart with changes pending is covered by the test below."""
        self.idp.sync()
        super().rewrite()

    @rule(group=SyncMachine.groups)
    def delete_group(self, group: str) -> None:
        assume(group in self.directory.groups)
        name = self.directory.groups[group].name
        self.entra.emulator.delete_group(group)
        self.connected.discard(group)
        self.gone_groups.add(name)
        self._changed()

    @rule(group=SyncMachine.groups)
    def toggle_group(self, group: str) -> None:
        super().toggle_group(group)
        if group not in self.connected:
            self.gone_groups.add(self.directory.groups[group].name)


def test_entra_restart_still_sends_a_pending_membership_removal(make_store: Callable[..., Store]) -> None:
    """Shrunk from EntraSync: a member leaves an assigned group, then provisioning restarts before a cycle."""
    store = make_store()
    target = ScimTarget(Target(IN_PROCESS_SCIM_URL, Bearer(issue_token(store, "pbt")), app=create_app(store=store)))
    try:
        idp = open_console(target, Directory(), Config("entra"))[0]
        idp.add_user("u1", {"login": f"{PREFIX}-u1@{DOMAIN}", "firstName": "Ann", "lastName": "Lee"})
        idp.add_group("g1", f"{PREFIX}-g1 team", ["u1"])
        idp.connect_group("g1")
        idp.sync()
        idp.remove_member("g1", "u1")
        idp.rewrite()
        group = ServiceProvider(target.client()[0]).group_named(f"{PREFIX}-g1 team")
        assert group is not None
        assert group.get("members", []) == [], "the removed member is still in the group"
    finally:
        target.close()
        store.close()


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="finding: Okta never removes a member who left a pushed group while out of scope",
)
def test_okta_removes_a_member_who_left_a_pushed_group_while_deactivated(make_store: Callable[..., Store]) -> None:
    """Shrunk from OktaSync: deactivate, leave the pushed group, reactivate; only Push Now removes the member."""
    store = make_store()
    target = ScimTarget(Target(IN_PROCESS_SCIM_URL, Bearer(issue_token(store, "pbt")), app=create_app(store=store)))
    try:
        idp = open_console(target, Directory(), Config("okta"))[0]
        idp.add_user("u1", {"login": f"{PREFIX}-u1@{DOMAIN}", "firstName": "Ann", "lastName": "Lee"})
        idp.assign_user("u1")
        idp.add_group("g1", f"{PREFIX}-g1 team", ["u1"])
        idp.connect_group("g1")
        idp.deactivate("u1")
        idp.remove_member("g1", "u1")
        idp.reactivate("u1")
        group = ServiceProvider(target.client()[0]).group_named(f"{PREFIX}-g1 team")
        assert group is not None
        assert group.get("members", []) == [], "the member who left is still in the group"
    finally:
        target.close()
        store.close()


TestOktaSync = OktaSync.TestCase
TestOktaSync.settings = SETTINGS
TestOktaSync = pytest.mark.timeout(TIMEOUT_S)(TestOktaSync)
TestEntraSync = EntraSync.TestCase
TestEntraSync.settings = SETTINGS
TestEntraSync = pytest.mark.timeout(TIMEOUT_S)(TestEntraSync)
