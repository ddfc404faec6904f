"""Run checks against one target: discovery first, then each check with its own evidence and cleanup."""

from __future__ import annotations

import itertools
import secrets
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from conformance.context import Capabilities, CheckContext, Endpoint, describe
from conformance.model import Check, CheckFailed, CheckSkipped, Level, Result, Status, Verdict
from scimcore import urns
from scimcore.client import ScimClient, Wiretap, eq_filter
from scimcore.target import Target
from scimcore.wire import redact

EVIDENCE_LIMIT = 12  # exchanges kept per result: the last ones, where the failure is
RUN_PREFIX = "aupc"
NETWORK = "network: "  # reason prefix of an ERROR the transport raised
NOT_RUN = "not run: "  # reason prefix of a check the runner did not send once the target stopped answering
STOP_AFTER = 3  # consecutive checks ending in a network ERROR before the runner probes the target and gives up
DEFAULT_JOBS = 16  # checks in flight: a full run 50 ms from the target takes seconds, not a minute (bench/wan.py)
PROBE_TIMEOUT = 10.0  # seconds: the probe and the final sweep of a target that stopped answering stay bounded


@dataclass(frozen=True)
class Cause:
    """One distinct root cause: a check that broke on its own, and the checks it BLOCKED.

    ``level`` is the strongest level among them: a defect that blocks a MUST check is graded MUST, whatever
    the root check's own level (a SHOULD that breaks a MUST-level sync is not a mere warning)."""

    root: Result
    explains: tuple[Result, ...]
    level: Level

    @property
    def hint(self) -> str:
        return self.root.check.hint


_BROKEN = (Status.FAIL, Status.WARN, Status.ERROR)
_RANK = {Level.MUST: 0, Level.SHOULD: 1, Level.MAY: 2}


class _Tap(Wiretap):
    """A check's wiretap that also knows when the target answered the last request sent (None: it did not): a
    check whose final requests (its cleanup included) went unanswered does not show the target alive, even if
    it passed."""

    def __init__(self) -> None:
        super().__init__("conformance")
        self.answered_at: float | None = None

    def on_request(self, request: httpx.Request) -> None:
        super().on_request(request)
        self.answered_at = None

    def on_response(self, response: httpx.Response) -> None:
        super().on_response(response)
        self.answered_at = time.monotonic()

    def clear(self) -> None:
        super().clear()
        self.answered_at = None


class TargetUnreachable(Exception):
    """The target could not be reached at all (connection refused, DNS, TLS): a usage problem, not a result."""


@dataclass
class Run:
    """Everything a report needs: the target, what it advertised, every result, timing."""

    target: str
    run_id: str
    started: datetime
    capabilities: dict[str, Any]
    results: list[Result] = field(default_factory=list)
    finished: datetime | None = None
    notes: list[str] = field(default_factory=list)

    def counts(self) -> Counter[Status]:
        return Counter(result.status for result in self.results)

    def suites(self) -> list[str]:
        """Suite names in the order their first result appears (custom suites included)."""
        return list(dict.fromkeys(result.check.suite for result in self.results))

    def failed(self, *, strict: bool = False) -> list[Result]:
        """Results that fail the run: every FAIL; with ``strict`` also a WARN from a SHOULD; and a check of
        that level BLOCKED by a prerequisite the server broke (the requirement does not hold either way)."""
        levels = (Level.MUST, Level.SHOULD) if strict else (Level.MUST,)
        return [
            result
            for result in self.results
            if result.status is Status.FAIL
            or (strict and result.status is Status.WARN and result.check.level is Level.SHOULD)
            or (result.status is Status.BLOCKED and result.check.level in levels and self._blame_server(result))
        ]

    def _blame_server(self, result: Result) -> bool:
        """A BLOCKED check whose root causes include a judged failure (not only harness or network ERRORs)."""
        judged = (Status.FAIL, Status.WARN)
        return any(cause.root.status in judged for cause in self.causes() if result in cause.explains)

    def causes(self) -> list[Cause]:
        """The distinct root causes, in run order: each broken check not itself BLOCKED, with every check it
        BLOCKED (directly or through another blocked check)."""
        by_id = {result.check.id: result for result in self.results}
        roots: dict[str, list[Result]] = {}
        for result in self.results:
            if result.status in _BROKEN:
                roots.setdefault(result.check.id, [])
        for result in self.results:
            if result.status is not Status.BLOCKED:
                continue
            for root_id in self._roots(result, by_id, set()):
                roots.setdefault(root_id, []).append(result)
        out = []
        for root_id, explains in roots.items():
            root = by_id[root_id]
            if root.status is Status.ERROR and not explains:
                continue  # an ERROR on its own is reported as unjudged, not as a cause to fix in the server
            level = min((root.check.level, *(r.check.level for r in explains)), key=_RANK.__getitem__)
            out.append(Cause(root, tuple(explains), level))
        return out

    def _roots(self, result: Result, by_id: dict[str, Result], seen: set[str]) -> list[str]:
        found: list[str] = []
        for need in result.blocked_by:
            if need in seen or need not in by_id:
                continue
            seen.add(need)
            prerequisite = by_id[need]
            if prerequisite.status is Status.BLOCKED:
                found += self._roots(prerequisite, by_id, seen)
            else:
                found.append(need)
        return found

    def unjudged(self) -> list[Result]:
        """Results that say nothing about the server: ERROR (harness, network, or not run), and a check
        BLOCKED only by such an ERROR."""
        return [
            result
            for result in self.results
            if result.status is Status.ERROR or (result.status is Status.BLOCKED and not self._blame_server(result))
        ]

    def exit_code(self, *, strict: bool = False) -> int:
        """The one place that decides: 1 when a MUST failed (with ``strict`` a SHOULD), since a judged failure
        is definitive even if other checks were not judged; else 2 when a check ended in ERROR; else 0."""
        if self.failed(strict=strict):
            return 1
        return 2 if self.unjudged() else 0

    def verdict(self, *, strict: bool = False) -> Verdict:
        return {0: Verdict.CONFORMANT, 1: Verdict.NOT_CONFORMANT}.get(self.exit_code(strict=strict), Verdict.INCOMPLETE)

    @property
    def duration_s(self) -> float:
        end = self.finished or datetime.now(UTC)
        return (end - self.started).total_seconds()


Progress = Callable[[int, int, Result], None]


class Runner:
    """One connection to a target: discovery once, then checks, then the sweep.

    ``run`` uses it for a whole selection, ``jobs`` checks at a time; the pytest plugin uses ``run_one`` to run one
    check per test item. Each worker thread has its own client and wiretap, so a check's evidence is its own.
    """

    def __init__(self, target: Target, *, keep: bool = False, run_id: str | None = None) -> None:
        self.target = target = _one_tls_context(target)
        self.keep = keep
        self.run_id = run_id or f"{RUN_PREFIX}{secrets.token_hex(3)}"
        self.endpoint = Endpoint.of(target)
        self.wiretap = _Tap()
        self.names = itertools.count(1)  # next() on a count is atomic under the GIL: names stay unique across threads
        self.http = self.endpoint.client(hooks=self.wiretap.hooks)
        self.outcome = Run(target=target.description, run_id=self.run_id, started=datetime.now(UTC), capabilities={})
        self.capabilities = Capabilities()
        self.streak: list[Result] = []  # the latest consecutive checks that ended in a network ERROR
        self._streak_since = 0.0  # when the first of them was recorded
        self.stopped: str = ""  # once set, the reason every further check is ERROR without being sent
        self._done: dict[str, Result] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._workers: list[httpx.Client] = []
        self._owner = threading.current_thread()

    def open(self) -> Run:
        """Read /ServiceProviderConfig. Raises TargetUnreachable when the request cannot be sent at all."""
        try:
            spc = self.http.get("/ServiceProviderConfig", headers={"Accept": urns.MEDIA_TYPE})
        except httpx.TransportError as exc:
            self.http.close()
            raise TargetUnreachable(f"cannot reach {self.target.description}: {exc}") from None
        if spc.status_code in (401, 403) and self.endpoint.auth is not None:
            self.http.close()
            raise TargetUnreachable(f"{self.target.description} refused the credentials ({spc.status_code})")
        try:
            body = spc.json() if spc.status_code == 200 else None
        except ValueError:
            body = None
        if isinstance(body, dict):
            self.outcome.capabilities.update(body)
        else:
            self.outcome.notes.append(
                f"GET /ServiceProviderConfig answered {describe(spc)}; checks that need a capability are skipped"
            )
        self.capabilities = Capabilities(self.outcome.capabilities)
        return self.outcome

    def run_one(self, item: Check) -> Result:
        """Run ``item`` and record it; once the target stopped answering, an ERROR at once instead of one
        timeout per check."""
        result, answered_at = self.judge(item)
        self.record(result, answered_at=answered_at)
        return result

    def judge(self, item: Check) -> tuple[Result, float | None]:
        """Run ``item`` on this thread's client, without recording it: the result, and when the target answered the
        last of its requests (None: it did not, or nothing was sent). Safe to call from several threads at once."""
        broken = self.broken_prerequisites(item)
        if self.stopped:
            return Result(item, Status.ERROR, reason=self.stopped), None
        if broken:
            return blocked(item, broken), None
        http, wiretap = self._client()
        wiretap.clear()
        result = _run_one(
            item,
            self.endpoint,
            self.run_id,
            self.capabilities,
            wiretap,
            http,
            keep=self.keep,
            names=self.names,
        )
        return result, wiretap.answered_at

    def record(self, result: Result, *, answered_at: float | None) -> None:
        """Add ``result`` to the run (completion order; ``run`` puts the selection order back) and watch for a
        target that stopped answering."""
        with self._lock:
            self.outcome.results.append(result)
            self._done[result.check.id] = result
        if result.status is not Status.BLOCKED and not result.reason.startswith(NOT_RUN):
            self._watch(result, answered_at=answered_at)

    def broken_prerequisites(self, item: Check) -> list[Result]:
        """The results of ``item``'s prerequisites (those already run) that broke or were blocked themselves."""
        with self._lock:
            done = dict(self._done)
        return [done[need] for need in item.needs if need in done and done[need].status in (*_BROKEN, Status.BLOCKED)]

    def _client(self) -> tuple[httpx.Client, _Tap]:
        """The calling thread's client: the runner's own on the thread that made it, one more per worker."""
        if threading.current_thread() is self._owner:  # the thread that made the runner
            return self.http, self.wiretap
        local = getattr(self._local, "client", None)
        if local is None:
            wiretap = _Tap()
            http = self.endpoint.client(hooks=wiretap.hooks)
            with self._lock:
                self._workers.append(http)
            local = self._local.client = (http, wiretap)
        return local

    def run_all(self, checks: list[Check], *, jobs: int = 1, progress: Progress | None = None) -> None:
        """Run ``checks`` with up to ``jobs`` in flight. A check waits for its prerequisites (``needs``) that are in
        the selection; an ``exclusive`` check runs with nothing else in flight. Results end in selection order."""
        order = {item.id: index for index, item in enumerate(checks)}
        selected = set(order)
        pending = _start_order(checks)
        done = 0

        def ready(item: Check) -> bool:
            with self._lock:
                finished = set(self._done)
            return all(need in finished for need in item.needs if need in selected)

        def finish(result: Result, answered_at: float | None) -> None:
            nonlocal done
            self.record(result, answered_at=answered_at)
            done += 1
            if progress is not None:
                progress(done, len(checks), result)

        if jobs <= 1:
            for item in checks:
                finish(*self.judge(item))
        else:
            with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="aup-check") as pool:
                flight: dict[Future[tuple[Result, float | None]], Check] = {}
                while pending or flight:
                    alone = any(item.exclusive for item in flight.values())
                    for item in list(pending):
                        if alone or len(flight) >= jobs:
                            break
                        if not ready(item):
                            continue
                        if item.exclusive:
                            if flight:
                                break  # wait until everything in flight finished, then run it alone
                            alone = True
                        pending.remove(item)
                        flight[pool.submit(self.judge, item)] = item
                    if not flight:  # nothing runnable: prerequisites outside any order (a cycle) run anyway
                        item = pending.pop(0)
                        flight[pool.submit(self.judge, item)] = item
                    finished, _ = wait(flight, return_when=FIRST_COMPLETED)
                    for future in finished:
                        flight.pop(future)
                        finish(*future.result())
        with self._lock:
            self.outcome.results.sort(key=lambda result: order.get(result.check.id, len(order)))

    def _watch(self, result: Result, *, answered_at: float | None) -> None:
        with self._lock:
            if result.status is Status.ERROR and result.reason.startswith(NETWORK):
                if not self.streak:
                    self._streak_since = time.monotonic()
                self.streak.append(result)
            elif answered_at is not None and (not self.streak or answered_at > self._streak_since):
                # the target answered this check's last request after the errors began: it is alive. In a parallel
                # run a check answered before them may finish after them: that says nothing about the target now
                self.streak.clear()
            if len(self.streak) < STOP_AFTER or self.stopped:
                return
        # a server that resets some requests is still alive: only one that no longer answers at all ends the run
        if self._answers():
            with self._lock:
                self.streak.clear()
            return
        with self._lock:
            last = self.streak[-1]
            self.stopped = (
                f"{NOT_RUN}the target stopped answering after check {last.check.id} ({len(self.streak)} checks in a "
                f"row ended in a network error, the last {last.reason.removeprefix(NETWORK)})"
            )

    def _answers(self) -> bool:
        try:
            self.http.get("/ServiceProviderConfig", headers={"Accept": urns.MEDIA_TYPE}, timeout=self._short_timeout())
        except httpx.TransportError:
            return False
        return True

    def _short_timeout(self) -> float:
        return min(self.endpoint.timeout, PROBE_TIMEOUT)

    def close(self) -> Run:
        not_run = sum(1 for result in self.outcome.results if result.reason.startswith(NOT_RUN))
        if self.stopped:
            last = self.streak[-1].check.id
            skipped = f"; {not_run} check(s) not run" if not_run else ""
            self.outcome.notes.append(f"the target stopped answering after check {last}{skipped}")
            self.http.timeout = httpx.Timeout(self._short_timeout())  # a dead target must not stall the sweep
        try:
            if not self.keep:
                self.outcome.notes.extend(_sweep(self.http, self.run_id))
        finally:
            self.http.close()
            for http in self._workers:
                http.close()
        self.outcome.finished = datetime.now(UTC)
        return self.outcome


def run(
    checks: Iterable[Check],
    target: Target,
    *,
    keep: bool = False,
    progress: Progress | None = None,
    run_id: str | None = None,
    jobs: int = DEFAULT_JOBS,
) -> Run:
    """Run ``checks`` (a selection, or a whole ``Registry``), up to ``jobs`` at a time; results are in selection
    order whatever order they finish in. Raises TargetUnreachable when the target cannot be reached or refuses
    the token."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    runner = Runner(target, keep=keep, run_id=run_id)
    runner.open()
    try:
        runner.run_all(list(checks), jobs=jobs, progress=progress)
    finally:
        outcome = runner.close()
    return outcome


LONG = "long"  # the tag of a check that takes many round trips: parallel runs start it (and its needs) first


def _start_order(checks: list[Check]) -> list[Check]:
    """The order a parallel run starts checks in: exclusive checks (alone, before the pool fills), the prerequisites
    of long checks, then the long checks, then the rest, each in selection order, so the run does not end waiting on
    a long check started last."""
    long = {item.id: item for item in checks if LONG in item.tags and not item.exclusive}
    needed = {need for item in long.values() for need in item.needs}

    def rank(item: Check) -> int:
        if item.exclusive:
            return 0
        return 1 if item.id in needed else 2 if item.id in long else 3

    return sorted(checks, key=rank)


def _one_tls_context(target: Target) -> Target:
    """``target`` with one TLS context for all its clients: httpx otherwise builds one per client, loading the CA
    bundle each time (about 25 ms of CPU), and a run makes a client per worker and per IdP request shape."""
    if target.app is not None or target.verify is not True:
        return target
    return replace(target, verify=httpx.create_ssl_context())


def blocked(item: Check, broken: list[Result]) -> Result:
    """``item`` is not run: the prerequisites in ``broken`` broke first, and their defect is the one to fix."""
    named = ", ".join(f"{result.check.id} ({result.status.value})" for result in broken)
    return Result(
        item,
        Status.BLOCKED,
        reason=f"blocked by prerequisite {named}",
        blocked_by=tuple(result.check.id for result in broken),
    )


def _run_one(
    item: Check,
    endpoint: Endpoint,
    run_id: str,
    capabilities: Capabilities,
    wiretap: Wiretap,
    http: httpx.Client,
    *,
    keep: bool,
    names: Iterator[int],
) -> Result:
    missing = sorted(feature for feature in item.requires if not capabilities.supported(feature))
    if missing:
        reason = f"/ServiceProviderConfig does not advertise {', '.join(missing)}"
        return Result(item, Status.SKIP, reason=reason)
    ctx = CheckContext(endpoint, run_id=run_id, capabilities=capabilities, wiretap=wiretap, http=http, names=names)
    started = time.perf_counter()
    status, reason, expected, actual = Status.PASS, "", "", ""
    try:
        item.fn(ctx)
    except CheckFailed as failure:
        status, reason, expected, actual = item.failing_status, failure.reason, failure.expected, failure.actual
    except CheckSkipped as skipped:
        status, reason = Status.SKIP, str(skipped)
    except httpx.TransportError as exc:
        status, reason = Status.ERROR, f"{NETWORK}{type(exc).__name__}: {exc}"
    except Exception as exc:  # a defect in the check itself: report it, keep running
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        status = Status.ERROR
        reason = f"harness: {type(exc).__name__}: {exc} ({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})"
    elapsed = (time.perf_counter() - started) * 1000
    kept = [] if status is Status.PASS else wiretap.exchanges[-EVIDENCE_LIMIT:]  # a pass keeps no evidence
    evidence = tuple(redact(exchange) for exchange in kept)
    notes = list(ctx.notes)
    ctx.close()
    if not keep:
        notes.extend(_cleanup(http, ctx.cleanup_paths()))
    result = Result(item, status, reason, expected, actual, duration_ms=elapsed, notes=tuple(notes))
    return result if status is Status.PASS else replace(result, evidence=evidence)


def _cleanup(http: httpx.Client, paths: list[str]) -> list[str]:
    notes = []
    for index, path in enumerate(paths):
        try:
            response = http.delete(path, headers={"Accept": urns.MEDIA_TYPE})
        except httpx.TransportError as exc:
            notes.append(f"cleanup of {path} failed: {exc}")
            # one unanswered delete is enough: the rest would each wait out the timeout too
            notes += [f"cleanup of {rest} skipped: the target did not answer" for rest in paths[index + 1 :]]
            break
        if response.status_code not in (200, 204, 404):
            notes.append(f"cleanup of {path} answered {response.status_code}")
    return notes


def _sweep(http: httpx.Client, run_id: str) -> list[str]:
    """Remove anything of this run that a check's own cleanup missed (emulator-created resources included)."""
    scim = ScimClient(http)
    leftovers: list[str] = []
    stopped = ""
    for endpoint, attribute in (("/Groups", "displayName"), ("/Users", "userName")):
        flt = eq_filter(attribute, run_id).replace(" eq ", " sw ", 1)
        try:
            response = scim.get(endpoint, [("filter", flt), ("count", 1000)])
        except httpx.TransportError as exc:
            stopped = f"the final sweep stopped, the target did not answer: {exc}"
            break
        try:
            found = response.json().get("Resources") or [] if response.status_code == 200 else []
        except (ValueError, AttributeError):
            continue
        leftovers.extend(f"{endpoint}/{item['id']}" for item in found if isinstance(item, dict) and "id" in item)
    notes = _cleanup(http, leftovers)
    if stopped:
        notes.append(stopped)
    if leftovers:
        notes.insert(0, f"swept {len(leftovers)} resource(s) left by checks")
    return notes
