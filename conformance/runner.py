"""Run checks against one target: discovery first, then each check with its own evidence and cleanup."""

from __future__ import annotations

import itertools
import secrets
import ssl
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from conformance.context import Capabilities, CheckContext, Endpoint, describe
from conformance.model import Check, CheckFailed, CheckSkipped, Level, Result, Status
from scimcore import urns
from scimcore.client import IN_PROCESS_BASE_URL, BearerAuth, ScimClient, Wiretap, WSGIApp, eq_filter, make_http
from scimcore.wire import redact

EVIDENCE_LIMIT = 12  # exchanges kept per result: the last ones, where the failure is
RUN_PREFIX = "aupc"


class TargetUnreachable(Exception):
    """The target could not be reached at all (connection refused, DNS, TLS): a usage problem, not a result."""


@dataclass(frozen=True)
class Target:
    """A SCIM base URL with a bearer token, or an in-process WSGI app (``app``) with its base URL."""

    base_url: str = IN_PROCESS_BASE_URL
    token: str | None = None
    app: WSGIApp | None = None
    auth: httpx.Auth | None = None
    label: str = ""
    timeout: float = 60.0
    verify: ssl.SSLContext | bool = True

    def endpoint(self) -> Endpoint:
        auth = self.auth or (BearerAuth(self.token) if self.token else None)
        return Endpoint(
            base_url=self.base_url,
            target=self.app or self.base_url,
            auth=auth,
            timeout=self.timeout,
            verify=self.verify,
        )

    @property
    def description(self) -> str:
        return self.label or (f"{self.base_url} (in process)" if self.app else self.base_url)


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

    def failed(self, *, strict: bool = False) -> list[Result]:
        """Results that fail the run: every FAIL; with ``strict`` also a WARN from a SHOULD."""
        return [
            result
            for result in self.results
            if result.status is Status.FAIL
            or (strict and result.status is Status.WARN and result.check.level is Level.SHOULD)
        ]

    def exit_code(self, *, strict: bool = False) -> int:
        return 1 if self.failed(strict=strict) else 0

    @property
    def duration_s(self) -> float:
        end = self.finished or datetime.now(UTC)
        return (end - self.started).total_seconds()


Progress = Callable[[int, int, Result], None]


class Runner:
    """One connection to a target: discovery once, then checks one at a time, then the sweep.

    ``run`` uses it for a whole selection; the pytest plugin uses it to run one check per test item.
    """

    def __init__(self, target: Target, *, keep: bool = False, run_id: str | None = None) -> None:
        self.target = target
        self.keep = keep
        self.run_id = run_id or f"{RUN_PREFIX}{secrets.token_hex(3)}"
        self.endpoint = target.endpoint()
        self.wiretap = Wiretap("conformance")
        self.names = itertools.count(1)
        self.http = make_http(
            self.endpoint.target,
            self.endpoint.auth,
            hooks=self.wiretap.hooks,
            base_url=self.endpoint.base_url,
            timeout=self.endpoint.timeout,
            verify=self.endpoint.verify,
        )
        self.outcome = Run(target=target.description, run_id=self.run_id, started=datetime.now(UTC), capabilities={})
        self.capabilities = Capabilities()

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
        result = _run_one(
            item,
            self.endpoint,
            self.run_id,
            self.capabilities,
            self.wiretap,
            self.http,
            keep=self.keep,
            names=self.names,
        )
        self.outcome.results.append(result)
        return result

    def close(self) -> Run:
        try:
            if not self.keep:
                self.outcome.notes.extend(_sweep(self.http, self.run_id))
        finally:
            self.http.close()
        self.outcome.finished = datetime.now(UTC)
        return self.outcome


def run(
    checks: Sequence[Check],
    target: Target,
    *,
    keep: bool = False,
    progress: Progress | None = None,
    run_id: str | None = None,
) -> Run:
    """Run ``checks`` in order. Raises TargetUnreachable when the target cannot be reached or refuses the token."""
    runner = Runner(target, keep=keep, run_id=run_id)
    runner.open()
    try:
        for index, item in enumerate(checks, start=1):
            result = runner.run_one(item)
            if progress is not None:
                progress(index, len(checks), result)
    finally:
        outcome = runner.close()
    return outcome


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
    wiretap.clear()
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
        status, reason = Status.ERROR, f"network: {type(exc).__name__}: {exc}"
    except Exception as exc:  # a defect in the check itself: report it, keep running
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        status = Status.ERROR
        reason = f"harness: {type(exc).__name__}: {exc} ({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})"
    elapsed = (time.perf_counter() - started) * 1000
    evidence = tuple(redact(exchange) for exchange in wiretap.exchanges[-EVIDENCE_LIMIT:])
    notes = list(ctx.notes)
    ctx.close()
    if not keep:
        notes.extend(_cleanup(http, ctx.cleanup_paths()))
    result = Result(item, status, reason, expected, actual, duration_ms=elapsed, notes=tuple(notes))
    return result if status is Status.PASS else replace(result, evidence=evidence)


def _cleanup(http: httpx.Client, paths: list[str]) -> list[str]:
    notes = []
    for path in paths:
        try:
            response = http.delete(path, headers={"Accept": urns.MEDIA_TYPE})
        except httpx.TransportError as exc:
            notes.append(f"cleanup of {path} failed: {exc}")
            continue
        if response.status_code not in (200, 204, 404):
            notes.append(f"cleanup of {path} answered {response.status_code}")
    return notes


def _sweep(http: httpx.Client, run_id: str) -> list[str]:
    """Remove anything of this run that a check's own cleanup missed (emulator-created resources included)."""
    scim = ScimClient(http)
    leftovers: list[str] = []
    for endpoint, attribute in (("/Groups", "displayName"), ("/Users", "userName")):
        flt = eq_filter(attribute, run_id).replace(" eq ", " sw ", 1)
        try:
            response = scim.get(endpoint, [("filter", flt), ("count", 1000)])
            found = response.json().get("Resources") or [] if response.status_code == 200 else []
        except (httpx.TransportError, ValueError, AttributeError):
            continue
        leftovers.extend(f"{endpoint}/{item['id']}" for item in found if isinstance(item, dict) and "id" in item)
    notes = _cleanup(http, leftovers)
    if leftovers:
        notes.insert(0, f"swept {len(leftovers)} resource(s) left by checks")
    return notes
