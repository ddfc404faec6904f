"""The provisioning log: one entry per object evaluated, with its action, outcome and reason code.

Codes follow docs/entra-idp.md §6-§7 and the provisioning-log error table it cites:
``DuplicateTargetEntries``, ``InvalidAnchor``, ``EntryConflict``, ``TooManyRequests``, ``Timeout``...
Skip reasons that Microsoft does not name in the reference are the emulator's own, stated below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    CREATE = "Create"
    UPDATE = "Update"
    DISABLE = "Disable"
    DELETE = "Delete"
    SKIP = "Skip"
    OTHER = "Other"


class Outcome(StrEnum):
    SUCCESS = "Success"
    FAILURE = "Failure"
    SKIPPED = "Skipped"
    STAGED = "Staged"


class Code(StrEnum):
    """Failure codes and skip reasons written to the log."""

    DUPLICATE_TARGET_ENTRIES = "DuplicateTargetEntries"  # §3.1, provisioning-log error table
    INVALID_ANCHOR = "InvalidAnchor"  # §3.2, provisioning-log error table
    ENTRY_CONFLICT = "EntryConflict"  # §6: a 409
    TOO_MANY_REQUESTS = "TooManyRequests"  # §7
    TIMEOUT = "Timeout"  # §7
    INTERNAL_SERVER_ERROR = "InternalServerError"  # §7: a 5xx
    PROTOCOL_ERROR = "WebExceptionProtocolError"  # §7: another error status or a network failure
    SERVICE_INCOMPATIBLE = "SystemForCrossDomainIdentityManagementServiceIncompatible"  # §6: unreadable answer
    MULTIPLE_ENTRIES = "SystemForCrossDomainIdentityManagementMultipleEntriesInResponse"  # §3.4
    QUARANTINE = "EncounteredQuarantineException"  # §7
    ESCROW_THRESHOLD = "EncounteredEscrowProportionThreshold"  # §7
    STAGED_DELETE = "StagedDelete"  # §3.3 accidental deletions (documented)
    SYNCHRONIZATION_SKIPPED = "EntrySynchronizationSkipped"  # §3.2: nothing differs
    IMPORT_SKIPPED = "ImportSkipped"  # §8: no value for any matching attribute
    NOT_EFFECTIVELY_ENTITLED = "NotEffectivelyEntitled"  # §3.3: disabled users are never created
    # The emulator's own names for skips the reference describes without a code:
    SKIP_OUT_OF_SCOPE_DELETIONS = "SkipOutOfScopeDeletions"  # §3.3 (documented)
    CREATE_DISABLED = "TargetActionCreateDisabled"  # §9: a target action turned off
    UPDATE_DISABLED = "TargetActionUpdateDisabled"
    DELETE_DISABLED = "TargetActionDeleteDisabled"
    UNMANAGED = "UnmanagedAfterOutOfScope"  # §3.3: no DELETE after an out-of-scope disable
    ESCROW_DROPPED = "EscrowDropped"  # §7: given up after 28 days
    NOT_IN_SCOPE = "NotInScope"  # §8 (on-demand provisioning): the object is not assigned or fails the scoping filter
    ON_DEMAND_NOT_ALLOWED = "OnDemandCannotProvisionDeletedOrDisabled"  # §8 (on-demand provisioning)


@dataclass(frozen=True)
class LogEntry:
    cycle: int
    time: float
    kind: str  # "user" or "group"
    source_id: str
    target_id: str | None
    action: Action
    outcome: Outcome
    code: str | None = None
    detail: str = ""

    def __str__(self) -> str:
        target = f" -> {self.target_id}" if self.target_id else ""
        code = f" [{self.code}]" if self.code else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.kind} {self.source_id}{target}: {self.action} {self.outcome}{code}{detail}"


@dataclass
class ProvisioningLog:
    entries: list[LogEntry] = field(default_factory=list)
    # Called with each entry as it is written, so a run can stream its log (and Ctrl-C loses none of it).
    listeners: list[Callable[[LogEntry], None]] = field(default_factory=list)

    def add(self, entry: LogEntry) -> LogEntry:
        self.entries.append(entry)
        for listener in self.listeners:
            listener(entry)
        return entry

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def of_cycle(self, cycle: int) -> list[LogEntry]:
        return [entry for entry in self.entries if entry.cycle == cycle]

    def failures(self) -> list[LogEntry]:
        return [entry for entry in self.entries if entry.outcome is Outcome.FAILURE]

    def for_object(self, source_id: str) -> list[LogEntry]:
        return [entry for entry in self.entries if entry.source_id == source_id]
