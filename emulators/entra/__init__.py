"""The Entra emulator: Microsoft Entra ID's provisioning service as a SCIM client, cycle by cycle."""

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

__all__ = [
    "DEFAULT_GROUP_MAPPING",
    "DEFAULT_USER_MAPPING",
    "ENTRA_DEFAULT",
    "ENTRA_SCIM062020",
    "FLAG",
    "PROFILES",
    "Action",
    "AppRole",
    "Clause",
    "Code",
    "ConnectionTest",
    "CycleReport",
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
