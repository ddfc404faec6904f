"""Clocks for cycle-based IdPs: time between cycles can pass virtually while request waits stay real.

A cycle engine needs ``now``, ``sleep`` (waits inside a cycle, such as a 429 back-off) and
``advance`` (the idle time until the next cycle). ``FakeClock`` already has all three for tests;
``SkippingClock`` is for runs against real servers: it really sleeps inside cycles but skips the
idle time between them, so "every 40 minutes" does not make a command wait 40 minutes.
"""

from __future__ import annotations

import time
from typing import Protocol

from emulators.core.clock import Clock


class CycleClock(Clock, Protocol):
    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of idle time pass without waiting for them."""
        ...


class SkippingClock:
    """Real time plus the idle time skipped so far."""

    def __init__(self, skipped: float = 0.0) -> None:
        self.skipped = skipped  # a job resumed from an earlier run keeps the idle time it skipped

    def now(self) -> float:
        return time.time() + self.skipped

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def advance(self, seconds: float) -> None:
        self.skipped += max(0.0, seconds)
