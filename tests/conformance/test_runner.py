"""The runner's statuses: capability skips, ERROR for network and harness faults (never FAIL), cleanup and sweep."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest

from conformance import Status, Target, run, select
from conformance.context import CheckContext
from conformance.model import Check, Level
from conformance.runner import Runner
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.target import Bearer
from tests.conformance.faulty import Faulty, State, edit_json

BASE = IN_PROCESS_SCIM_URL


def _custom(fn: object, *, requires: frozenset[str] = frozenset()) -> Check:
    return Check(
        id="custom-check",
        title="custom",
        level=Level.MUST,
        suite="custom",
        ref="test",
        fn=fn,  # type: ignore[arg-type]
        requires=requires,
    )


def test_checks_needing_an_unadvertised_capability_are_skipped_with_the_reason(reference: tuple[Any, str]) -> None:
    app, token = reference

    def no_patch(body: dict[str, object]) -> None:
        body["patch"] = {"supported": False}

    faulty = Faulty(app, edit_json("GET", r"/ServiceProviderConfig$", no_patch), State(token=token))
    outcome = run(select(["rfc"], include=["patch"]), Target(BASE, Bearer(token), app=faulty))
    assert outcome.results and all(result.status is Status.SKIP for result in outcome.results)
    assert all("does not advertise patch" in result.reason for result in outcome.results)


def test_a_network_failure_during_a_check_is_an_error_not_a_failure(reference: tuple[Any, str]) -> None:
    app, token = reference
    inner = httpx.WSGITransport(app=app)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ConnectError("connection reset", request=request)
        return inner.handle_request(request)

    runner = Runner(Target(BASE, Bearer(token)))
    runner.http.close()  # the same runner, over a transport whose POSTs never arrive
    runner.http = httpx.Client(
        base_url=BASE,
        transport=httpx.MockTransport(handler),
        headers={"Authorization": f"Bearer {token}"},
        event_hooks=runner.wiretap.hooks,
    )
    runner.open()
    result = runner.run_one(select(ids=["rfc7644-3.3-create-user"])[0])
    runner.close()
    assert result.status is Status.ERROR
    assert result.reason.startswith("network: ConnectError")


def test_a_defect_in_a_check_is_a_harness_error(reference: tuple[Any, str]) -> None:
    app, token = reference

    def broken(ctx: CheckContext) -> None:
        {}["missing"]

    outcome = run([_custom(broken)], Target(BASE, Bearer(token), app=app))
    result = outcome.results[0]
    assert result.status is Status.ERROR
    assert result.reason.startswith("harness: KeyError")


@pytest.mark.parametrize("keep", [False, True])
def test_created_data_is_removed_unless_keep(keep: bool, reference: tuple[Any, str]) -> None:
    app, token = reference
    created: list[str] = []

    def makes_data(ctx: CheckContext) -> None:
        created.append(ctx.create_user()["userName"])
        ctx.create_group()

    outcome = run([_custom(makes_data)], Target(BASE, Bearer(token), app=app), keep=keep)
    assert outcome.results[0].status is Status.PASS
    client = httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url=BASE, headers={"Authorization": f"Bearer {token}"}
    )
    users = client.get("/Users").json()["totalResults"]
    groups = client.get("/Groups").json()["totalResults"]
    assert (users, groups) == ((1, 1) if keep else (0, 0))
    assert created[0].startswith(outcome.run_id)


def test_the_sweep_removes_what_a_check_did_not_track(reference: tuple[Any, str]) -> None:
    app, token = reference

    def leaks(ctx: CheckContext) -> None:
        response = ctx.scim.post("/Users", ctx.user_body())
        assert response.status_code == 201  # created without ctx.track: only the sweep can find it

    outcome = run([_custom(leaks)], Target(BASE, Bearer(token), app=app))
    assert any("swept 1 resource" in note for note in outcome.notes)
    client = httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url=BASE, headers={"Authorization": f"Bearer {token}"}
    )
    assert client.get("/Users").json()["totalResults"] == 0


def test_keep_leaves_every_checks_data_without_collisions_between_checks(reference: tuple[Any, str]) -> None:
    """Names are numbered across the run, so what one check keeps never collides with the next one's data."""
    app, token = reference
    checks = select(["rfc"], include=["crud"])
    outcome = run(checks, Target(BASE, Bearer(token), app=app), keep=True)
    assert [r.check.id for r in outcome.results if r.status is not Status.PASS] == []
    client = httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url=BASE, headers={"Authorization": f"Bearer {token}"}
    )
    assert client.get("/Users").json()["totalResults"] > 1


def test_posix_checks_skip_with_the_reason_on_a_server_without_the_extension() -> None:
    from aup_server.app import create_app
    from aup_server.auth import issue_token
    from aup_server.config import ServerConfig
    from aup_server.store import open_store

    store = open_store(ServerConfig())
    try:
        app = create_app({"posix": False}, store=store)
        outcome = run(select(["posix"]), Target(BASE, Bearer(issue_token(store, "t")), app=app))
    finally:
        store.close()
    assert outcome.results and all(result.status is Status.SKIP for result in outcome.results)
    assert all("does not advertise the POSIX extension" in result.reason for result in outcome.results)


def test_every_client_of_a_run_shares_one_tls_context() -> None:
    """httpx loads the CA bundle into a new TLS context per client (about 25 ms of CPU): a run makes one."""
    url = "https://127.0.0.1:9/scim/v2"
    runners = [Runner(Target(url, Bearer("t")))]
    try:
        shared = runners[0].target.verify
        assert isinstance(shared, ssl.SSLContext) and shared.verify_mode is ssl.CERT_REQUIRED
        assert runners[0].endpoint.target.verify is shared  # every client of the run is made from it
        for verify in (False, ssl.create_default_context()):  # a setting the caller chose is kept as given
            runners.append(Runner(Target(url, Bearer("t"), verify=verify)))
            assert runners[-1].target.verify is verify
    finally:
        for runner in runners:
            runner.http.close()
