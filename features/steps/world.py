"""The state of one scenario: the run prefix, the directory, the IdP (built on first use) and the
service provider admin's client. Names in feature files ("ann", "eng") become prefixed ids and logins.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from emulators.core.directory import Directory
from emulators.core.mapping import MappingRule
from emulators.entra import DEFAULT_USER_MAPPING, ENTRA_DEFAULT, EntraProfile, EntraRule, EntraSettings, ScopingFilter
from emulators.okta import OKTA_DEFAULT_MAPPING, OKTA_OIN, OktaProfile
from features.steps.checks import assert_matches_projection, snapshot
from features.steps.idp import EntraIdp, Idp, OktaIdp
from features.steps.target import ScimTarget, ServiceProvider

DOMAIN = "example.test"


@dataclass
class Config:
    """What the IdP is built with; steps adjust it before the first admin action."""

    kind: str = "okta"
    okta_profile: OktaProfile = OKTA_OIN
    okta_rules: list[MappingRule] = field(default_factory=list)
    entra_profile: EntraProfile = ENTRA_DEFAULT
    entra_rules: list[EntraRule] = field(default_factory=list)
    entra_settings: dict[str, Any] = field(default_factory=dict)
    scoping: ScopingFilter = field(default_factory=ScopingFilter)


class World:
    def __init__(self, target: ScimTarget, prefix: str) -> None:
        self.target = target
        self.prefix = prefix
        http, _ = target.client()
        self.sp = ServiceProvider(http)
        self.directory = Directory()
        self.config = Config()
        self._idp: Idp | None = None
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
    def idp(self) -> Idp:
        if self._idp is None:
            self._idp = self._build()
        return self._idp

    def _build(self) -> Idp:
        cfg = self.config
        if cfg.kind == "okta":
            mapping = OKTA_DEFAULT_MAPPING.merged(cfg.okta_rules)
            return OktaIdp(self.target, self.directory, profile=cfg.okta_profile, mapping=mapping)
        return EntraIdp(
            self.target,
            self.directory,
            profile=cfg.entra_profile,
            user_mapping=DEFAULT_USER_MAPPING.merged(cfg.entra_rules),
            settings=EntraSettings(**cfg.entra_settings),
            scoping=cfg.scoping,
        )

    @property
    def okta(self) -> OktaIdp:
        assert isinstance(self.idp, OktaIdp), "this step needs an Okta org"
        return self.idp

    @property
    def entra(self) -> EntraIdp:
        assert isinstance(self.idp, EntraIdp), "this step needs an Entra tenant"
        return self.idp

    def sync(self) -> None:
        self.mark = len(self.idp.tap.exchanges)
        self.idp.sync()
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

    def check_projection(self) -> None:
        failures = self.idp.unresolved_failures()
        assert not failures, f"{self.idp.label} could not send everything, so no projection holds: {failures}"
        assert_matches_projection(
            self.sp, self.idp.projection(), self.prefix, absent=self.gone, tolerated=self.tolerated
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
