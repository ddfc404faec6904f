"""Parallel runs: the same verdicts as a sequential run, checks that must run alone run alone, prerequisites
first, and results in selection order whatever order the checks finish in."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from aup.embedded import embedded_server
from aup_server.config import ServerConfig
from conformance import Target, run
from conformance.context import CheckContext
from conformance.model import Check, Level, Status
from conformance.runner import DEFAULT_JOBS, LONG, Run, _start_order
from conformance.suites import default_registry
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.target import Bearer
from tests.conformance.breakers_idp import BREAKERS as IDP_BREAKERS
from tests.conformance.breakers_idp import NEEDS_THROTTLING
from tests.conformance.faulty import Faulty, State
from tests.integration.conftest import start_server, stop_server, wait_for

BASE = IN_PROCESS_SCIM_URL
_NAMES = re.compile(r"aupc[0-9a-f]{6}-[a-z]*\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _verdicts(outcome: Run) -> dict[str, tuple[str, str]]:
    """Each check's status and reason, with the run's generated names and ids folded (they differ per run)."""
    return {r.check.id: (r.status.value, _NAMES.sub("<name>", r.reason)) for r in outcome.results}


@pytest.mark.network
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_parallel_run_judges_a_real_server_exactly_like_a_sequential_one(tmp_path: Path) -> None:
    proc = start_server(tmp_path / "aup.db")
    try:
        base = wait_for(proc, r"SCIM base URL \(default\): (\S+)").group(1)
        token = wait_for(proc, r"New bearer token for default .*: (\S+)").group(1)
        wait_for(proc, r"aup serving on")
        checks = default_registry().checks()
        target = Target(base, Bearer(token), timeout=60.0)
        sequential = run(checks, target, jobs=1)
        parallel = run(checks, target, jobs=DEFAULT_JOBS)
    finally:
        assert stop_server(proc) == 0
    assert [r.check.id for r in parallel.results] == [item.id for item in checks]
    assert _verdicts(parallel) == _verdicts(sequential)
    assert parallel.verdict() is sequential.verdict()
    assert not parallel.notes, parallel.notes  # every check cleaned up after itself, nothing was swept


@pytest.mark.parametrize(
    ("broken", "also_failing"),
    [
        ("entra-create-group", "sync-entra-"),  # blocks Entra's flows and syncs
        # every user's active as a string: the exclusive Okta checks that parse the server's first users see
        # none of the other checks' users, as in a sequential run
        ("okta-user-active-boolean", "sync-okta-"),
    ],
)
def test_a_parallel_run_against_a_broken_server_fails_the_same_checks_for_the_same_reasons(
    broken: str, also_failing: str, reference: tuple[object, str]
) -> None:
    app, token = reference
    checks = default_registry().checks()
    outcomes = []
    for jobs in (1, DEFAULT_JOBS):
        state = State(token=token, memory={"app": app})
        faulty = Faulty(app, IDP_BREAKERS[broken], state)  # type: ignore[arg-type]
        outcomes.append(run(checks, Target(BASE, Bearer(token), app=faulty), jobs=jobs))
    sequential, parallel = outcomes
    assert _verdicts(parallel) == _verdicts(sequential)
    failed = {r.check.id for r in sequential.results if r.status in (Status.FAIL, Status.BLOCKED)}
    assert broken in failed and any(r.startswith(also_failing) for r in failed)


def _one_read_later(index: int) -> Check:
    """A check that reads /Users once, a little after the run started: while a throttling burst would be going on."""

    def fn(ctx: CheckContext) -> None:
        time.sleep(0.2)
        response = ctx.scim.get("/Users", [("count", 1)])
        ctx.expect(response.status_code == 200, "throttled", expected="200", actual=str(response.status_code))

    return Check(id=f"read-{index}", title="read", level=Level.MUST, suite="custom", ref="test", fn=fn)


@pytest.mark.parametrize("exclusive", [True, False])
def test_the_throttling_checks_run_alone_so_no_other_check_is_429ed(exclusive: bool) -> None:
    """They spend the token's whole rate-limit budget and then wait for it to refill: beside them, an ordinary check
    of the same run is throttled (shown by running them as if they were not exclusive)."""
    throttling = [
        replace(item, exclusive=exclusive) for item in default_registry().checks() if item.id in NEEDS_THROTTLING
    ]
    assert all(item.exclusive for item in default_registry().checks() if item.id in NEEDS_THROTTLING)
    checks = [_one_read_later(index) for index in range(4)] + throttling
    with embedded_server(ServerConfig(rate_limit_per_minute=600, rate_limit_burst=10)) as server:
        outcome = run(checks, Target(server.base_url, Bearer(server.token), app=server.app), jobs=DEFAULT_JOBS)
    statuses = {r.check.id: r.status for r in outcome.results}
    assert all(statuses[item.id] is Status.PASS for item in throttling), statuses
    reads = [statuses[f"read-{index}"] for index in range(4)]
    assert reads == [Status.PASS] * 4 if exclusive else Status.FAIL in reads, statuses


# -- the scheduler, against a stand-in server -------------------------------------------------------------------


class Server:
    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/ServiceProviderConfig"):
            return httpx.Response(200, json={"schemas": [urns.SERVICE_PROVIDER_CONFIG]})
        return httpx.Response(200, json={"schemas": [urns.LIST_RESPONSE], "totalResults": 0, "Resources": []})


class Flight:
    """Counts the checks in flight and records the most seen at once while an exclusive check ran."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.beside_exclusive = 0
        self.exclusive_running = False
        self.started: list[str] = []

    def check(self, name: str, *, exclusive: bool = False, pause: float = 0.02) -> Check:
        def fn(ctx: CheckContext) -> None:
            with self.lock:
                self.now += 1
                self.peak = max(self.peak, self.now)
                self.started.append(name)
                if exclusive:
                    self.exclusive_running = True
                    self.beside_exclusive = max(self.beside_exclusive, self.now - 1)
                elif self.exclusive_running:
                    self.beside_exclusive += 1
            ctx.scim.get("/Users")
            time.sleep(pause)
            with self.lock:
                self.now -= 1
                if exclusive:
                    self.exclusive_running = False

        return Check(id=name, title=name, level=Level.MUST, suite="custom", ref="test", fn=fn, exclusive=exclusive)


def _target() -> Target:
    return Target(BASE, Bearer("t"), app=httpx.MockTransport(Server()))


def test_checks_run_concurrently_and_results_keep_selection_order() -> None:
    flight = Flight()
    checks = [flight.check(f"c{index}", pause=0.05 - index * 0.002) for index in range(20)]
    outcome = run(checks, _target(), jobs=8)
    assert [r.check.id for r in outcome.results] == [item.id for item in checks]
    assert all(r.status is Status.PASS for r in outcome.results)
    assert 1 < flight.peak <= 8


def test_an_exclusive_check_runs_with_nothing_else_in_flight() -> None:
    flight = Flight()
    checks = [flight.check(f"a{index}") for index in range(6)]
    checks.insert(3, flight.check("alone", exclusive=True, pause=0.1))
    outcome = run(checks, _target(), jobs=4)
    assert all(r.status is Status.PASS for r in outcome.results)
    assert flight.beside_exclusive == 0
    assert flight.peak > 1


def test_a_check_waits_for_its_prerequisites_and_is_blocked_when_one_breaks() -> None:
    order: list[str] = []

    def slow_fail(ctx: CheckContext) -> None:
        time.sleep(0.1)
        order.append("root")
        ctx.fail("the root broke")

    def dependant(ctx: CheckContext) -> None:
        order.append("dependant")

    root = Check(id="root", title="root", level=Level.SHOULD, suite="custom", ref="test", fn=slow_fail, hint="fix it")
    child = Check(
        id="child", title="child", level=Level.MUST, suite="custom", ref="test", fn=dependant, needs=("root",)
    )
    grandchild = Check(
        id="grandchild", title="g", level=Level.MUST, suite="custom", ref="test", fn=dependant, needs=("child",)
    )
    outcome = run([grandchild, child, root], _target(), jobs=4)
    assert order == ["root"]  # neither dependant was sent
    statuses = {r.check.id: r.status for r in outcome.results}
    assert statuses == {"root": Status.WARN, "child": Status.BLOCKED, "grandchild": Status.BLOCKED}
    blocked = {r.check.id: r for r in outcome.results}
    assert blocked["child"].blocked_by == ("root",) and blocked["grandchild"].blocked_by == ("child",)
    [cause] = outcome.causes()
    assert cause.root.check.id == "root" and [r.check.id for r in cause.explains] == ["grandchild", "child"]
    assert cause.level is Level.MUST and cause.hint == "fix it"  # a SHOULD that blocks a MUST is graded MUST
    assert outcome.exit_code() == 1  # the MUST checks it blocked do not hold


def test_prerequisites_that_pass_let_the_dependant_run() -> None:
    flight = Flight()
    root = flight.check("root")
    child = Check(id="child", title="c", level=Level.MUST, suite="custom", ref="test", fn=root.fn, needs=("root",))
    outcome = run([child, root], _target(), jobs=4)
    assert [r.status for r in outcome.results] == [Status.PASS, Status.PASS]
    assert flight.started == ["root", "root"]  # the child (same function) started only after its prerequisite


def test_exclusive_checks_then_long_checks_and_their_prerequisites_start_first() -> None:
    def check(name: str, *, long: bool = False, needs: tuple[str, ...] = (), exclusive: bool = False) -> Check:
        tags = frozenset({LONG}) if long else frozenset()
        return Check(
            id=name,
            title=name,
            level=Level.MUST,
            suite="c",
            ref="t",
            fn=print,
            tags=tags,
            needs=needs,
            exclusive=exclusive,
        )

    checks = [check("a"), check("b"), check("base"), check("sync", long=True, needs=("base",)), check("z")]
    checks.append(check("burst", long=True, exclusive=True))
    assert [item.id for item in _start_order(checks)] == ["burst", "base", "sync", "a", "b", "z"]


def test_every_prerequisite_the_built_in_suites_name_exists_and_runs_earlier() -> None:
    checks = default_registry().checks()
    position = {item.id: index for index, item in enumerate(checks)}
    for item in checks:
        for need in item.needs:
            assert need in position, f"{item.id} needs {need}, which is no check"
            assert position[need] < position[item.id], f"{item.id} runs before its prerequisite {need}"


def test_jobs_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="jobs must be at least 1"):
        run([], _target(), jobs=0)
