"""The provisioning job's state between cycles: watermark, escrows, quarantine, memberships sent.

Restart clears the watermark, escrows and quarantine but keeps links; a full reset also drops the
links (docs/entra-idp.md §8). Everything here is plain data so the engine stays testable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

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
    scoping: str | None = None  # the scoping filter's fingerprint at the last cycle (docs/entra-idp.md §8)
    # Child groups sent as members, by the parent's target id (nested groups, docs/entra-idp.md §3.4).
    member_groups_sent: dict[str, set[str]] = field(default_factory=dict)

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

    # -- persistence: a CLI run resumes the job where the last one left it ------------------------

    def to_data(self) -> dict[str, Any]:
        """Plain JSON data; object keys are written ``kind:source-id``."""
        return {
            "watermark": None if self.watermark is None else {_key_text(k): v for k, v in self.watermark.items()},
            "escrows": {_key_text(k): asdict(escrow) for k, escrow in self.escrows.items()},
            "quarantine": None if self.quarantine is None else asdict(self.quarantine),
            "disabled": self.disabled,
            "running": self.running,
            "cycle": self.cycle,
            "next_cycle_at": self.next_cycle_at,
            "unmanaged": sorted(self.unmanaged),
            "members_sent": {gid: sorted(members) for gid, members in sorted(self.members_sent.items())},
            "deletions_approved": self.deletions_approved,
            "scoping": self.scoping,
            "member_groups_sent": {gid: sorted(ids) for gid, ids in sorted(self.member_groups_sent.items()) if ids},
        }

    @classmethod
    def from_data(cls, data: Any) -> JobState:
        """The state ``to_data`` wrote; ValueError (with the field) when it is not that shape."""
        if not isinstance(data, dict):
            raise ValueError("the job state must be a mapping")
        try:
            watermark = data.get("watermark")
            quarantine = data.get("quarantine")
            return cls(
                watermark=None if watermark is None else {_key_of(k): str(v) for k, v in dict(watermark).items()},
                escrows={_key_of(k): Escrow(**v) for k, v in dict(data.get("escrows") or {}).items()},
                quarantine=None if quarantine is None else Quarantine(**quarantine),
                disabled=bool(data.get("disabled", False)),
                running=bool(data.get("running", False)),
                cycle=int(data.get("cycle", 0)),
                next_cycle_at=None if data.get("next_cycle_at") is None else float(data["next_cycle_at"]),
                unmanaged={str(uid) for uid in data.get("unmanaged") or ()},
                members_sent={str(g): {str(m) for m in ms} for g, ms in dict(data.get("members_sent") or {}).items()},
                deletions_approved=bool(data.get("deletions_approved", False)),
                scoping=None if data.get("scoping") is None else str(data["scoping"]),
                member_groups_sent={
                    str(g): {str(c) for c in cs} for g, cs in dict(data.get("member_groups_sent") or {}).items()
                },
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"the job state is damaged: {exc}") from None


def _key_text(key: ObjectKey) -> str:
    return f"{key[0]}:{key[1]}"


def _key_of(text: str) -> ObjectKey:
    kind, sep, source_id = str(text).partition(":")
    if not sep or kind not in ("user", "group"):
        raise ValueError(f"{text!r} is not user:<id> or group:<id>")
    return ("user" if kind == "user" else "group", source_id)
