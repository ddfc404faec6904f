"""Waiting out HTTP 429: a policy object (data) and one loop that applies it through a Clock."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from emulators.core.clock import Clock

_INTEGER = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class RateLimitPolicy:
    """How long to wait after a 429, how the wait grows, and when to give up.

    ``max_attempts`` counts requests, the first one included.
    """

    default_wait: float
    factor: float
    max_attempts: int
    honour_retry_after: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.default_wait < 0 or self.factor < 1:
            raise ValueError("a rate-limit policy needs max_attempts >= 1, default_wait >= 0 and factor >= 1")

    def first_wait(self, retry_after: str | None) -> float:
        """``Retry-After`` when it is an integer number of seconds, else the default wait."""
        if self.honour_retry_after and retry_after is not None and _INTEGER.fullmatch(retry_after.strip()):
            return float(retry_after.strip())
        return self.default_wait

    def next_wait(self, previous: float) -> float:
        return previous * self.factor


class RateLimitExhaustedError(Exception):
    """Every attempt allowed by the policy was answered 429."""

    def __init__(self, response: httpx.Response, attempts: int, waits: list[float]) -> None:
        super().__init__(f"still rate limited (HTTP 429) after {attempts} attempts; waited {sum(waits):g} s in total")
        self.response = response
        self.attempts = attempts
        self.waits = waits


def send_with_rate_limit(
    send: Callable[[], httpx.Response],
    policy: RateLimitPolicy,
    clock: Clock,
    on_wait: Callable[[float, int], None] | None = None,
) -> httpx.Response:
    """Send, and while the answer is 429 wait as the policy says and send again.

    ``on_wait(seconds, attempt)`` is called before each wait (a task can show that it is waiting).
    """
    waits: list[float] = []
    wait = 0.0
    for attempt in range(1, policy.max_attempts + 1):
        response = send()
        if response.status_code != 429:
            return response
        if attempt == policy.max_attempts:
            raise RateLimitExhaustedError(response, attempt, waits)
        wait = policy.first_wait(response.headers.get("Retry-After")) if attempt == 1 else policy.next_wait(wait)
        if on_wait is not None:
            on_wait(wait, attempt)
        waits.append(wait)
        clock.sleep(wait)
    raise AssertionError("unreachable: max_attempts must be at least 1")
