"""The state of one scenario: the run prefix, the directory, the IdP (built on first use) and the
service provider admin's client. Names in feature files ("ann", "eng") become prefixed ids and logins.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from emulators.core.clock import FakeClock
from emulators.core.console import AdminConsole, ConsoleSetup
from emulators.core.directory import Directory
from emulators.entra import EntraConsole
from emulators.okta import OktaConsole
from emulators.registry import idps
from features.steps.checks import assert_matches_expected_state, snapshot
from features.steps.target import ScimTarget, ServiceProvider
from scimcore.client import Wiretap
from scimcore.faults import Script

DOMAIN = "example.test"


@dataclass
class Config:
    """What the IdP is built with (an IdP of the registry and its console setup); steps adjust it before
    the first admin action."""

    idp: str = "okta"
    profile: str | None = None  # the IdP's default profile when None
    rules: list[Any] = field(default_factory=list)  # mapping rules in the IdP's own form
    settings: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def use(self, idp: str, profile: str | None = None) -> None:
        if idp != self.idp:
            self.rules.clear()
            self.settings.clear()
            self.options.clear()
        self.idp, self.profile = idp, profile


def open_console(
    target: ScimTarget, directory: Directory, config: Config | None = None
) -> tuple[AdminConsole, Wiretap, Script]:
    """The admin console of ``config``'s IdP (from the registry) on ``directory``, its client wiretapped and
    behind a fault script, sending the profile's exact headers, on a fake clock."""
    config = config or Config()
    spec = idps().get(config.idp)
    profile = spec.profile(config.profile)
    tap = Wiretap(profile.source)
    http, faults = target.client(hooks=tap.hooks, headers=profile.headers)
    setup = ConsoleSetup(
        directory, http, profile, FakeClock(), rules=config.rules, settings=config.settings, options=config.options
    )
    return spec.console(setup), tap, faults


class World:
    def __init__(self, target: ScimTarget, prefix: str) -> None:
        self.target = target
        self.prefix = prefix
        http, _ = target.client()
        self.sp = ServiceProvider(http)
        self.directory = Directory()
        self.config = Config()
        self._idp: AdminConsole | None = None
        self.tap: Wiretap | None = None  # every exchange the IdP sent
        self._faults: Script | None = None
        self.gone: set[str] = set()  # userNames the IdP deleted for good
        self.tolerated: dict[str, set[str]] = {}  # userName -> drifted paths not yet overwritten
        self.ids: dict[str, str] = {}  # feature name -> server id remembered by a step
        self.mark = 0  # exchanges before the last sync
        self.before: dict[str, Any] = {}

    # -- names ----------------------------------------------------------------------------------

    def user_id(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def login(self, name: str) -> str:
        return f"{self.prefix}-{name}@{DOMAIN}"

    def group_id(self, name: str) -> str:
        return f"{self.prefix}-g-{name}"

    def group_name(self, name: str) -> str:
        return f"{self.prefix} {name}"

    # -- the IdP --------------------------------------------------------------------------------

    @property
    def idp(self) -> AdminConsole:
        if self._idp is None:
            self._idp = self._build()
        return self._idp

    def _build(self) -> AdminConsole:
        console, self.tap, self._faults = open_console(self.target, self.directory, self.config)
        return console

    @property
    def faults(self) -> Script:
        """Rules added here break the IdP's requests (scimcore.faults); the IdP is built first."""
        _ = self.idp
        assert self._faults is not None
        return self._faults

    @property
    def exchanges(self) -> list[Any]:
        """What the IdP sent so far (nothing before it was built)."""
        return self.tap.exchanges if self.tap is not None else []

    def methods_sent(self) -> list[str]:
        return [exchange.method for exchange in self.exchanges]

    @property
    def okta(self) -> OktaConsole:
        assert isinstance(self.idp, OktaConsole), "this step needs an Okta org"
        return self.idp

    @property
    def entra(self) -> EntraConsole:
        assert isinstance(self.idp, EntraConsole), "this step needs an Entra tenant"
        return self.idp

    def sync(self) -> None:
        idp = self.idp
        self.mark = len(self.exchanges)
        idp.sync()
        self.remember_all()

    def rewrite(self) -> None:
        self.idp.rewrite()
        self.tolerated.clear()

    # -- the service provider -------------------------------------------------------------------

    def server_user(self, name: str) -> dict[str, Any] | None:
        return self.sp.user_named(self.login(name))

    def existing_user(self, name: str) -> dict[str, Any]:
        doc = self.server_user(name)
        assert doc is not None, f"the service provider has no user {self.login(name)}"
        return doc

    def remember_all(self) -> None:
        """Note the server id of every user of the run seen now; "same id" checks compare with the first."""
        for doc in self.sp.users(self.prefix):
            name = str(doc["userName"]).removeprefix(f"{self.prefix}-").removesuffix(f"@{DOMAIN}")
            self.ids.setdefault(name, str(doc["id"]))

    def remember(self, name: str) -> None:
        doc = self.server_user(name)
        if doc is not None:
            self.ids.setdefault(name, str(doc["id"]))

    def check_expected_state(self) -> None:
        failures = self.idp.unresolved_failures()
        assert not failures, f"{self.idp.label} could not send everything, so no expected state holds: {failures}"
        assert_matches_expected_state(
            self.sp, self.idp.expected_state(), self.prefix, absent=self.gone, tolerated=self.tolerated
        )

    def snapshot(self) -> dict[str, Any]:
        return snapshot(self.sp, self.prefix)


@pytest.fixture
def run_prefix() -> str:
    """A prefix unique to the scenario: every name it creates on the service provider starts with it."""
    return f"bdd{uuid.uuid4().hex[:10]}"


@pytest.fixture
def world(scim_target: ScimTarget, run_prefix: str) -> Iterator[World]:
    state = World(scim_target, run_prefix)
    try:
        yield state
    finally:
        state.sp.cleanup(run_prefix)
        scim_target.close()
