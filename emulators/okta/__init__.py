"""The Okta emulator: Okta's SCIM client dialects (OIN and AIW) driven by admin actions."""

from emulators.okta.console import OktaConsole
from emulators.okta.default_mapping import OKTA_DEFAULT_MAPPING
from emulators.okta.engine import ImportMatch, ImportResult, OktaEmulator
from emulators.okta.profile import OKTA_AIW, OKTA_OIN, PROFILES, OktaProfile, OktaSettings
from emulators.okta.tasks import Task, TaskLog, TaskStatus
from emulators.registry import IdpSpec

# Okta's entry in the IdP registry (emulators/registry.py).
SPEC = IdpSpec(
    name="okta",
    label="Okta",
    profiles=PROFILES,
    default_profile=OKTA_OIN.name,
    console=OktaConsole,
    # Okta sends "Okta SCIM Client 1.0.0", its published test suite "OKTA SCIM Integration" (docs/okta-idp.md §2, §11a)
    agent_marks=("okta",),
    variants={"AIW": OKTA_AIW.name},
    docs="docs/okta-idp.md",
    console_checks=False,  # conformance/suites/sync.py and okta_*.py hold Okta's hand-written checks
)

__all__ = [
    "OKTA_AIW",
    "OKTA_DEFAULT_MAPPING",
    "OKTA_OIN",
    "PROFILES",
    "SPEC",
    "ImportMatch",
    "ImportResult",
    "OktaConsole",
    "OktaEmulator",
    "OktaProfile",
    "OktaSettings",
    "Task",
    "TaskLog",
    "TaskStatus",
]
