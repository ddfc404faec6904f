from __future__ import annotations

import pytest

from aup_server.errors import TooManyRequestsError
from aup_server.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_429_with_integer_retry_after_then_refill() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    for _ in range(3):
        limiter.check("t", "okta")
    with pytest.raises(TooManyRequestsError) as info:
        limiter.check("t", "okta")
    assert info.value.status == 429
    assert info.value.headers["Retry-After"] == "1"
    clock.now += 1.0  # one request per second refills
    limiter.check("t", "okta")
    with pytest.raises(TooManyRequestsError):
        limiter.check("t", "okta")


def test_buckets_are_per_tenant_and_token() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=1, burst=1, clock=clock)
    limiter.check("t", "okta")
    limiter.check("t", "entra")
    limiter.check("u", "okta")
    with pytest.raises(TooManyRequestsError) as info:
        limiter.check("t", "okta")
    assert info.value.headers["Retry-After"] == "60"


def test_invalid_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(per_minute=0, burst=1)
