"""The provisioning job's state between cycles: watermark, escrows, quarantine, memberships sent.

Restart clears the watermark, escrows and quarantine but keeps links; a full reset also drops the
links (reference/entra.md §8). Everything here is plain data so the engine stays testable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emulators.core.linkstore import Kind
from emulators.entra.profile import EscrowPolicy

ObjectKey = tuple[Kind, str]  # ("user" | "group", source id)


@dataclass
class Escrow:
    """An object whose last attempt failed; retried on the escrow schedule (§7)."""

    code: str
    first_failure: float
    failures: int
    next_retry: float
    never_drop: bool = False  # 429: retried next cycle, never dropped (§7)


@dataclass
class Quarantine:
    reason: str
    since: float
    detail: str = ""


@dataclass
class JobState:
    watermark: dict[ObjectKey, str] | None = None
    escrows: dict[ObjectKey, Escrow] = field(default_factory=dict)
    quarantine: Quarantine | None = None
    disabled: bool = False
    running: bool = False
    cycle: int = 0
    next_cycle_at: float | None = None
    unmanaged: set[str] = field(default_factory=set)
    members_sent: dict[str, set[str]] = field(default_factory=dict)
    deletions_approved: bool = False

    def fail(self, key: ObjectKey, code: str, now: float, policy: EscrowPolicy, *, retry_next_cycle: bool) -> Escrow:
        escrow = self.escrows.get(key)
        if escrow is None:
            escrow = self.escrows[key] = Escrow(code, now, 0, now, never_drop=retry_next_cycle)
        escrow.code = code
        escrow.failures += 1
        escrow.never_drop = retry_next_cycle
        escrow.next_retry = now if retry_next_cycle else policy.next_retry(escrow.first_failure, escrow.failures)
        return escrow

    def due(self, key: ObjectKey, now: float) -> bool:
        escrow = self.escrows.get(key)
        return escrow is not None and escrow.next_retry <= now

    def waiting(self, key: ObjectKey, now: float) -> bool:
        escrow = self.escrows.get(key)
        return escrow is not None and escrow.next_retry > now

    def restart(self) -> None:
        """Clear watermark, escrows and quarantine (§8 Restart provisioning).

        Memberships sent are kept like the links they hang on, so a removal pending at the restart
        is still sent; a full reset (which drops links) forgets them too.
        """
        self.watermark = None
        self.escrows.clear()
        self.quarantine = None
        self.disabled = False
        self.deletions_approved = False
