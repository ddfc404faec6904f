from __future__ import annotations

import pytest
from click.testing import CliRunner

from aup.cli import main as cli_main
from aup_server.config import ServerConfig
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


def _passed_in(limiter: RateLimiter, clock: FakeClock, seconds: float, step: float = 0.5) -> int:
    """How many requests pass when one is tried every ``step`` seconds for ``seconds``."""
    passed = 0
    end = clock.now + seconds
    while clock.now < end:
        try:
            limiter.check("t", "okta")
            passed += 1
        except TooManyRequestsError:
            pass
        clock.now += step
    return passed


def test_default_burst_never_exceeds_the_per_minute_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=5, clock=clock)  # --rate-limit 5 once let 24 through in the first minute
    assert limiter.burst == 5
    for _ in range(5):
        limiter.check("t", "okta")
    with pytest.raises(TooManyRequestsError) as info:
        limiter.check("t", "okta")
    assert info.value.headers["Retry-After"] == "12"  # one request per 12 s refills
    fresh = RateLimiter(per_minute=5, clock=(other := FakeClock()))
    assert _passed_in(fresh, other, 60.0) <= 5 + 5  # burst + 60 s of refill, never 20 + 4
    assert RateLimiter(per_minute=600).burst == 20  # the default stays capped at 20 for high rates


def test_burst_is_configurable_and_a_long_window_sees_burst_plus_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, burst=10, clock=clock)
    assert _passed_in(limiter, clock, 0.5, step=0.5) == 1
    assert _passed_in(limiter, clock, 1.0, step=1 / 64) == 9 + 1  # the rest of the burst, and one refilled
    assert _passed_in(limiter, clock, 60.0, step=0.25) in (60, 61)  # then the rate: 60 a minute
    assert RateLimiter(per_minute=1, burst=50).burst == 50  # configured, the burst may exceed the rate


def test_retry_after_is_the_whole_seconds_until_the_next_token() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=30, burst=1, clock=clock)  # one token every 2 s
    limiter.check("t", "okta")
    clock.now += 0.5
    with pytest.raises(TooManyRequestsError) as info:
        limiter.check("t", "okta")
    assert info.value.headers["Retry-After"] == "2"  # 1.5 s rounded up: never early
    clock.now += 1.5
    limiter.check("t", "okta")


def test_config_burst_needs_a_rate_and_must_be_positive() -> None:
    assert ServerConfig(rate_limit_per_minute=5).rate_limit_burst is None
    ServerConfig(rate_limit_per_minute=5, rate_limit_burst=50).validate()
    with pytest.raises(ValueError, match="needs rate_limit_per_minute"):
        ServerConfig(rate_limit_burst=5).validate()
    with pytest.raises(ValueError, match="positive"):
        ServerConfig.from_mapping({"rate_limit_per_minute": 5, "rate_limit_burst": 0})


def test_serve_refuses_a_burst_without_a_rate() -> None:
    result = CliRunner().invoke(cli_main, ["serve", "--db", ":memory:", "--rate-burst", "5"])
    assert result.exit_code == 2
    assert "rate_limit_burst needs rate_limit_per_minute" in result.output
