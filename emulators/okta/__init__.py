"""The Okta emulator: Okta's SCIM client dialects (OIN and AIW) driven by admin actions."""

from emulators.okta.default_mapping import OKTA_DEFAULT_MAPPING
from emulators.okta.engine import ImportResult, OktaEmulator
from emulators.okta.profile import OKTA_AIW, OKTA_OIN, PROFILES, OktaProfile, OktaSettings
from emulators.okta.tasks import Task, TaskLog, TaskStatus

__all__ = [
    "OKTA_AIW",
    "OKTA_DEFAULT_MAPPING",
    "OKTA_OIN",
    "PROFILES",
    "ImportResult",
    "OktaEmulator",
    "OktaProfile",
    "OktaSettings",
    "Task",
    "TaskLog",
    "TaskStatus",
]
