"""The Entra emulator: Microsoft Entra ID's provisioning service as a SCIM client, cycle by cycle."""

from emulators.entra.console import EntraConsole
from emulators.entra.cycle import CycleReport
from emulators.entra.directory import AppRole, EntraDirectory, load_entra_directory
from emulators.entra.engine import ConnectionTest, EntraEmulator
from emulators.entra.log import Action, Code, LogEntry, Outcome, ProvisioningLog
from emulators.entra.mapping import DEFAULT_GROUP_MAPPING, DEFAULT_USER_MAPPING, EntraMapping, EntraRule, load_mappings
from emulators.entra.profile import (
    ENTRA_DEFAULT,
    ENTRA_SCIM062020,
    FLAG,
    PROFILES,
    EntraProfile,
    EntraSettings,
    EscrowPolicy,
    QuarantinePolicy,
    profile_named,
    split_tenant_url,
)
from emulators.entra.scoping import Clause, ScopingFilter
from emulators.registry import IdpSpec

# Entra's entry in the IdP registry (emulators/registry.py).
SPEC = IdpSpec(
    name="entra",
    label="Entra",
    profiles=PROFILES,
    default_profile=ENTRA_DEFAULT.name,
    console=EntraConsole,
    # Inferred: Entra's User-Agent is undocumented (docs/entra-idp.md §12); these words are in Microsoft's
    # services' ones
    agent_marks=("azure", "microsoft", "aad", "entra"),
    variants={FLAG: FLAG},
    docs="docs/entra-idp.md",
    console_checks=False,  # conformance/suites/sync.py and entra_*.py hold Entra's hand-written checks
    # docs/entra-idp.md §3.5: membership PATCHes to one group arrive concurrently
    live_settings={"concurrency": "threads"},
)

__all__ = [
    "DEFAULT_GROUP_MAPPING",
    "DEFAULT_USER_MAPPING",
    "ENTRA_DEFAULT",
    "ENTRA_SCIM062020",
    "FLAG",
    "PROFILES",
    "SPEC",
    "Action",
    "AppRole",
    "Clause",
    "Code",
    "ConnectionTest",
    "CycleReport",
    "EntraConsole",
    "EntraDirectory",
    "EntraEmulator",
    "EntraMapping",
    "EntraProfile",
    "EntraRule",
    "EntraSettings",
    "EscrowPolicy",
    "LogEntry",
    "Outcome",
    "ProvisioningLog",
    "QuarantinePolicy",
    "ScopingFilter",
    "load_entra_directory",
    "load_mappings",
    "profile_named",
    "split_tenant_url",
]
