"""Per-token request budgets answered with 429 and an integer Retry-After (docs/domain.md §3 item 13).

A token bucket per (tenant, token name): ``rate`` requests per minute refill continuously up to ``burst``,
and a new bucket starts full. So at most ``burst`` requests pass at once, and any window of ``t`` seconds
passes at most ``burst + rate * t / 60``. The burst defaults to the per-minute rate, at most
``DEFAULT_MAX_BURST``: it never exceeds the rate unless configured (``--rate-burst``), so ``--rate-limit 5``
passes at most 5 at once and 10 in the first minute. Off unless configured. State is per process, like
Slack's per-app limits seen by one front end.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from aup_server.errors import TooManyRequestsError


@dataclass
class _Bucket:
    tokens: float
    stamp: float


DEFAULT_MAX_BURST = 20


def default_burst(per_minute: int) -> int:
    """The burst when none is configured: the per-minute rate, capped at ``DEFAULT_MAX_BURST``."""
    return max(1, min(per_minute, DEFAULT_MAX_BURST))


class RateLimiter:
    """Thread-safe token buckets; ``clock`` is injectable so tests never sleep."""

    def __init__(self, per_minute: int, burst: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if burst is None:
            burst = default_burst(per_minute)
        if per_minute < 1 or burst < 1:
            raise ValueError("rate limits must be positive")
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def check(self, tenant: str, token: str) -> None:
        """Spend one request from the bucket, or raise 429 saying when the next one is allowed."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.setdefault((tenant, token), _Bucket(self.burst, now))
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return
            wait = max(1, math.ceil((1.0 - bucket.tokens) / self.rate - 1e-9))
        raise TooManyRequestsError(
            f"rate limit of {round(self.rate * 60)} requests per minute for this token exceeded; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
