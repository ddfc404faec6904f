"""The drivers on Locust: each Locust user is one tenant's IdP; Locust runs them locally, or as a master that
hands tenants to workers on other processes or machines (Locust's own master/worker mode).

Imported only by ``aup load`` after gevent has patched the process (aup/__main__.py), as Locust requires.

The master owns the plan. A worker's user asks it for a tenant (``aup_claim``) and gets the tenant's index
and the whole plan back (``aup_tenant``), so ``aup load --worker`` needs nothing but where the master is; the
tenants' tokens travel on Locust's master/worker connection, which therefore belongs on a trusted network.
When a user stops it sends the pending changes, judges its tenant's server state and sends the verdict to
the master (``aup_verdict``), before the worker reports itself stopped.
"""

from __future__ import annotations

import itertools
import logging
import random
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
from gevent.event import AsyncResult, Event
from locust import User, constant, task
from locust.env import Environment
from locust.exception import StopUser
from locust.html import get_html_report
from locust.rpc import Message
from locust.runners import LocalRunner, MasterRunner, WorkerRunner
from locust.stats import PERCENTILES_TO_REPORT, StatsCSVFileWriter, stats_history, stats_printer
from locust.user.task import LOCUST_STATE_STOPPING

from aup.load.driver import TenantDriver
from aup.load.gevent_transport import GeventTransport
from aup.load.plan import LoadPlan

CLAIM_TIMEOUT_S = 30.0


class RateLimited(Exception):
    """A 429 the IdP waited out (Okta's and Entra's back-off); counted apart from real failures."""


class Refused(Exception):
    """Any other error status."""


@dataclass
class RunState:
    """What this process knows of the run: the plan (on the master, or once a worker got it), tenants handed
    out, and the verdicts received."""

    plan: LoadPlan | None
    think: tuple[float, float] = (0.5, 2.0)
    claimed: list[int] = field(default_factory=list)
    verdicts: dict[int, dict[str, Any]] = field(default_factory=dict)
    pending: dict[str, AsyncResult] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=itertools.count)
    unplaced: int = 0  # users that found no tenant left

    def claim(self) -> int | None:
        assert self.plan is not None
        index = len(self.claimed)
        if index >= len(self.plan.tenants):
            self.unplaced += 1
            return None
        self.claimed.append(index)
        return index


def _state(environment: Environment) -> RunState:
    state: RunState = environment.aup_state  # type: ignore[attr-defined]
    return state


def _gevent_transport(verify: bool, timeout: float) -> GeventTransport:
    return GeventTransport(verify=verify, timeout=timeout)


class TenantUser(User):
    """One tenant's IdP: the initial provisioning burst, then scenario steps between think times."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.driver: TenantDriver | None = None
        self.judged = False
        index, plan = self._claim()
        if index is None or plan is None:
            raise StopUser()
        self.driver = TenantDriver(plan, index, report=self._fire, transport=_gevent_transport)
        try:
            self.driver.provision()
        except Exception as exc:  # judged now: the tenant could not be provisioned
            self._deliver(
                {
                    "index": index,
                    "tenant": plan.tenants[index].label,
                    "error": f"provisioning: {type(exc).__name__}: {exc}",
                }
            )
            raise StopUser() from None

    def _claim(self) -> tuple[int | None, LoadPlan | None]:
        state = _state(self.environment)
        runner = self.environment.runner
        if isinstance(runner, WorkerRunner):
            request = f"{runner.client_id}-{next(state.counter)}"
            answer = state.pending[request] = AsyncResult()
            runner.send_message("aup_claim", {"request": request})
            try:
                data = answer.get(timeout=CLAIM_TIMEOUT_S)
            finally:
                state.pending.pop(request, None)
            if state.plan is None:
                state.plan = LoadPlan.from_data(data["plan"])
                low, high = data["think"]
                state.think = (float(low), float(high))
            return data["index"], state.plan
        return state.claim(), state.plan

    def _fire(self, kind: str, method: str, status: int, ms: float, size: int, error: Exception | None) -> None:
        failure: Exception | None = error
        if error is None and status == 429:
            failure = RateLimited("429 Too Many Requests, waited out")
        elif error is None and status >= 400:
            failure = Refused(f"HTTP {status}")
        self.environment.events.request.fire(
            request_type=method,
            name=kind,
            response_time=ms,
            response_length=size,
            exception=failure,
            context={},
            response=None,
        )

    @task
    def steps(self) -> None:
        """Steps and think times in one task that returns only when the user is asked to stop.

        Locust kills a user it finds waiting between tasks, and a kill that lands as the user wakes would cut a
        step in the middle of a request (the IdP's view and the server's would then differ through no fault
        of the server's). Inside a task the user is never "waiting": a stop is seen between steps.
        """
        low, high = _state(self.environment).think
        while self.driver is not None and self._state != LOCUST_STATE_STOPPING:
            self.driver.step()
            pause = time.monotonic() + random.uniform(low, high)  # noqa: S311 - a think time
            while self._state != LOCUST_STATE_STOPPING and time.monotonic() < pause:
                gevent.sleep(min(0.1, max(0.0, pause - time.monotonic())))

    def on_stop(self) -> None:
        driver = getattr(self, "driver", None)
        if driver is None or self.judged:
            return
        try:
            self._deliver(driver.finish())
        finally:
            driver.close()

    def _deliver(self, verdict: dict[str, Any]) -> None:
        self.judged = True
        runner = self.environment.runner
        if isinstance(runner, WorkerRunner):
            runner.send_message("aup_verdict", verdict)
        else:
            _state(self.environment).verdicts[verdict["index"]] = verdict


def _register(environment: Environment) -> None:
    """The claim and verdict messages between the master and its workers."""
    runner = environment.runner
    state = _state(environment)
    if isinstance(runner, MasterRunner):

        def on_claim(environment: Environment, msg: Any, **_: Any) -> None:
            assert state.plan is not None
            data = {"request": msg.data["request"], "index": state.claim(), "plan": state.plan.to_data()}
            data["think"] = list(state.think)
            runner.send_message("aup_tenant", data, client_id=msg.node_id)

        def on_verdict(environment: Environment, msg: Any, **_: Any) -> None:
            state.verdicts[int(msg.data["index"])] = msg.data

        runner.register_message("aup_claim", on_claim)
        runner.register_message("aup_verdict", on_verdict)
    elif isinstance(runner, WorkerRunner):

        def on_tenant(environment: Environment, msg: Any, **_: Any) -> None:
            answer = state.pending.get(msg.data["request"])
            if answer is not None:
                answer.set(msg.data)

        runner.register_message("aup_tenant", on_tenant)


@dataclass(frozen=True)
class RunOptions:
    role: str  # "local", "master" or "worker"
    users: int = 1
    spawn_rate: float = 1.0
    run_time: float | None = None  # seconds; None: until Ctrl-C (the web UI's runs)
    stop_timeout: float = 120.0
    headless: bool = True
    web_host: str = "127.0.0.1"
    web_port: int = 8089
    master_host: str = "127.0.0.1"
    master_port: int = 5557
    master_bind_host: str = "*"
    expect_workers: int = 1
    expect_workers_max_wait: float = 60.0
    csv_prefix: str | None = None
    html: Path | None = None
    quiet: bool = False


@dataclass
class RunResult:
    environment: Environment
    state: RunState
    seconds: float
    started: bool
    workers: int | None = None  # connected when the load started (the master)


def run(
    plan: LoadPlan | None, options: RunOptions, think: tuple[float, float], echo: Callable[[str], None]
) -> RunResult:
    """Run the load as ``options.role``; on the master and locally, until the run time ends or Ctrl-C."""
    sys.argv[1:] = []  # Locust's web UI parses the command line as its own: ours is parsed already
    _one_line_logging()
    environment = Environment(user_classes=[TenantUser], stop_timeout=options.stop_timeout)
    environment.aup_state = RunState(plan, think)  # type: ignore[attr-defined]
    if options.role == "worker":
        worker = environment.create_worker_runner(options.master_host, options.master_port)
        _register(environment)
        _stop_on_signals(worker.quit)
        worker.greenlet.join()
        return RunResult(environment, _state(environment), 0.0, True)
    runner: MasterRunner | LocalRunner
    if options.role == "master":
        runner = environment.create_master_runner(options.master_bind_host, options.master_port)
        echo(
            f"master listening on {options.master_bind_host}:{runner.server.port}; "
            f"waiting for {options.expect_workers} worker(s)"
        )
    else:
        runner = environment.create_local_runner()
    _register(environment)
    if not options.headless:
        web = environment.create_web_ui(options.web_host, options.web_port)
        server: Any = getattr(web, "server", None)
        while server is None or not server.started:  # bound in its own greenlet
            gevent.sleep(0.02)
            server = getattr(web, "server", None)
        port = server.server_port
        echo(f"Locust web UI on http://{options.web_host}:{port}; start the run there, Ctrl-C ends and judges it")
    background = [gevent.spawn(stats_history, runner)]
    if not options.quiet:
        background.append(gevent.spawn(stats_printer(environment.stats)))
    if options.csv_prefix:
        writer = StatsCSVFileWriter(environment, PERCENTILES_TO_REPORT, options.csv_prefix, full_history=True)
        background.append(gevent.spawn(writer.stats_writer))
    stopping = Event()
    _stop_on_signals(stopping.set)
    started = False
    workers: int | None = None
    start = time.monotonic()
    if options.headless:
        if isinstance(runner, MasterRunner):
            deadline = time.monotonic() + options.expect_workers_max_wait
            while runner.worker_count < options.expect_workers:
                if time.monotonic() > deadline or stopping.is_set():
                    break
                gevent.sleep(0.2)
            if runner.worker_count < options.expect_workers:
                echo(f"only {runner.worker_count} of {options.expect_workers} workers connected; not started")
        if not isinstance(runner, MasterRunner) or runner.worker_count >= options.expect_workers:
            start = time.monotonic()
            if isinstance(runner, MasterRunner):
                workers = runner.worker_count
            runner.start(options.users, spawn_rate=options.spawn_rate)
            started = True
    stopping.wait(timeout=options.run_time)
    started = started or runner.state != "ready"
    if isinstance(runner, MasterRunner):
        _quit_workers(runner, options.stop_timeout)
    else:
        runner.stop()  # users finish their step, send what is pending and judge their tenant
    seconds = time.monotonic() - start
    if options.html is not None:
        page = get_html_report(environment, show_download_link=False)  # type: ignore[no-untyped-call]
        options.html.write_text(page, encoding="utf-8")
    for greenlet in background:
        greenlet.kill(block=True)
    runner.quit()
    return RunResult(environment, _state(environment), seconds, started, workers)


def _quit_workers(runner: MasterRunner, stop_timeout: float) -> None:
    """Tell the workers to quit and wait for every tenant's verdict. A worker that quits stops its users
    first (each sends its verdict) and reports its last stats; one told to stop instead would idle for the
    stop timeout before it listens again (Locust's worker)."""
    state = _state(runner.environment)
    runner.stop(send_stop_to_client=False)
    for client in runner.clients.all:
        runner.server.send_to_client(Message("quit", None, client.id))  # type: ignore[no-untyped-call]
    deadline = time.monotonic() + stop_timeout + 30
    while any(index not in state.verdicts for index in state.claimed) and time.monotonic() < deadline:
        gevent.sleep(0.2)
    gevent.sleep(1.0)  # the workers' last stats reports follow their verdicts


class _OneLine(logging.Formatter):
    """Locust's warnings and errors as one line each (a step's traceback goes to the report's step errors)."""

    def format(self, record: logging.LogRecord) -> str:
        lines = record.getMessage().strip().splitlines()
        return f"aup load: {record.levelname.lower()}: {lines[0] if lines else ''}"


def _one_line_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)


def _stop_on_signals(action: Callable[[], None]) -> None:
    for number in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(number, action)
