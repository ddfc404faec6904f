"""The IdP emulators against the reference server behind a FaultTransport: they wait, fail, retry and converge.

Okta (docs/okta-idp.md §8): the 429 algorithm on the fake clock, failed tasks kept and retried.
Entra (docs/entra-idp.md §7): 429 waited out and retried next cycle, escrow on the quarantine schedule,
quarantine past the thresholds. Once the faults stop, the server holds what a fault-free run leaves:
no change lost, no duplicate. Nothing sleeps: waits and slow answers move a FakeClock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from flask import Flask

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.store import SqliteStore, Store
from emulators.core.clock import FakeClock
from emulators.core.directory import Directory
from emulators.core.generator import generate_directory
from emulators.entra import ENTRA_DEFAULT, EntraEmulator, EntraSettings, QuarantinePolicy
from emulators.okta import OKTA_OIN, OktaEmulator, TaskStatus
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL, BearerAuth, Wiretap, make_http
from scimcore.faults import Fault, FaultKind, FaultTransport, Match, Plan, Rule, Script, Seeded
from scimcore.schemas import POSIX_USER_URN
from tests.integration.test_entra_server import people

BASE_URL = IN_PROCESS_SCIM_URL
HOUR = 3600.0
# Every SCIM call but Okta's connection test (GET /Users?startIndex=1&count=2), which would stop sync_all early.
RESOURCE_CALLS = r"/(Users|Groups)(/|\?filter=|$)"
EVERY_FAULT = [
    Fault.server_error(500),
    Fault.server_error(503),
    Fault.rate_limited(2),
    Fault.rate_limited(),
    Fault.timeout(),
    Fault.reply_lost(),
    Fault.dropped(),
    Fault.slow(5),
    Fault.slow(90),  # past the 60 s read timeout: applied, reply lost
]
FIGURES: Counter[str] = Counter()


@dataclass
class Server:
    """One in-process reference server and an admin client for reading its state."""

    app: Flask
    token: str
    admin: httpx.Client

    def users(self) -> list[dict[str, Any]]:
        return list(self.admin.get("/Users", params={"count": 1000}).json().get("Resources", []))

    def groups(self) -> list[dict[str, Any]]:
        return list(self.admin.get("/Groups", params={"count": 1000}).json().get("Resources", []))

    def state(self) -> dict[str, Any]:
        """Users by userName and groups by name, server ids replaced by userNames, so two servers compare."""
        users = self.users()
        names = {doc["id"]: doc["userName"].lower() for doc in users}
        by_name = {}
        for full in users:
            # The POSIX extension is server-assigned like id: uids follow the order creates arrived in.
            doc = {k: v for k, v in full.items() if k not in ("id", "meta", "groups", POSIX_USER_URN)}
            manager = doc.get(urns.ENTERPRISE_USER, {}).get("manager")
            if manager:
                manager["value"] = names.get(manager["value"], manager["value"])
                manager.pop("$ref", None)
            by_name[doc["userName"].lower()] = doc
        groups = {
            doc["displayName"]: sorted(names[m["value"]] for m in doc.get("members") or ()) for doc in self.groups()
        }
        return {"users": by_name, "groups": groups}

    def duplicates(self) -> dict[str, int]:
        """userNames (case-insensitive) and group names held more than once."""
        counts = Counter(doc["userName"].lower() for doc in self.users())
        counts.update(f"group:{doc['displayName']}" for doc in self.groups())
        return {name: n for name, n in counts.items() if n > 1}


@pytest.fixture
def new_server(make_store: Callable[..., Store]) -> Iterator[Callable[[], Server]]:
    """Fresh in-process servers: one behind the faults, and a fault-free reference when a test compares."""
    made: list[tuple[Server, SqliteStore]] = []

    def new() -> Server:
        store = make_store()
        app = create_app(store=store)
        token = issue_token(store, "test")
        server = Server(app, token, make_http(app, BearerAuth(token), base_url=BASE_URL))
        made.append((server, store))
        return server

    yield new
    for server, store in made:
        server.admin.close()
        store.close()


def faulty_http(
    server: Server, plan: Plan | None, clock: FakeClock, headers: Any = None
) -> tuple[httpx.Client, FaultTransport, Wiretap]:
    transport = FaultTransport(httpx.WSGITransport(app=server.app), plan, clock=clock)
    tap = Wiretap()
    http = make_http(transport, BearerAuth(server.token), base_url=BASE_URL, hooks=tap.hooks, headers=headers)
    return http, transport, tap


def record(transport: FaultTransport, losses: int, duplicates: int) -> None:
    FIGURES["requests sent"] += transport.sent
    FIGURES.update({f"injected {kind}": n for kind, n in transport.injected.items()})
    FIGURES["losses"] += losses
    FIGURES["duplicates"] += duplicates


def creates_by_user_name(tap: Wiretap) -> Counter[str]:
    """201 answers to POST /Users per userName: a client that re-POSTs after a lost reply shows a 409 or a 2."""
    created: Counter[str] = Counter()
    for exchange in tap.exchanges:
        if exchange.method == "POST" and exchange.url.endswith("/Users"):
            assert exchange.status != 409, f"a create was repeated: {exchange.response_body}"
            if exchange.status == 201:
                created[str(exchange.request_body["userName"]).lower()] += 1  # type: ignore[index]
    return created


def okta_for(server: Server, directory: Directory, plan: Plan | None, clock: FakeClock) -> tuple[OktaEmulator, ...]:
    http, transport, tap = faulty_http(server, plan, clock)
    return OktaEmulator(directory, http, OKTA_OIN, clock=clock), transport, tap  # type: ignore[return-value]


# -- Okta (docs/okta-idp.md §8) ---------------------------------------------------------------------


def test_okta_429_with_retry_after_waits_that_long_then_doubles(new_server: Callable[[], Server]) -> None:
    server, clock = new_server(), FakeClock()
    plan = Script([Rule(Fault.rate_limited(3), Match("POST", r"/Users$"), times=3)])
    okta, transport, _ = okta_for(server, generate_directory(1, 0, seed=1), plan, clock)
    [user] = okta.directory.users
    [task] = okta.assign_user(user)
    assert task.status is TaskStatus.DONE and task.rate_limit_waits == [3.0, 6.0, 12.0] == clock.sleeps
    assert len(server.users()) == 1 and transport.injected == {FaultKind.RATE_LIMITED: 3}
    record(transport, 0, len(server.duplicates()))


def test_okta_429_without_retry_after_waits_5_minutes_doubling_and_fails_after_10_tries(
    new_server: Callable[[], Server],
) -> None:
    server, clock = new_server(), FakeClock()
    plan = Script([Rule(Fault.rate_limited(), Match("POST", r"/Users$"), times=None)])
    okta, transport, _ = okta_for(server, generate_directory(1, 0, seed=1), plan, clock)
    [user] = okta.directory.users
    [task] = okta.assign_user(user)
    assert task.status is TaskStatus.FAILED and "after 10 attempts" in task.error
    assert task.rate_limit_waits == [300.0 * 2**n for n in range(9)] == clock.sleeps
    assert transport.injected[FaultKind.RATE_LIMITED] == 10 and server.users() == []
    transport.plan = None
    assert [t.status for t in okta.retry_failed()] == [TaskStatus.DONE]
    assert len(server.users()) == 1
    record(transport, 0, len(server.duplicates()))


def test_okta_lost_create_reply_is_looked_up_on_retry_and_never_created_twice(new_server: Callable[[], Server]) -> None:
    server, clock = new_server(), FakeClock()
    plan = Script([Rule(Fault.reply_lost(), Match("POST", r"/Users$"))])
    okta, transport, tap = okta_for(server, generate_directory(1, 0, seed=1), plan, clock)
    [user] = okta.directory.users
    [task] = okta.assign_user(user)
    assert task.status is TaskStatus.FAILED and "reply was lost" in task.error
    assert len(server.users()) == 1, "the server applied the create"
    tap.clear()
    okta.retry(task.id)
    assert task.status is TaskStatus.DONE
    methods = [(e.method, e.status) for e in tap.exchanges]
    assert methods == [("GET", 200), ("GET", 200), ("PUT", 200)], "lookup finds it: link and update, no POST"
    assert okta.links.scim_id("user", user) == server.users()[0]["id"]
    record(transport, 0, len(server.duplicates()))


def faulted_okta_sync(new_server: Callable[[], Server]) -> tuple[OktaEmulator, FaultTransport, Server, Server]:
    """sync_all of a generated directory under seeded faults, then retry_failed once the faults stop;
    and the same directory synced to a second server without faults."""
    faulted, reference = new_server(), new_server()
    plan = Seeded(EVERY_FAULT, 0.15, seed=8, match=Match(path=RESOURCE_CALLS))
    okta, transport, tap = okta_for(faulted, generate_directory(60, 4, seed=3, case_duplicates=0), plan, FakeClock())
    tasks = okta.sync_all()
    failed = [t for t in tasks if t.status is TaskStatus.FAILED]
    assert failed and [t.id for t in okta.tasks.failed()] == [t.id for t in failed], "failed tasks are kept"
    transport.plan = None
    assert [t.error for t in okta.retry_failed() if t.status is not TaskStatus.DONE] == []
    assert max(creates_by_user_name(tap).values()) == 1
    clean, _, _ = okta_for(reference, generate_directory(60, 4, seed=3, case_duplicates=0), None, FakeClock())
    assert all(t.status is TaskStatus.DONE for t in clean.sync_all())
    return okta, transport, faulted, reference


def test_okta_faulted_sync_then_retry_failed_alone_equals_a_fault_free_sync(new_server: Callable[[], Server]) -> None:
    _, _, faulted, reference = faulted_okta_sync(new_server)
    assert _differences(reference.state(), faulted.state()) == []


def test_okta_faulted_sync_then_retry_failed_and_push_now_equals_a_fault_free_sync(
    new_server: Callable[[], Server],
) -> None:
    okta, transport, faulted, reference = faulted_okta_sync(new_server)
    users_lost = _differences(reference.state(), faulted.state())
    assert all(line.startswith("groups ") for line in users_lost), "every user and attribute arrived"
    for group_id, active in okta.directory.app.push_groups.items():
        assert active and okta.push_now(group_id)[0].status is TaskStatus.DONE
    losses = _differences(reference.state(), faulted.state())
    record(transport, len(losses), len(faulted.duplicates()))
    assert losses == [] and faulted.duplicates() == {}
    assert sum(transport.injected.values()) >= 15 and len(transport.injected) >= 4


def test_okta_lost_group_create_reply_is_found_on_retry_and_linked_not_duplicated(
    new_server: Callable[[], Server],
) -> None:
    """The retry looks the name up first (§7) and stops with "link it instead"; Link Group then converges."""
    server = new_server()
    directory = generate_directory(3, 2, seed=4, case_duplicates=0)
    plan = Script([Rule(Fault.reply_lost(), Match("POST", r"/Groups$"))])
    okta, transport, _ = okta_for(server, directory, plan, FakeClock())
    okta.sync_all()
    [task] = okta.tasks.failed()
    assert task.action == "create_push_group" and len(server.groups()) == 1
    okta.retry(task.id)
    assert task.status is TaskStatus.FAILED and "link it instead" in task.error
    [group_id] = task.args
    okta.settings = replace(okta.settings, import_groups=True)
    okta.import_users()  # Link Group offers the app groups Okta imported (docs/okta-idp.md §7)
    assert okta.push_group(group_id, link_to=server.groups()[0]["id"])[0].status is TaskStatus.DONE
    assert server.duplicates() == {} and len(server.groups()) == 1
    record(transport, 0, len(server.duplicates()))


def _differences(
    expected: dict[str, Any], got: dict[str, Any], kinds: tuple[str, ...] = ("users", "groups")
) -> list[str]:
    """What the faulted server lacks or holds differently, object by object."""
    found = []
    for kind in kinds:
        for name in sorted(set(expected[kind]) | set(got[kind])):
            if expected[kind].get(name) != got[kind].get(name):
                found.append(f"{kind} {name}: expected {expected[kind].get(name)!r}, got {got[kind].get(name)!r}")
    return found


# -- Entra (docs/entra-idp.md §7) -------------------------------------------------------------------


def entra_for(
    server: Server, plan: Plan | None, clock: FakeClock, **kwargs: Any
) -> tuple[EntraEmulator, FaultTransport, Wiretap]:
    http, transport, tap = faulty_http(server, plan, clock, headers=ENTRA_DEFAULT.headers)
    return EntraEmulator(people(), http, ENTRA_DEFAULT, clock=clock, **kwargs), transport, tap


def entra_reference(new_server: Callable[[], Server]) -> dict[str, Any]:
    """What a fault-free initial cycle leaves on a server."""
    reference = new_server()
    entra, _, _ = entra_for(reference, None, FakeClock())
    assert entra.start().kind == "initial" and entra.log.failures() == []
    return reference.state()


def run_until(entra: EntraEmulator, done: Callable[[], bool], limit: int = 200) -> None:
    for _ in range(limit):
        if done():
            return
        entra.run_cycle()
    raise AssertionError(f"not done after {limit} cycles")


def test_entra_429_is_waited_out_with_backoff_then_retried_next_cycle_never_dropped(
    new_server: Callable[[], Server],
) -> None:
    server, clock = new_server(), FakeClock()
    plan = Script([Rule(Fault.rate_limited(), Match("POST", r"/Users$"), times=5)])
    entra, transport, _ = entra_for(server, plan, clock)
    report = entra.start()
    assert clock.sleeps == [60.0, 120.0, 240.0, 480.0], "ENTRA_RATE_LIMIT: 60 s, doubling, 5 attempts"
    [failure] = [e for e in report.entries if e.outcome == "Failure"]
    assert failure.code == "TooManyRequests"
    escrow = entra.state.escrows[("user", failure.source_id)]
    assert escrow.never_drop and escrow.next_retry <= clock.now()
    started = clock.now()
    report = entra.run_cycle()
    assert report.started - started == pytest.approx(40 * 60.0)
    assert ("user", failure.source_id) not in entra.state.escrows
    assert _differences(entra_reference(new_server), server.state(), ("users",)) == []
    assert server.duplicates() == {}
    record(transport, 0, len(server.duplicates()))


def test_entra_5xx_and_timeouts_escrow_on_the_6_12_24_hour_schedule_then_converge(
    new_server: Callable[[], Server],
) -> None:
    server, clock = new_server(), FakeClock()
    plan = Script(
        [
            Rule(Fault.timeout(), Match("POST", r"/Users$")),
            Rule(Fault.server_error(500), Match("POST", r"/Users$"), times=None),
        ]
    )
    entra, transport, _ = entra_for(server, plan, clock)
    t0 = clock.now()
    report = entra.start()
    codes = sorted(e.code for e in report.entries if e.outcome == "Failure")
    assert codes == ["InternalServerError", "InternalServerError", "Timeout"]
    retried_at: list[float] = []

    def three_retries() -> bool:
        return len(retried_at) == 3

    attempts = transport.injected[FaultKind.SERVER_ERROR]
    for _ in range(60):
        entra.run_cycle()
        if transport.injected[FaultKind.SERVER_ERROR] > attempts:
            retried_at.append((clock.now() - t0) / HOUR)
            attempts = transport.injected[FaultKind.SERVER_ERROR]
        if three_retries():
            break
    assert retried_at == pytest.approx([6.0, 12.0, 24.0], abs=0.67), "first tick at or after each due time"
    assert len(entra.state.escrows) == 3 and entra.quarantine is None, "3 of 4 objects is under 5,000 failures"
    transport.plan = None
    run_until(entra, lambda: not entra.state.escrows)
    assert (clock.now() - t0) / HOUR == pytest.approx(48.0, abs=0.67)
    losses = _differences(entra_reference(new_server), server.state(), ("users",))
    record(transport, len(losses), len(server.duplicates()))
    assert losses == [] and server.duplicates() == {}


def test_entra_escrows_over_the_threshold_quarantine_the_job_which_recovers(
    new_server: Callable[[], Server],
) -> None:
    """Thresholds lowered as data (§7: from 5,000 failures, >40 %) so three users of four objects cross them."""
    server, clock = new_server(), FakeClock()
    policy = QuarantinePolicy(evaluate_from=3, proportion=0.4)
    plan = Script([Rule(Fault.dropped(), Match("POST", r"/Users$"), times=None)])
    entra, transport, _ = entra_for(server, plan, clock, settings=EntraSettings(quarantine=policy))
    entra.start()
    assert entra.quarantine is not None and entra.quarantine.reason == "EncounteredEscrowProportionThreshold"
    started = clock.now()
    assert entra.run_cycle().started - started == pytest.approx(24 * HOUR), "quarantined cycles run daily"
    transport.plan = None
    run_until(entra, lambda: not entra.state.escrows)
    assert entra.quarantine is None
    losses = _differences(entra_reference(new_server), server.state(), ("users",))
    record(transport, len(losses), len(server.duplicates()))
    assert losses == [] and server.duplicates() == {}


def test_entra_global_failure_quarantines_at_once_and_the_next_good_cycle_recovers(
    new_server: Callable[[], Server],
) -> None:
    server, clock = new_server(), FakeClock()
    plan = Script([Rule(Fault.server_error(503), times=None)])
    entra, transport, _ = entra_for(server, plan, clock)
    assert entra.start().kind == "quarantined" and server.users() == []
    transport.plan = None
    assert entra.run_cycle().kind == "initial" and entra.quarantine is None
    assert server.state() == entra_reference(new_server)
    record(transport, 0, len(server.duplicates()))


def test_entra_lost_create_reply_is_matched_on_retry_and_never_created_twice(new_server: Callable[[], Server]) -> None:
    server, clock = new_server(), FakeClock()
    plan = Script([Rule(Fault.reply_lost(), Match("POST", r"/Users$"))])
    entra, transport, tap = entra_for(server, plan, clock)
    report = entra.start()
    [failure] = [e for e in report.entries if e.outcome == "Failure"]
    assert failure.code == "Timeout" and len(server.users()) == 3, "the server applied the create"
    run_until(entra, lambda: not entra.state.escrows)
    assert max(creates_by_user_name(tap).values()) == 1, "no userName created twice, no 409"
    retry = [e for e in entra.log.for_object(failure.source_id) if e.outcome == "Success"]
    assert [e.action for e in retry][:1] == ["Update"], "matched by userName and linked, not created"
    losses = _differences(entra_reference(new_server), server.state(), ("users",))
    record(transport, len(losses), len(server.duplicates()))
    assert losses == [] and server.duplicates() == {}


def test_entra_group_memberships_arrive_once_escrowed_members_are_created(new_server: Callable[[], Server]) -> None:
    server, clock = new_server(), FakeClock()
    plan = Script([Rule(Fault.server_error(), Match("POST", r"/Users$"))])
    entra, transport, _ = entra_for(server, plan, clock)
    entra.start()
    transport.plan = None
    run_until(entra, lambda: not entra.state.escrows)
    entra.run_cycles(3)
    assert _differences(entra_reference(new_server), server.state(), ("groups",)) == []
