"""The PingFederate emulator: the SCIM Provisioner's outbound provisioning, cycle by cycle
(docs/pingfederate-idp.md)."""

from emulators.pingfederate.console import PingFederateConsole, SyncState
from emulators.pingfederate.profile import (
    DEFAULT_MAPPING,
    PINGFEDERATE_PATCH,
    PINGFEDERATE_PUT,
    PROFILES,
    PingFederateProfile,
    PingFederateSettings,
)
from emulators.registry import IdpSpec

# PingFederate's entry in the IdP registry (emulators/registry.py).
SPEC = IdpSpec(
    name="pingfederate",
    label="PingFederate",
    profiles=PROFILES,
    default_profile=PINGFEDERATE_PATCH.name,
    console=PingFederateConsole,
    # Inferred: the provisioner's User-Agent is not documented (docs/pingfederate-idp.md §2)
    agent_marks=("pingfederate",),
    variants={"PUT": PINGFEDERATE_PUT.name},
    docs="docs/pingfederate-idp.md",
    checks="emulators.pingfederate.checks:SUITE",
)

__all__ = [
    "DEFAULT_MAPPING",
    "PINGFEDERATE_PATCH",
    "PINGFEDERATE_PUT",
    "PROFILES",
    "SPEC",
    "PingFederateConsole",
    "PingFederateProfile",
    "PingFederateSettings",
    "SyncState",
]
