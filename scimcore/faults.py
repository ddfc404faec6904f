"""Faults on the wire, on purpose: an httpx transport that breaks chosen requests the way servers and networks do.

``FaultTransport`` wraps any transport (``WSGITransport`` around an in-process server, a real one)
and asks a plan, request by request, whether to answer 5xx or 429, time out, drop the connection,
lose the reply of a request the server applied, or be slow. Plans are deterministic (scripted,
every Nth, or seeded random), time is an injected clock, and every request and fault is counted.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import httpx

from scimcore import urns


class FaultKind(StrEnum):
    SERVER_ERROR = "server_error"  # a 5xx answer; the server never sees the request
    RATE_LIMITED = "rate_limited"  # a 429, with or without an integer Retry-After
    TIMEOUT = "timeout"  # ReadTimeout before the server sees the request
    REPLY_LOST = "reply_lost"  # the server applies the request, then ReadTimeout: the reply is lost
    DROPPED = "dropped"  # RemoteProtocolError: the connection closed without an answer
    SLOW = "slow"  # forwarded after the clock advances; past the read timeout it becomes a lost reply


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int = 503
    retry_after: int | None = None
    delay: float = 0.0

    @classmethod
    def server_error(cls, status: int = 503) -> Fault:
        if not 500 <= status <= 599:
            raise ValueError(f"a server error needs a 5xx status, not {status}")
        return cls(FaultKind.SERVER_ERROR, status=status)

    @classmethod
    def rate_limited(cls, retry_after: int | None = None) -> Fault:
        """429; ``retry_after`` None sends no ``Retry-After`` header."""
        if retry_after is not None and retry_after < 0:
            raise ValueError("Retry-After must be a non-negative number of seconds")
        return cls(FaultKind.RATE_LIMITED, status=429, retry_after=retry_after)

    @classmethod
    def timeout(cls) -> Fault:
        return cls(FaultKind.TIMEOUT)

    @classmethod
    def reply_lost(cls) -> Fault:
        return cls(FaultKind.REPLY_LOST)

    @classmethod
    def dropped(cls) -> Fault:
        return cls(FaultKind.DROPPED)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        if seconds < 0:
            raise ValueError("a slow response needs a non-negative delay")
        return cls(FaultKind.SLOW, delay=seconds)


class Plan(Protocol):
    def fault_for(self, request: httpx.Request) -> Fault | None:
        """The fault to inject for this request, or None to forward it untouched."""
        ...


class AdvancingClock(Protocol):
    def advance(self, seconds: float) -> None: ...


@dataclass(frozen=True)
class Match:
    """Requests by method (``*`` for any) and a regular expression searched in the path and query as sent."""

    method: str = "*"
    path: str = ""

    def __call__(self, request: httpx.Request) -> bool:
        if self.method != "*" and request.method != self.method.upper():
            return False
        return re.search(self.path, request.url.raw_path.decode("ascii")) is not None


ANY = Match()


@dataclass
class Rule:
    """``fault`` for the next ``times`` requests that ``match`` (None: every one)."""

    fault: Fault
    match: Match = ANY
    times: int | None = 1


class Script:
    """Rules in order: each request gets the fault of the first matching rule that is not used up."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = list(rules)

    def fault_for(self, request: httpx.Request) -> Fault | None:
        for rule in self.rules:
            if (rule.times is None or rule.times > 0) and rule.match(request):
                if rule.times is not None:
                    rule.times -= 1
                return rule.fault
        return None


class EveryNth:
    """``fault`` on the Nth, 2Nth, ... request that matches."""

    def __init__(self, fault: Fault, n: int, match: Match = ANY) -> None:
        if n < 1:
            raise ValueError("n must be at least 1")
        self.fault, self.n, self.match = fault, n, match
        self._seen = 0

    def fault_for(self, request: httpx.Request) -> Fault | None:
        if not self.match(request):
            return None
        self._seen += 1
        return self.fault if self._seen % self.n == 0 else None


class Seeded:
    """Each matching request fails with probability ``rate``, with a fault drawn from ``faults``; reproducible."""

    def __init__(self, faults: Sequence[Fault], rate: float, seed: int, match: Match = ANY) -> None:
        if not faults or not 0.0 <= rate <= 1.0:
            raise ValueError("a seeded plan needs at least one fault and a rate between 0 and 1")
        self.faults, self.rate, self.match = list(faults), rate, match
        self._rng = random.Random(seed)  # noqa: S311 - reproducible test plans, not secrets

    def fault_for(self, request: httpx.Request) -> Fault | None:
        if not self.match(request) or self._rng.random() >= self.rate:
            return None
        return self._rng.choice(self.faults)


class FaultTransport(httpx.BaseTransport):
    """Forwards to ``inner`` unless ``plan`` injects a fault; set ``plan`` to None to stop the faults.

    ``sent`` counts every request the client sent, ``forwarded`` those that reached ``inner``,
    ``injected`` the faults by kind, and ``events`` lists (method, path, kind) in order.
    """

    def __init__(self, inner: httpx.BaseTransport, plan: Plan | None = None, *, clock: AdvancingClock | None = None):
        self.inner = inner
        self.plan = plan
        self.clock = clock
        self.sent = 0
        self.forwarded = 0
        self.injected: Counter[FaultKind] = Counter()
        self.events: list[tuple[str, str, FaultKind]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        fault = self.plan.fault_for(request) if self.plan is not None else None
        if fault is None:
            return self._forward(request)
        self.injected[fault.kind] += 1
        self.events.append((request.method, request.url.raw_path.decode("ascii"), fault.kind))
        if fault.kind in (FaultKind.SERVER_ERROR, FaultKind.RATE_LIMITED):
            return _error_response(fault)
        if fault.kind is FaultKind.TIMEOUT:
            raise httpx.ReadTimeout("injected fault: no answer before the read timeout", request=request)
        if fault.kind is FaultKind.DROPPED:
            raise httpx.RemoteProtocolError("injected fault: server disconnected without an answer", request=request)
        if fault.kind is FaultKind.REPLY_LOST:
            self._lose_reply(request)
        return self._slow(request, fault.delay)

    def _forward(self, request: httpx.Request) -> httpx.Response:
        self.forwarded += 1
        return self.inner.handle_request(request)

    def _lose_reply(self, request: httpx.Request) -> None:
        response = self._forward(request)
        response.read()
        response.close()
        raise httpx.ReadTimeout("injected fault: the server applied the request, its reply was lost", request=request)

    def _slow(self, request: httpx.Request, delay: float) -> httpx.Response:
        """Advance the clock instead of sleeping; a delay past the client's read timeout loses the reply."""
        if self.clock is None:
            raise ValueError("a slow fault needs a clock: FaultTransport(inner, plan, clock=FakeClock())")
        limit = request.extensions.get("timeout", {}).get("read")
        if limit is not None and delay > limit:
            self.clock.advance(limit)
            self._lose_reply(request)
        self.clock.advance(delay)
        return self._forward(request)

    def close(self) -> None:
        self.inner.close()


def _error_response(fault: Fault) -> httpx.Response:
    """A SCIM Error (RFC 7644 §3.12) with the fault's status, and ``Retry-After`` when it has one."""
    headers = {"Content-Type": urns.MEDIA_TYPE}
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    body = {"schemas": [urns.ERROR], "status": str(fault.status), "detail": f"injected fault: {fault.kind}"}
    return httpx.Response(fault.status, headers=headers, json=body)
