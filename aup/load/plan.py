"""What a load run is: the tenants (each a SCIM base URL, a bearer token and the IdP that pushes to it), the
scenario profile that mixes the IdP traffic, and the sizes. A plan is plain data so the master can hand each
tenant to whichever worker runs it (docs/load.md).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from emulators.registry import idps

# The scenario steps a tenant's IdP takes between think times (driver.py runs them).
STEPS = ("onboard", "incremental", "churn", "force_sync", "deprovision")


@dataclass(frozen=True)
class Scenario:
    """A traffic mix: the weight of each step. Every tenant provisions its whole directory first (the initial
    provisioning burst of Okta's first push and Entra's initial cycle)."""

    name: str
    summary: str
    weights: Mapping[str, int]


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "steady",
            "every step: new hires, profile edits, membership churn, a rare force sync, deprovisioning waves",
            {"onboard": 2, "incremental": 6, "churn": 6, "force_sync": 1, "deprovision": 1},
        ),
        Scenario("onboarding", "new hires provisioned in bursts, with profile edits", {"onboard": 4, "incremental": 1}),
        Scenario("churn", "group membership churn (Entra: concurrent single-member PATCHes)", {"churn": 1}),
        Scenario(
            "force-sync", "Okta's force sync / Entra's restart, with profile edits", {"force_sync": 1, "incremental": 2}
        ),
        Scenario("offboarding", "deprovisioning waves and returns", {"deprovision": 3, "incremental": 1}),
    )
}


@dataclass(frozen=True)
class TenantSpec:
    """One tenant of the target: where its SCIM endpoint is, its bearer token, the IdP that pushes to it."""

    url: str
    token: str
    idp: str
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or self.url


@dataclass(frozen=True)
class LoadPlan:
    """Everything a tenant's driver needs, identical on the master and every worker."""

    tenants: tuple[TenantSpec, ...]
    scenario: str = "steady"
    users: int = 40  # directory size per tenant
    groups: int = 4
    seed: int = 7
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))
    timeout: float = 30.0
    insecure: bool = False

    def prefix(self, index: int) -> str:
        """The names a tenant's resources carry (userName and displayName start with it), unique per run."""
        return f"load-{self.run_id}-t{index}"

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> LoadPlan:
        tenants = tuple(TenantSpec(**item) for item in data["tenants"])
        return cls(**{**data, "tenants": tenants})


def check_plan(plan: LoadPlan) -> None:
    """ValueError with one line for what cannot run."""
    if not plan.tenants:
        raise ValueError("no tenants: give --token (one tenant) or --tenants FILE")
    if plan.scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {plan.scenario!r}; choose from {', '.join(SCENARIOS)}")
    if plan.users < 2 or plan.groups < 1:
        raise ValueError("a tenant's directory needs at least 2 users and 1 group")
    known = idps()
    for tenant in plan.tenants:
        if tenant.idp not in known:
            raise ValueError(
                f"tenant {tenant.label}: unknown IdP {tenant.idp!r}; choose from {', '.join(known.names())}"
            )
        parts = urlsplit(tenant.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"tenant {tenant.label}: {tenant.url!r} is not an http(s) URL")


def idp_for(index: int, choice: str) -> str:
    """The IdP of the ``index``-th tenant when the command line chooses: one IdP, or ``mixed`` (alternating)."""
    if choice != "mixed":
        return choice
    names = idps().names()
    return names[index % len(names)]


def read_tenants(path: Path, default_idp: str) -> list[TenantSpec]:
    """A tenants file: YAML or JSON ``{"tenants": [{"url": ..., "token": ..., "idp": ..., "name": ...}]}``."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read tenants file {path}: {exc}") from None
    items = data.get("tenants") if isinstance(data, Mapping) else None
    if not isinstance(items, list) or not items:
        raise ValueError(f"tenants file {path}: expected a non-empty list under 'tenants'")
    tenants: list[TenantSpec] = []
    for number, item in enumerate(items, start=1):
        if (
            not isinstance(item, Mapping)
            or not isinstance(item.get("url"), str)
            or not isinstance(item.get("token"), str)
        ):
            raise ValueError(f"tenants file {path}: tenant {number} needs 'url' and 'token' strings")
        unknown = set(item) - {"url", "token", "idp", "name"}
        if unknown:
            raise ValueError(f"tenants file {path}: tenant {number} has unknown keys {sorted(unknown)}")
        idp = item.get("idp") or idp_for(number - 1, default_idp)
        tenants.append(TenantSpec(url=item["url"], token=item["token"], idp=str(idp), name=str(item.get("name") or "")))
    return tenants


def weighted_steps(scenario: str) -> Sequence[tuple[str, int]]:
    return [(step, weight) for step, weight in SCENARIOS[scenario].weights.items() if weight > 0]
