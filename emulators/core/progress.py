"""Progress of a long sync: how many objects are done, at what rate, and when it should end.

Engines count objects through a ``ProgressMeter``; whoever drives them (the CLI, a bench) passes a
callback that renders the reports. Reports are throttled, so a callback costs nothing per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProgressReport:
    """``done`` of ``total`` objects after ``elapsed`` seconds of wall time; ``final`` on the last report."""

    stage: str
    done: int
    total: int
    elapsed: float
    final: bool = False

    @property
    def rate(self) -> float:
        """Objects per second so far (0 before any time has passed)."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate; None while no rate is known yet."""
        if self.done >= self.total:
            return 0.0
        return (self.total - self.done) / self.rate if self.rate > 0 else None

    def line(self) -> str:
        """One human line, e.g. ``users 1200/10000 (12%) 850.0/s ETA 10s``."""
        share = f" ({100 * self.done // self.total}%)" if self.total else ""
        eta = self.eta
        left = "done" if self.final else ("ETA ?" if eta is None else f"ETA {_duration(eta)}")
        return f"{self.stage} {self.done}/{self.total}{share} {self.rate:.1f}/s {left}"


ProgressCallback = Callable[[ProgressReport], None]


def _duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class ProgressMeter:
    """Counts finished objects of one stage and reports at most every ``interval`` seconds, then once at the end."""

    def __init__(
        self,
        stage: str,
        total: int,
        callback: ProgressCallback | None,
        *,
        interval: float = 0.5,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stage = stage
        self.total = max(0, total)
        self.done = 0
        self._callback = callback
        self._interval = interval
        self._timer = timer
        self._started = timer()
        self._last = self._started

    def step(self, count: int = 1) -> None:
        self.done += count
        if self._callback is None:
            return
        now = self._timer()
        if now - self._last >= self._interval:
            self._last = now
            self._callback(ProgressReport(self.stage, self.done, self.total, now - self._started))

    def finish(self) -> None:
        """The last report of the stage, whatever the interval."""
        if self._callback is not None:
            now = self._timer()
            self._callback(ProgressReport(self.stage, self.done, self.total, now - self._started, final=True))
