"""What a check is and what running one gives: levels, statuses, results with evidence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from scimcore.wire import Exchange

if TYPE_CHECKING:
    from conformance.context import CheckContext


class Level(StrEnum):
    """Requirement strength (RFC 2119) of what a check enforces."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


class Status(StrEnum):
    """PASS; FAIL (a MUST broken) and WARN (a SHOULD or MAY broken) blame the server; BLOCKED says a
    prerequisite check broke first (the root cause is judged, this one is not run); SKIP says why it did not
    run; ERROR blames the harness or the network, never the server's conformance."""

    PASS = "PASS"  # noqa: S105 - a status, not a secret
    FAIL = "FAIL"
    WARN = "WARN"
    SKIP = "SKIP"
    BLOCKED = "BLOCKED"
    ERROR = "ERROR"


class Verdict(StrEnum):
    """The run as a whole: INCOMPLETE when nothing failed but some check was not judged (ERROR)."""

    CONFORMANT = "CONFORMANT"
    NOT_CONFORMANT = "NOT CONFORMANT"
    INCOMPLETE = "INCOMPLETE"


SUITES = ("rfc", "okta", "entra", "sync", "posix")


@dataclass(frozen=True)
class Check:
    """One requirement, checked by ``fn``; ``requires`` names ServiceProviderConfig features (``patch``,
    ``sort``, ``etag``, ``filter``, ``bulk``, ``changePassword``) the check needs advertised.

    ``needs`` names prerequisite checks (ids): when one of them fails or cannot be judged, this check is
    BLOCKED by it instead of failing over the same defect. ``exclusive`` checks run with no other check in
    flight (they change or count server-wide state). ``hint`` says what to fix when this check is a root cause.
    """

    id: str
    title: str
    level: Level
    suite: str
    ref: str
    fn: Callable[[CheckContext], None]
    tags: frozenset[str] = frozenset()
    requires: frozenset[str] = frozenset()
    needs: tuple[str, ...] = ()
    exclusive: bool = False
    hint: str = ""

    @property
    def failing_status(self) -> Status:
        return Status.FAIL if self.level is Level.MUST else Status.WARN


@dataclass(frozen=True)
class Result:
    """The outcome of one check. ``evidence`` holds the check's exchanges, already redacted."""

    check: Check
    status: Status
    reason: str = ""
    expected: str = ""
    actual: str = ""
    evidence: tuple[Exchange, ...] = ()
    duration_ms: float = 0.0
    notes: tuple[str, ...] = field(default=())
    blocked_by: tuple[str, ...] = ()  # BLOCKED: the prerequisite check ids that broke first

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.check.id,
            "title": self.check.title,
            "suite": self.check.suite,
            "level": str(self.check.level),
            "ref": self.check.ref,
            "tags": sorted(self.check.tags),
            "requires": sorted(self.check.requires),
            "needs": list(self.check.needs),
            "hint": self.check.hint,
            "status": str(self.status),
            "blocked_by": list(self.blocked_by),
            "reason": self.reason,
            "expected": self.expected,
            "actual": self.actual,
            "duration_ms": round(self.duration_ms, 3),
            "notes": list(self.notes),
            "evidence": [exchange_dict(exchange) for exchange in self.evidence],
        }


def exchange_dict(exchange: Exchange) -> dict[str, Any]:
    return {
        "method": exchange.method,
        "url": exchange.url,
        "request_headers": [list(pair) for pair in exchange.request_headers],
        "request_body": exchange.request_body,
        "status": exchange.status,
        "response_headers": [list(pair) for pair in exchange.response_headers],
        "response_body": exchange.response_body,
    }


class CheckFailed(Exception):
    """The server broke the requirement: raised by ``CheckContext.expect`` and friends."""

    def __init__(self, reason: str, *, expected: str = "", actual: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.expected = expected
        self.actual = actual


class CheckSkipped(Exception):
    """The check cannot run here (a capability not advertised, a prerequisite the server refused)."""
