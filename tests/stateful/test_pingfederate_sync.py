"""One-way sync as a property for PingFederate (docs/pingfederate-idp.md): after any sequence of datastore
changes, service-provider edits and synchronization cycles, the server holds the expected state of the
directory. The rules are tests/stateful/test_sync_machines.py's; PingFederate runs in both dialects, with
either Remove User Action."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import rule

from emulators.core.console import AdminConsole
from features.steps.world import Config, open_console
from scimcore.client import Wiretap
from tests.stateful.test_sync_machines import SETTINGS, TIMEOUT_S, SyncMachine


class PingFederateSync(SyncMachine):
    """PATCH dialect, Remove User Action Disable. PingFederate writes a user only when its mapped
    representation changed, as a PUT of that representation: an edit of an unmapped attribute on the server
    lasts until the user is written again (RFC 7644 §3.5.1, a PUT replaces), so only mapped drift is made here."""

    dialect = "patch"
    settings: dict[str, object] = {}
    tap: Wiretap

    def make_idp(self) -> AdminConsole:
        config = Config("pingfederate", self.dialect)
        config.settings.update(self.settings)
        console, self.tap, _ = open_console(self.target, self.directory, config)
        return console

    @rule(user=SyncMachine.users, value=st.sampled_from(["Drift", "Ünïcode drift"]))
    def drift(self, user: str, value: str) -> None:  # type: ignore[override]
        SyncMachine.drift(self, user, value, unmapped=False)

    @rule()
    def idle_cycle(self) -> None:
        """A cycle with nothing changed since the last one writes nothing."""
        if not self.synced:
            return
        before = len(self.tap.exchanges)
        self.idp.sync()
        written = [exchange.method for exchange in self.tap.exchanges[before:]]
        assert written == [], f"an idle cycle sent {written}"


class PingFederatePutDeleteSync(PingFederateSync):
    """PUT dialect (the connection's PATCH box cleared), Remove User Action Delete."""

    dialect = "put"
    settings = {"remove_user_action": "delete"}


TestPingFederateSync = PingFederateSync.TestCase
TestPingFederateSync.settings = SETTINGS
TestPingFederateSync = pytest.mark.timeout(TIMEOUT_S)(TestPingFederateSync)
TestPingFederatePutDeleteSync = PingFederatePutDeleteSync.TestCase
TestPingFederatePutDeleteSync.settings = SETTINGS
TestPingFederatePutDeleteSync = pytest.mark.timeout(TIMEOUT_S)(TestPingFederatePutDeleteSync)
