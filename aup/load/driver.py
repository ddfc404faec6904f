"""One tenant's IdP under load: its generated directory, its admin console from the IdP registry, the scenario's
steps and the verdict on the server's end state. No Locust here: the engine calls ``provision``, ``step`` and
``finish``; a test can drive a tenant in process.

The steps change the directory the way an admin does and let the IdP send what it sends (Okta at once, Entra at
its next cycle, run by ``sync``). They stay where the one-way-sync oracle (``AdminConsole.expected_state``) is
exact, so a divergence is the server's: membership churn moves only users who stay assigned to the app
whatever the group, and new hires are assigned directly (Entra adds a member who came into scope after its
group was sent only at a restart, docs/entra-idp.md §3.4). The verdict is taken after the pending changes are
sent and before anything re-sends the directory, so a lost write is not papered over by a later force sync.
"""

from __future__ import annotations

import copy
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from aup.load.plan import LoadPlan, weighted_steps
from emulators.core.clock import SystemClock
from emulators.core.console import AdminConsole, ConsoleSetup
from emulators.core.cycle_clock import SkippingClock
from emulators.core.directory import Directory, Status
from emulators.core.expected import differences
from emulators.core.generator import generate_directory
from emulators.core.retry import RateLimitPolicy, send_with_rate_limit
from emulators.registry import idps
from scimcore import paging
from scimcore.client import eq_filter
from scimcore.target import Bearer, Target

# The verdict's read-back of a tenant: a 429 is waited out (Retry-After when given, else 1 s doubling), 8 tries.
VERDICT_READ_RATE_LIMIT = RateLimitPolicy(default_wait=1.0, factor=2.0, max_attempts=8)

DOMAIN = "load.example.test"
EDITED = ("firstName", "lastName", "title")  # mapped by every IdP's default mapping (docs/okta-idp.md §5, entra §4)
SHOWN = 20  # divergences a verdict carries per tenant (with the total)

# route, method, status (0: no answer), milliseconds, bytes, error (None when answered)
Exchange = Callable[[str, str, int, float, int, "Exception | None"], None]


def request_route(base_path: str, request: httpx.Request) -> str:
    """A request's name in the figures: its route with ids replaced, e.g. ``/Groups/{id}``."""
    path = request.url.raw_path.decode("ascii").partition("?")[0]  # still encoded: an id holding "/" is one segment
    rest = path[len(base_path) :] if path.startswith(base_path) else path
    parts = [part for part in rest.split("/") if part]
    route = "/" + "/".join(parts[:1] + ["{id}"] * (len(parts) > 1))
    if request.url.params.get("filter") is not None:
        route += "?filter"
    elif request.method == "GET" and len(parts) == 1:
        route += "?list"
    return route


class TimedTransport(httpx.BaseTransport):
    """Times every exchange to the last body byte and reports it, answered or not."""

    def __init__(self, inner: httpx.BaseTransport, base_path: str, report: Exchange) -> None:
        self.inner = inner
        self.base_path = base_path.rstrip("/")
        self.report = report

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        kind = request_route(self.base_path, request)
        start = time.perf_counter()
        try:
            response = self.inner.handle_request(request)
            body = response.read()
        except Exception as exc:
            self.report(kind, request.method, 0, (time.perf_counter() - start) * 1000, 0, exc)
            raise
        self.report(kind, request.method, response.status_code, (time.perf_counter() - start) * 1000, len(body), None)
        return response  # read: the client finds its body in memory

    def close(self) -> None:
        self.inner.close()


@dataclass
class TenantFigures:
    """What one tenant sent: per request kind, the latencies and statuses."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0  # no answer (connection refused, reset, timeout)

    def add(self, kind: str, status: int, ms: float, error: Exception | None) -> None:
        self.latencies.setdefault(kind, []).append(ms)
        if error is not None:
            self.errors += 1
        else:
            self.statuses[status] += 1

    def summary(self) -> dict[str, Any]:
        every = [ms for values in self.latencies.values() for ms in values]
        return {
            "requests": len(every),
            "errors": self.errors,
            "status_4xx": sum(n for s, n in self.statuses.items() if 400 <= s < 500 and s != 429),
            "status_5xx": sum(n for s, n in self.statuses.items() if s >= 500),
            "rate_limited_429": self.statuses[429],
            **percentiles(every),
        }


def percentiles(values: list[float]) -> dict[str, float | None]:
    if len(values) < 2:
        only = round(values[0], 2) if values else None
        return {"p50_ms": only, "p95_ms": only, "p99_ms": only}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49], 2), "p95_ms": round(cuts[94], 2), "p99_ms": round(cuts[98], 2)}


def prefixed_directory(users: int, groups: int, seed: int, prefix: str) -> Directory:
    """A generated directory whose logins and group names start with ``prefix`` (the tenant's resources)."""
    people = copy.deepcopy(generate_directory(users, groups, seed, domain=DOMAIN))
    for user in people.users.values():
        manager = user.profile.get("manager")
        if manager:
            user.profile["manager"] = f"{prefix}-{manager}"
        user.profile["login"] = user.profile["email"] = f"{prefix}-{user.login}"
    for group in people.groups.values():
        group.name = f"{prefix} {group.name}"
    return people


class TenantDriver:
    """One tenant: its IdP's console over its own HTTP client, driven step by step."""

    def __init__(
        self,
        plan: LoadPlan,
        index: int,
        report: Exchange | None = None,
        transport: Callable[[bool, float], httpx.BaseTransport] | None = None,
    ) -> None:
        """``transport(verify, timeout)`` carries the IdP's requests (httpx's own when None)."""
        self.plan = plan
        self.index = index
        self.tenant = plan.tenants[index]
        self.prefix = plan.prefix(index)
        self.rng = random.Random(plan.seed * 7919 + index)  # noqa: S311 - a reproducible mix, not a secret
        self.figures = TenantFigures()
        self.steps: Counter[str] = Counter()
        self.hires = 0
        spec = idps().get(self.tenant.idp)
        profile = spec.profile()
        self.directory = prefixed_directory(plan.users, plan.groups, plan.seed + index, self.prefix)
        base_path = urlsplit(self.tenant.url).path

        def exchange(kind: str, method: str, status: int, ms: float, size: int, error: Exception | None) -> None:
            self.figures.add(f"{method} {kind}", status, ms, error)
            if report is not None:
                report(kind, method, status, ms, size, error)

        verify = not plan.insecure
        credentials = Bearer(self.tenant.token)
        inner = transport(verify, plan.timeout) if transport is not None else httpx.HTTPTransport(verify=verify)
        sender = TimedTransport(inner, base_path, exchange)
        self.target = Target(self.tenant.url, credentials, plan.timeout, verify, app=sender, label=self.tenant.url)
        self.http = self.target.http(headers=profile.headers)
        reads = transport(verify, plan.timeout) if transport is not None else None  # not timed: not load
        self.reader = Target(self.tenant.url, credentials, plan.timeout, verify, app=reads).http()
        setup = ConsoleSetup(self.directory, self.http, profile, SkippingClock(), settings=dict(spec.live_settings))
        self.console: AdminConsole = spec.console(setup)
        self._deactivated: list[str] = []
        self._held_groups: set[str] | None = None  # names of the groups the server must hold
        self._weights = weighted_steps(plan.scenario)

    def close(self) -> None:
        self.http.close()
        self.reader.close()

    # -- the scenario ------------------------------------------------------------------------------

    def provision(self) -> None:
        """The initial provisioning burst: the whole directory as it stands."""
        self.console.provision_all()

    def next_step(self) -> str:
        steps, weights = zip(*self._weights, strict=True)
        return str(self.rng.choices(steps, weights)[0])

    def step(self, name: str | None = None) -> str:
        """One scenario step and the sync that sends it; returns the step's name."""
        name = name or self.next_step()
        getattr(self, f"_{name}")()
        self.console.sync()
        self.steps[name] += 1
        return name

    def _active_in_scope(self) -> list[str]:
        directory = self.directory
        return [
            uid for uid, user in directory.users.items() if user.status is Status.ACTIVE and directory.is_assigned(uid)
        ]

    def _onboard(self) -> None:
        for _ in range(max(1, self.plan.users // 20)):
            self.hires += 1
            uid = f"hire{self.hires}"
            login = f"{self.prefix}-hire{self.hires}@{DOMAIN}"
            first, last = self.rng.choice(("Ada", "Ōta", "Zoë", "Ngozi")), self.rng.choice(("Lee", "Müller", "Ng"))
            self.console.add_user(
                uid,
                {
                    "login": login,
                    "email": login,
                    "firstName": first,
                    "lastName": last,
                    "displayName": f"{first} {last}",
                },
            )
            self.console.assign_user(uid)

    def _incremental(self) -> None:
        chosen = self._active_in_scope()
        for uid in self.rng.sample(chosen, min(len(chosen), self.rng.randint(1, 3))):
            attribute = self.rng.choice(EDITED)
            self.console.update_user(uid, {attribute: f"{attribute}-{self.rng.randrange(10**6)}"})

    def _churn(self) -> None:
        """Members in and out of the groups the server holds, among users assigned whatever the group."""
        if self._held_groups is None:  # no step creates, deletes or renames a group: worked out once
            self._held_groups = set(self.console.expected_state().groups)
        groups = [group for group in self.directory.groups.values() if group.name in self._held_groups]
        if not groups:
            return
        directory = self.directory
        for _ in range(self.rng.randint(1, 4)):
            group = self.rng.choice(groups)

            def stays_assigned(uid: str, gid: str = group.id) -> bool:
                return uid in directory.app.users or any(
                    uid in directory.group(other).members for other in directory.app.groups if other != gid
                )

            candidates = [uid for uid in self._active_in_scope() if stays_assigned(uid)]
            joining = [uid for uid in candidates if uid not in group.members]
            leaving = [uid for uid in candidates if uid in group.members]
            if joining and (not leaving or self.rng.random() < 0.5):
                self.console.add_member(group.id, self.rng.choice(joining))
            elif leaving:
                self.console.remove_member(group.id, self.rng.choice(leaving))

    def _force_sync(self) -> None:
        self.console.sync()  # what is pending goes out in a normal cycle first (Entra)
        self.console.rewrite()

    def _deprovision(self) -> None:
        """A wave: a tenth of the active users deactivated, as many earlier ones back."""
        wave = max(1, self.plan.users // 10)
        returning = [self._deactivated.pop(0) for _ in range(min(wave, len(self._deactivated)))]
        for uid in returning:
            self.console.reactivate(uid)
        active = self._active_in_scope()
        for uid in self.rng.sample(active, min(wave, max(0, len(active) - 2))):
            self.console.deactivate(uid)
            self._deactivated.append(uid)

    # -- the verdict ------------------------------------------------------------------------------

    def finish(self) -> dict[str, Any]:
        """Send what is pending, then compare the server with the directory: this tenant's verdict."""
        verdict: dict[str, Any] = {
            "index": self.index,
            "tenant": self.tenant.label,
            "url": self.tenant.url,
            "idp": self.tenant.idp,
            "prefix": self.prefix,
            "steps": dict(self.steps),
        }
        try:
            self.console.sync()
            unresolved = self.console.unresolved_failures()
            users = self._read("/Users", "userName")
            groups = self._read("/Groups", "displayName")
            problems = differences(self.console.expected_state(), users, groups)
        except Exception as exc:  # the verdict says it could not be judged, and why
            verdict.update(error=f"{type(exc).__name__}: {exc}", figures=self.figures.summary())
            return verdict
        verdict.update(
            users=len(users),
            groups=len(groups),
            divergences=len(problems),
            shown=problems[:SHOWN],
            unresolved=unresolved[:SHOWN],
            unresolved_count=len(unresolved),
            figures=self.figures.summary(),
        )
        return verdict

    def _read(self, endpoint: str, attribute: str) -> list[dict[str, Any]]:
        flt = eq_filter(attribute, self.prefix).replace(" eq ", " sw ", 1)

        def fetch(query: paging.Query) -> dict[str, Any]:
            # the judge's read waits out the server's 429s as the IdPs do (Retry-After, else doubling), so a
            # rate-limited server is judged on its state, not on this read's timing
            answer = send_with_rate_limit(
                lambda: self.reader.get(endpoint, params=[("filter", flt), *query]),
                VERDICT_READ_RATE_LIMIT,
                SystemClock(),
            )
            answer.raise_for_status()
            body: dict[str, Any] = answer.json()
            return body

        return list(paging.walk(fetch, by_cursor=False))
