"""The okta, entra and sync suites beyond the self-proof: throttling judged against a rate-limited server,
network faults inside emulator flows, divergence reports, the IdPs' own wire shapes in evidence, --keep,
and the pure helpers (expected-state differences, Retry-After, the check clock)."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.store import Store
from conformance import Status, Target, run, select
from conformance.idp import CheckClock, retry_after_seconds
from conformance.model import CheckSkipped
from conformance.runner import Runner
from emulators.core.expected import ExpectedGroup, ExpectedState, ExpectedUser, differences
from emulators.core.mapping import TargetPath
from scimcore.client import IN_PROCESS_SCIM_URL, ScimClient, make_http
from scimcore.target import Bearer
from tests.conformance.breakers_idp import BREAKERS, NEEDS_THROTTLING
from tests.conformance.faulty import Faulty, State

BASE = IN_PROCESS_SCIM_URL


def _broken(app: Any, token: str, check_id: str) -> Target:
    return Target(BASE, Bearer(token), app=Faulty(app, BREAKERS[check_id], State(token, {"app": app})))


# -- throttling -------------------------------------------------------------------------------------------------


def test_throttling_checks_pass_against_a_rate_limited_reference_server(make_store: Callable[..., Store]) -> None:
    store = make_store()
    try:
        config = {"rate_limit_per_minute": 600, "rate_limit_burst": 10}
        app, token = create_app(config, store=store), issue_token(store, "throttled")
        started = time.perf_counter()
        outcome = run(select(ids=sorted(NEEDS_THROTTLING)), Target(BASE, Bearer(token), app=app))
        elapsed = time.perf_counter() - started
    finally:
        store.close()
    assert {r.check.id: r.status for r in outcome.results} == dict.fromkeys(NEEDS_THROTTLING, Status.PASS)
    # each check waited out the server's Retry-After (1 s here), so the next one was not throttled from the start
    assert all(any("waited 1 s" in note for note in r.notes) for r in outcome.results)
    assert elapsed < 10


def test_throttling_checks_skip_with_the_reason_when_the_server_never_throttles(reference: tuple[Any, str]) -> None:
    app, token = reference
    outcome = run(select(ids=sorted(NEEDS_THROTTLING)), Target(BASE, Bearer(token), app=app))
    assert {r.status for r in outcome.results} == {Status.SKIP}
    assert all("did not throttle" in r.reason for r in outcome.results)


def test_a_bare_429_warns_and_names_the_missing_retry_after(reference: tuple[Any, str]) -> None:
    app, token = reference
    outcome = run(select(ids=["okta-429-retry-after"]), _broken(app, token, "okta-429-retry-after"))
    result = outcome.results[0]
    assert result.status is Status.WARN
    assert "Retry-After" in result.reason and result.actual == "Retry-After: none"


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    assert retry_after_seconds("7") == 7.0
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    seconds = retry_after_seconds(later)
    assert seconds is not None and 25 <= seconds <= 31
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("") is None


def test_the_check_clock_skips_idle_time_and_refuses_waits_beyond_its_budget() -> None:
    clock = CheckClock(budget=0.05)
    before = clock.now()
    clock.advance(30 * 24 * 3600)
    assert clock.now() - before >= 30 * 24 * 3600
    clock.sleep(0.01)
    with pytest.raises(CheckSkipped, match="beyond the check's budget"):
        clock.sleep(300)


# -- emulator flows inside checks -------------------------------------------------------------------------------


def test_a_network_failure_inside_an_emulator_flow_is_an_error_not_a_failure(reference: tuple[Any, str]) -> None:
    app, token = reference
    inner = httpx.WSGITransport(app=app)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ConnectError("connection reset", request=request)
        return inner.handle_request(request)

    runner = Runner(Target(BASE, Bearer(token), app=httpx.MockTransport(handler)))
    runner.open()
    result = runner.run_one(select(ids=["okta-create-201-with-id"])[0])
    runner.close()
    assert result.status is Status.ERROR
    assert result.reason.startswith("network:")


def test_failures_carry_the_idps_own_requests_as_evidence(reference: tuple[Any, str]) -> None:
    app, token = reference
    okta = run(select(ids=["okta-deactivate-patch"]), _broken(app, token, "okta-deactivate-patch")).results[0]
    patch = next(e for e in okta.evidence if e.method == "PATCH")
    headers = dict(patch.request_headers)
    assert headers["User-Agent"] == "Okta SCIM Client 1.0.0"
    assert headers["Content-Type"] == "application/scim+json; charset=utf-8"
    assert patch.request_body["Operations"] == [{"op": "replace", "value": {"active": False}}]
    entra = run(select(ids=["entra-test-query-random-guid"]), _broken(app, token, "entra-test-query-random-guid"))
    query = entra.results[0].evidence[0].url
    assert "filter=userName+eq+%22" in query  # form-encoded, as Entra sends it (docs/entra-idp.md §2)


def test_a_sync_failure_counts_every_divergence_and_lists_a_few(reference: tuple[Any, str]) -> None:
    app, token = reference
    cid = "sync-okta-initial-provisioning"
    result = run(select(ids=[cid]), _broken(app, token, cid)).results[0]
    assert result.status is Status.FAIL
    assert "differs from the expected state of the directory in 9 place(s)" in result.reason
    listed = result.actual.split("; ")
    assert len(listed) == 5 and listed[-1].endswith("(+4 more)")
    assert all("name.familyName is None" in item for item in listed)


def test_keep_leaves_what_the_emulators_created_for_debugging(reference: tuple[Any, str]) -> None:
    app, token = reference
    outcome = run(select(ids=["sync-entra-initial-cycle"]), Target(BASE, Bearer(token), app=app), keep=True)
    assert outcome.results[0].status is Status.PASS
    with make_http(app, None, base_url=BASE, headers=[("Authorization", f"Bearer {token}")]) as http:
        scim = ScimClient(http)
        users = scim.get("/Users", [("filter", f'userName sw "{outcome.run_id}"')]).json()
        groups = scim.get("/Groups", [("filter", f'displayName sw "{outcome.run_id}"')]).json()
    assert users["totalResults"] >= 8 and groups["totalResults"] == 1


# -- the expected-state oracle --------------------------------------------------------------------------------------


def test_differences_names_each_kind_of_divergence() -> None:
    given = TargetPath("name", sub="givenName")
    expected = ExpectedState(
        users={
            "ann@x": ExpectedUser("ann@x", "active", ((given, "Ann"),)),
            "ben@x": ExpectedUser("ben@x", "inactive"),
            "cat@x": ExpectedUser("cat@x", "active"),
        },
        groups={"eng": ExpectedGroup("eng", frozenset({"ann@x", "cat@x"}), frozenset({"ann@x", "cat@x"}))},
    )
    users = [
        {"id": "1", "userName": "ANN@x", "active": True, "name": {"givenName": "Anne"}},
        {"id": "2", "userName": "ben@x", "active": True},
        {"id": "4", "userName": "dan@x", "active": True},
    ]
    groups = [{"displayName": "eng", "members": [{"value": "1"}, {"value": "4"}]}]
    assert differences(expected, users, groups, absent=["dan@x"]) == [
        "user dan@x: should be gone, but the server still has it",
        "user ann@x: name.givenName is 'Anne', expected 'Ann'",
        "user ben@x: should be inactive or gone, but the server has it active",
        "user cat@x: expected once, active; the server has 0",
        "group eng: members ['cat@x'] are missing",
        "group eng: members ['dan@x'] should not be there",
    ]


def test_differences_is_empty_when_the_server_holds_the_expected_state() -> None:
    expected = ExpectedState(
        users={"ann@x": ExpectedUser("ann@x", "active", ((TargetPath("active"), "True"),))},
        groups={"eng": ExpectedGroup("eng", frozenset({"ann@x"}), frozenset({"ann@x"}))},
    )
    users = [{"id": "1", "userName": "ann@x", "active": True}, {"id": "2", "userName": "old@x", "active": False}]
    groups = [{"displayName": "eng", "members": [{"value": "1"}, {"value": "2"}]}]
    group = expected.groups["eng"]
    assert differences(expected, users, groups) == ["group eng: members ['old@x'] should not be there"]
    expected.groups["eng"] = ExpectedGroup(group.name, group.required, group.allowed, inactive_may_linger=True)
    assert differences(expected, users, groups) == []
