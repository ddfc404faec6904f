"""The IdP emulators, built against a check's target: Okta's and Entra's exact header sets and encodings,
a wait budget for the server's 429s, links that register every created resource for cleanup, and the
judgement of what the engines report (failed tasks, failed log entries) as check failures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from conformance.context import CheckContext
from conformance.model import CheckSkipped
from emulators.core.console import ConsoleSetup
from emulators.core.directory import AppAssignments, Directory, Group, User
from emulators.core.linkstore import Kind, LinkStore
from emulators.entra import (
    ENTRA_DEFAULT,
    CycleReport,
    EntraDirectory,
    EntraEmulator,
    EntraProfile,
    EntraSettings,
    ScopingFilter,
)
from emulators.entra.log import Outcome
from emulators.okta import OKTA_OIN, OktaEmulator, OktaProfile, OktaSettings, Task, TaskStatus
from emulators.registry import IdpSpec
from scimcore import paging
from scimcore.client import ScimClient, eq_filter

DOMAIN = "example.com"
WAIT_BUDGET = 10.0  # seconds of Retry-After a check may wait out in total before it gives up (SKIP)
THROTTLE_BURST = 50  # GETs sent to provoke a 429; a server that allows more is judged not to throttle
BURST_WAVE = 10  # of those, sent at once
RECOVERY_WAIT = 5.0  # at most this long is waited after a 429, so the next checks are not throttled
_ENDPOINTS: Mapping[Kind, str] = {"user": "/Users", "group": "/Groups"}


class CheckClock:
    """Real time for waits inside a flow (429 back-off, bounded by a budget); idle time between
    Entra cycles (40 minutes, or the 30 days before a hard delete) is skipped, not waited.
    """

    def __init__(self, budget: float = WAIT_BUDGET) -> None:
        self.budget = budget
        self.skipped = 0.0
        self.waited = 0.0

    def now(self) -> float:
        return time.time() + self.skipped

    def sleep(self, seconds: float) -> None:
        if self.waited + seconds > self.budget:
            raise CheckSkipped(
                f"the server throttled (HTTP 429) and asked for a wait of {seconds:g} s, beyond the check's "
                f"budget of {self.budget:g} s; run against a server with a higher rate limit"
            )
        self.waited += seconds
        time.sleep(seconds)

    def advance(self, seconds: float) -> None:
        self.skipped += max(0.0, seconds)


class TrackedLinks(LinkStore):
    """An in-memory link store that registers each linked SCIM resource for the check's cleanup."""

    def __init__(self, ctx: CheckContext) -> None:
        super().__init__()
        self.ctx = ctx

    def link(self, kind: Kind, idp_id: str, scim_id: str) -> None:
        self.ctx.track(f"{_ENDPOINTS[kind]}/{scim_id}")
        super().link(kind, idp_id, scim_id)


class InFlight:
    """Counts requests sent and answers received: an engine turns network errors into task failures,
    and a request without an answer tells those apart from the server's refusals.
    """

    def __init__(self) -> None:
        self.sent = 0
        self.answered = 0
        self._lock = threading.Lock()  # Entra's membership PATCHes run on threads against a URL

    @property
    def hooks(self) -> dict[str, list[Any]]:
        return {"request": [self._sent], "response": [self._answered]}

    def _sent(self, request: httpx.Request) -> None:
        with self._lock:
            self.sent += 1

    def _answered(self, response: httpx.Response) -> None:
        with self._lock:
            self.answered += 1

    def raise_if_unanswered(self) -> None:
        if self.sent > self.answered:
            raise httpx.TransportError(f"{self.sent - self.answered} request(s) got no answer from the server")


# -- people and groups carrying the run prefix ------------------------------------------------------------------


def person(ctx: CheckContext, stem: str = "p", **profile: Any) -> User:
    """A directory user whose login (the userName every IdP maps) starts with the run prefix."""
    login = f"{ctx.name(stem)}@{DOMAIN}"
    base = {"login": login, "email": login, "firstName": "Ada", "lastName": "Lovelace", "displayName": "Ada Lovelace"}
    return User(id=login.split("@", 1)[0], profile={**base, **profile})


def team(ctx: CheckContext, members: Sequence[User] = (), stem: str = "g") -> Group:
    """A directory group whose name starts with the run prefix."""
    name = ctx.name(stem)
    return Group(id=f"grp-{name}", name=name, members=[user.id for user in members])


def directory(
    users: Iterable[User],
    groups: Iterable[Group] = (),
    *,
    assigned: Iterable[User] = (),
    assigned_groups: Iterable[Group] = (),
    pushed: Iterable[Group] = (),
) -> Directory:
    return Directory(
        users={user.id: user for user in users},
        groups={group.id: group for group in groups},
        app=AppAssignments(
            users=[user.id for user in assigned],
            groups=[group.id for group in assigned_groups],
            push_groups={group.id: True for group in pushed},
        ),
    )


# -- emulators against the target -------------------------------------------------------------------------------


class Okta:
    """An Okta org provisioning to the check's target, in the profile's exact wire dialect."""

    def __init__(
        self,
        ctx: CheckContext,
        people: Directory,
        profile: OktaProfile = OKTA_OIN,
        settings: OktaSettings | None = None,
    ) -> None:
        self.ctx = ctx
        self.flight = InFlight()
        http = ctx.client(headers=profile.headers, hooks=self.flight.hooks)
        self.links = TrackedLinks(ctx)
        self.emulator = OktaEmulator(people, http, profile, settings=settings, links=self.links, clock=CheckClock())

    def expect_done(self, tasks: Sequence[Task], what: str) -> None:
        """Every task succeeded; a failed one is the server refusing Okta's request (docs/okta-idp.md §8)."""
        failed = [task for task in tasks if task.status is TaskStatus.FAILED]
        if failed:
            self.flight.raise_if_unanswered()
            self.ctx.fail(
                f"Okta could not {what}: the task failed",
                expected="every task DONE",
                actual="; ".join(f"{task.title}: {task.error}" for task in failed[:3]),
            )

    def user_id(self, user: User) -> str:
        scim_id = self.links.scim_id("user", user.id)
        self.ctx.expect(scim_id, f"Okta holds no SCIM id for {user.login}", expected="a linked id", actual="none")
        return str(scim_id)

    def group_id(self, group: Group) -> str:
        scim_id = self.links.scim_id("group", group.id)
        self.ctx.expect(scim_id, f"Okta holds no SCIM id for group {group.name}", expected="a linked id", actual="none")
        return str(scim_id)


class Entra:
    """An Entra provisioning job against the check's target, in the profile's exact wire dialect."""

    def __init__(
        self,
        ctx: CheckContext,
        people: Directory,
        profile: EntraProfile = ENTRA_DEFAULT,
        settings: EntraSettings | None = None,
        scoping: ScopingFilter | None = None,
    ) -> None:
        self.ctx = ctx
        self.flight = InFlight()
        http = ctx.client(headers=profile.headers, hooks=self.flight.hooks)
        self.links = TrackedLinks(ctx)
        self.clock = CheckClock()
        self.directory = EntraDirectory(people)
        if settings is None and ctx.endpoint.target.app is None:
            settings = EntraSettings(concurrency="threads")  # real threads over the network (docs/entra-idp.md §3.5)
        self.emulator = EntraEmulator(
            self.directory, http, profile, settings=settings, scoping=scoping, links=self.links, clock=self.clock
        )

    def cycle(self, what: str) -> CycleReport:
        """Run the next cycle (the first one starts the job) and expect no failure in its log
        (docs/entra-idp.md §6-§7)."""
        running = self.emulator.state.running
        report = self.emulator.run_cycle() if running else self.emulator.start()
        failed = [entry for entry in report.entries if entry.outcome is Outcome.FAILURE]
        if failed or report.quarantine is not None:
            self.flight.raise_if_unanswered()
            detail = [str(entry) for entry in failed[:3]]
            if report.quarantine is not None:
                detail.append(f"quarantine {report.quarantine.reason}: {report.quarantine.detail}")
            self.ctx.fail(
                f"Entra's {report.kind} cycle ({what}) logged failures",
                expected="no failure in the provisioning log",
                actual="; ".join(detail),
            )
        return report

    def user_id(self, user: User) -> str:
        scim_id = self.links.scim_id("user", user.id)
        self.ctx.expect(scim_id, f"Entra holds no SCIM id for {user.login}", expected="a linked id", actual="none")
        return str(scim_id)

    def group_id(self, group: Group) -> str:
        scim_id = self.links.scim_id("group", group.id)
        self.ctx.expect(scim_id, f"Entra holds no SCIM id for {group.name}", expected="a linked id", actual="none")
        return str(scim_id)


class Console:
    """Any registered IdP's admin console against the check's target (emulators/core/console.py)."""

    def __init__(self, ctx: CheckContext, spec: IdpSpec, people: Directory, profile: str | None = None) -> None:
        self.ctx = ctx
        self.spec = spec
        chosen = spec.profile(profile)
        self.flight = InFlight()
        http = ctx.client(headers=chosen.headers, hooks=self.flight.hooks)
        setup = ConsoleSetup(people, http, chosen, CheckClock(), links=TrackedLinks(ctx))
        self.console = spec.console(setup)

    def expect_done(self, what: str) -> None:
        """Nothing the IdP sent is left failed: a failure is the server refusing the IdP's request."""
        failures = self.console.unresolved_failures()
        if failures:
            self.flight.raise_if_unanswered()
            self.ctx.fail(
                f"{self.spec.label} could not {what}",
                expected="nothing left failed or unsent",
                actual="; ".join(failures[:3]),
            )


def okta_scim(ctx: CheckContext, profile: OktaProfile = OKTA_OIN) -> ScimClient:
    """Single requests exactly as Okta sends them: header set, body Content-Type, ``%20`` queries
    (docs/okta-idp.md §2)."""
    http = ctx.client(headers=profile.headers)
    return ScimClient(http, headers=profile.headers, body_headers=profile.body_headers, space=profile.query_space)


def entra_scim(ctx: CheckContext, profile: EntraProfile = ENTRA_DEFAULT) -> ScimClient:
    """Single requests exactly as Entra sends them: its headers and form-encoded queries (docs/entra-idp.md §1-§2)."""
    http = ctx.client(headers=profile.headers)
    return ScimClient(http, headers=profile.headers, body_headers=profile.body_headers, space=profile.query_space)


# -- reading the run's state back -------------------------------------------------------------------------------


def run_resources(ctx: CheckContext, endpoint: str, attribute: str, prefix: str | None = None) -> list[dict[str, Any]]:
    """Every resource whose ``attribute`` starts with ``prefix`` (default: the run id), read page by page: by
    cursor when the server advertises it (RFC 9865 §4), by index otherwise."""
    flt = eq_filter(attribute, prefix or ctx.run_id).replace(" eq ", " sw ", 1)
    by_cursor = paging.cursor_advertised(ctx.capabilities.document)
    return list(paging.walk(lambda query: ctx.search(endpoint, flt, **dict(query)), by_cursor=by_cursor))


# -- throttling -------------------------------------------------------------------------------------------------


def burst(ctx: CheckContext, scim: ScimClient, query: Sequence[tuple[str, str | int]]) -> httpx.Response:
    """Up to THROTTLE_BURST quick GETs of /Users, BURST_WAVE at once: the first 429, or SKIP when the server never
    throttles. Waves, since the throttling checks run alone (exclusive): 50 GETs one by one would hold up the
    whole run for 50 round trips."""
    with ThreadPoolExecutor(max_workers=BURST_WAVE, thread_name_prefix="aup-burst") as pool:
        for _ in range(0, THROTTLE_BURST, BURST_WAVE):
            wave = list(pool.map(lambda _: scim.get("/Users", query), range(BURST_WAVE)))
            throttled = [response for response in wave if response.status_code == 429]
            if throttled:
                return throttled[0]
    raise CheckSkipped(
        f"no 429 in a burst of {THROTTLE_BURST} GETs: the server did not throttle, so its 429 cannot be judged"
    )


def retry_after_seconds(value: str) -> float | None:
    """Retry-After as seconds: an integer, or an HTTP-date (RFC 9110 §10.2.3); None when unreadable."""
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def recover(ctx: CheckContext, seconds: float | None) -> None:
    """Let the server's budget refill a little (bounded), so the checks after a throttling check are not 429ed."""
    wait = min(seconds or 0.0, RECOVERY_WAIT)
    if wait > 0:
        ctx.note(f"waited {wait:g} s after the 429 for the rate limit to recover")
        time.sleep(wait)
