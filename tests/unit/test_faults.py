"""FaultTransport: each kind of fault, the plans that choose them, and the counts, against a recording transport."""

from __future__ import annotations

import httpx
import pytest

from emulators.core.clock import FakeClock
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.faults import EveryNth, Fault, FaultKind, FaultTransport, Match, Rule, Script, Seeded

BASE_URL = IN_PROCESS_SCIM_URL


class Recorder(httpx.MockTransport):
    """An inner transport that answers 200 and remembers what reached it (what the server applied)."""

    def __init__(self) -> None:
        self.applied: list[tuple[str, str]] = []
        super().__init__(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.applied.append((request.method, request.url.path))
        return httpx.Response(200, json={"ok": True})


def client(plan: object, clock: FakeClock | None = None, timeout: float = 60.0) -> tuple[httpx.Client, FaultTransport]:
    transport = FaultTransport(Recorder(), plan, clock=clock)  # type: ignore[arg-type]
    return httpx.Client(transport=transport, base_url=BASE_URL, timeout=timeout), transport


def applied(transport: FaultTransport) -> list[tuple[str, str]]:
    assert isinstance(transport.inner, Recorder)
    return transport.inner.applied


def test_without_a_plan_every_request_is_forwarded_and_counted() -> None:
    http, transport = client(None)
    assert http.get("/Users").status_code == 200
    assert transport.sent == transport.forwarded == 1 and sum(transport.injected.values()) == 0


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_is_a_scim_error_and_never_reaches_the_server(status: int) -> None:
    http, transport = client(Script([Rule(Fault.server_error(status))]))
    response = http.post("/Users", json={})
    assert response.status_code == status
    assert response.json()["schemas"] == [urns.ERROR] and response.json()["status"] == str(status)
    assert response.headers["content-type"] == urns.MEDIA_TYPE
    assert applied(transport) == [] and transport.injected == {FaultKind.SERVER_ERROR: 1}


@pytest.mark.parametrize(("retry_after", "header"), [(7, "7"), (0, "0"), (None, None)])
def test_429_carries_an_integer_retry_after_or_none(retry_after: int | None, header: str | None) -> None:
    http, transport = client(Script([Rule(Fault.rate_limited(retry_after))]))
    response = http.get("/Users")
    assert response.status_code == 429 and response.headers.get("Retry-After") == header
    assert applied(transport) == [] and transport.injected == {FaultKind.RATE_LIMITED: 1}


def test_a_timeout_raises_before_the_server_sees_the_request() -> None:
    http, transport = client(Script([Rule(Fault.timeout())]))
    with pytest.raises(httpx.ReadTimeout):
        http.post("/Users", json={})
    assert applied(transport) == [] and transport.forwarded == 0


def test_a_lost_reply_raises_after_the_server_applied_the_request() -> None:
    http, transport = client(Script([Rule(Fault.reply_lost())]))
    with pytest.raises(httpx.ReadTimeout, match="applied"):
        http.post("/Users", json={})
    assert applied(transport) == [("POST", "/scim/v2/Users")]
    assert transport.events == [("POST", "/scim/v2/Users", FaultKind.REPLY_LOST)]


def test_a_dropped_connection_is_a_protocol_error_without_forwarding() -> None:
    http, transport = client(Script([Rule(Fault.dropped())]))
    with pytest.raises(httpx.RemoteProtocolError):
        http.delete("/Users/1")
    assert applied(transport) == []


def test_a_slow_answer_advances_the_clock_instead_of_sleeping() -> None:
    clock = FakeClock()
    start = clock.now()
    http, transport = client(Script([Rule(Fault.slow(12.5))]), clock)
    assert http.get("/Users").status_code == 200
    assert clock.now() - start == 12.5 and clock.sleeps == [] and transport.forwarded == 1


def test_slower_than_the_read_timeout_is_a_lost_reply_at_the_timeout() -> None:
    clock = FakeClock()
    start = clock.now()
    http, transport = client(Script([Rule(Fault.slow(90))]), clock, timeout=60.0)
    with pytest.raises(httpx.ReadTimeout):
        http.patch("/Users/1", json={})
    assert clock.now() - start == 60.0 and applied(transport) == [("PATCH", "/scim/v2/Users/1")]


def test_a_slow_fault_without_a_clock_says_how_to_fix_it() -> None:
    http, _ = client(Script([Rule(Fault.slow(1))]))
    with pytest.raises(ValueError, match="needs a clock"):
        http.get("/Users")


def test_a_script_matches_method_and_path_and_uses_each_rule_up() -> None:
    plan = Script(
        [
            Rule(Fault.server_error(), Match("POST", r"/Users$"), times=2),
            Rule(Fault.dropped(), Match(path=r"filter="), times=None),
        ]
    )
    http, transport = client(plan)
    statuses = [http.post("/Users", json={}).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert http.post("/Groups", json={}).status_code == 200
    for _ in range(2):
        with pytest.raises(httpx.RemoteProtocolError):
            http.get("/Users", params={"filter": 'userName eq "x"'})
    assert transport.sent == 6 and transport.forwarded == 2
    assert transport.injected == {FaultKind.SERVER_ERROR: 2, FaultKind.DROPPED: 2}


def test_every_nth_counts_only_matching_requests() -> None:
    http, transport = client(EveryNth(Fault.server_error(500), 3, Match("GET")))
    statuses = []
    for _ in range(6):
        statuses.append(http.get("/Users").status_code)
        http.post("/Users", json={})
    assert statuses == [200, 200, 500, 200, 200, 500] and transport.injected[FaultKind.SERVER_ERROR] == 2


def run_seeded(seed: int, rate: float) -> list[tuple[str, str, FaultKind]]:
    faults = [Fault.server_error(), Fault.rate_limited(1), Fault.rate_limited()]
    http, transport = client(Seeded(faults, rate, seed))
    for number in range(100):
        http.get(f"/Users/{number}")
    return transport.events


def test_a_seeded_plan_is_reproducible_and_near_its_rate() -> None:
    first = run_seeded(7, 0.2)
    assert first == run_seeded(7, 0.2) and first != run_seeded(8, 0.2)
    assert 10 <= len(first) <= 30
    assert run_seeded(7, 0.0) == [] and len(run_seeded(7, 1.0)) == 100


def test_setting_the_plan_to_none_stops_the_faults() -> None:
    http, transport = client(Script([Rule(Fault.server_error(), times=None)]))
    assert http.get("/Users").status_code == 503
    transport.plan = None
    assert http.get("/Users").status_code == 200 and transport.injected[FaultKind.SERVER_ERROR] == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda: Fault.server_error(404),
        lambda: Fault.rate_limited(-1),
        lambda: Fault.slow(-1),
        lambda: EveryNth(Fault.timeout(), 0),
        lambda: Seeded([], 0.5, 1),
        lambda: Seeded([Fault.timeout()], 1.5, 1),
    ],
)
def test_nonsense_faults_and_plans_are_refused(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]
