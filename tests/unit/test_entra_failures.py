"""Failures on the virtual clock: escrow schedule, 429, timeouts, quarantine, accidental deletions (§3.3, §7),
and authentication against a real in-process token endpoint (§1)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import httpx
import pytest

from emulators.core.clock import FakeClock
from emulators.entra import ENTRA_DEFAULT, EntraSettings, QuarantinePolicy, split_tenant_url
from emulators.entra.auth import ClientCredentialsAuth, TokenEndpointError, make_entra_http
from tests.unit.entra_setup import MANAGER, TUT_USER, EntraFake, make_entra
from tests.unit.scim_fake import empty_list, error_response

HOUR = 3600.0


def test_failed_object_is_escrowed_and_retried_at_6_12_24_hours_then_daily() -> None:
    """§7 (documented): the documented schedule; other objects keep cycling every 40 minutes."""
    clock = FakeClock()
    entra, fake = make_entra(clock=clock)
    fake.scripted = [empty_list(), empty_list(), empty_list(), error_response(500, "boom")]
    t0 = clock.now()
    report = entra.start()
    assert [(e.source_id, e.code) for e in report.entries if e.outcome == "Failure"] == [
        (TUT_USER, "InternalServerError")
    ]
    retried_at = []
    for _ in range(80):
        fake.scripted = [empty_list(), empty_list(), empty_list(), error_response(500, "boom")]
        cycle = entra.run_cycle()
        if any(e.source_id == TUT_USER for e in cycle.entries):
            retried_at.append((cycle.started - t0) / HOUR)
        if len(retried_at) == 4:
            break
    # cycles land on 40-minute ticks: the first tick at or after each due time
    assert retried_at == pytest.approx([6.0, 12.0, 24.0, 48.0], abs=0.67)


def test_escrow_is_dropped_after_28_days() -> None:
    clock = FakeClock()
    entra, fake = make_entra(clock=clock, settings=EntraSettings(accidental_deletion_threshold=None))
    fake.scripted = [empty_list(), empty_list(), empty_list(), error_response(500, "boom")]
    entra.start()
    fake.scripted = []
    key = ("user", TUT_USER)
    entra.state.escrows[key].next_retry = clock.now()
    clock.advance(28 * 24 * HOUR)
    entra.state.next_cycle_at = clock.now()
    report = entra.run_cycle()
    assert [(e.source_id, e.code) for e in report.entries] == [(TUT_USER, "EscrowDropped")]
    assert key not in entra.state.escrows


def test_429_is_waited_out_on_the_clock_and_never_dropped() -> None:
    """§7: Retry-After honoured; when 429 persists the object is retried next cycle, not escrowed for hours."""
    clock = FakeClock()
    entra, fake = make_entra(clock=clock)
    busy = httpx.Response(429, headers={"Retry-After": "7"})
    fake.scripted = [empty_list(), empty_list(), empty_list(), busy, busy, busy, busy, busy]
    report = entra.start()
    assert clock.sleeps[:4] == [7.0, 14.0, 28.0, 56.0]
    assert [e.code for e in report.entries if e.outcome == "Failure"] == ["TooManyRequests"]
    fake.requests.clear()
    report = entra.run_cycle()
    assert [(e.source_id, e.action, e.outcome) for e in report.entries] == [(TUT_USER, "Create", "Success")]


def test_a_timeout_is_logged_as_timeout_and_escrowed() -> None:
    fake = EntraFake()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ReadTimeout("no answer", request=request)
        return fake.handle(request)

    entra, _ = make_entra(fake=fake)
    entra.ctx.session.scim.http._transport = httpx.MockTransport(handler)
    report = entra.start()
    assert {e.code for e in report.entries if e.outcome == "Failure"} == {"Timeout"}
    assert set(entra.state.escrows) == {("user", TUT_USER), ("user", MANAGER)}


def test_failed_probe_quarantines_cycles_slow_to_daily_and_recover() -> None:
    """§7: a global failure quarantines at once; cycles run daily; the next good cycle recovers."""
    clock = FakeClock()
    entra, fake = make_entra(clock=clock)
    fake.scripted = [error_response(404, "no such filter")]
    report = entra.start()
    assert report.kind == "quarantined"
    assert entra.quarantine is not None and entra.quarantine.reason == "EncounteredQuarantineException"
    t = clock.now()
    report = entra.run_cycle()
    assert report.started - t == 24 * HOUR
    assert entra.quarantine is None and report.kind == "initial"


def test_quarantine_for_four_weeks_disables_the_job() -> None:
    clock = FakeClock()
    entra, fake = make_entra(clock=clock)
    reports = []
    for _ in range(30):
        fake.scripted = [error_response(500, "down")]
        reports.append(entra.run_cycle() if reports else entra.start())
        if reports[-1].kind == "disabled":
            break
    assert reports[-1].kind == "disabled" and entra.state.disabled
    assert len(reports) == 30 or reports[-1].started - reports[0].started >= 28 * 24 * HOUR


def test_escrow_proportion_threshold_quarantines() -> None:
    """§7 thresholds as data: lowered here so two failures of two objects cross them."""
    policy = QuarantinePolicy(evaluate_from=2, proportion=0.4, failures=40000, absolute=60000)
    entra, fake = make_entra(settings=EntraSettings(quarantine=policy))
    fake.scripted = [empty_list(), empty_list(), error_response(503, "x"), error_response(503, "y")]
    entra.start()
    assert entra.quarantine is not None and entra.quarantine.reason == "EncounteredEscrowProportionThreshold"


def test_accidental_deletions_over_the_threshold_are_staged_until_approved() -> None:
    """§3.3 (documented): deletions above the threshold are logged StagedDelete and the job quarantined."""
    entra, fake = make_entra(settings=EntraSettings(accidental_deletion_threshold=1))
    entra.start()
    entra.unassign_user(TUT_USER)
    entra.unassign_user(MANAGER)
    fake.requests.clear()
    report = entra.run_cycle()
    assert [(e.outcome, e.code) for e in report.entries] == [("Staged", "StagedDelete")] * 2
    assert not any(r.method == "PATCH" for r in fake.requests)
    assert entra.quarantine is not None
    entra.approve_staged_deletions()
    report = entra.run_cycle()
    assert [(e.action, e.outcome) for e in report.entries] == [("Disable", "Success")] * 2
    assert entra.quarantine is None


# -- authentication (§1) ----------------------------------------------------------------------------


def token_endpoint(client_id: str, secret: str, seen: list[dict[str, Any]]) -> Callable[..., Iterable[bytes]]:
    """A small OAuth 2.0 token endpoint (RFC 6749 §4.4) as a WSGI app."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
        header = environ.get("HTTP_AUTHORIZATION", "")
        seen.append({"form": form, "authorization": header})
        # RFC 6749 §2.3.1: id and secret are form-urlencoded before base64
        pair = base64.b64decode(header[6:]).decode() if header.startswith("Basic ") else ":"
        basic = [unquote_plus(part) for part in pair.split(":", 1)] == [client_id, secret]
        posted = form.get("client_id") == client_id and form.get("client_secret") == secret
        ok = form.get("grant_type") == "client_credentials" and (basic or posted)
        body = (
            {"access_token": f"tok{len(seen)}", "token_type": "Bearer", "expires_in": 21600}
            if ok
            else {"error": "invalid_client"}
        )
        start_response("200 OK" if ok else "401 Unauthorized", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    return app


@pytest.mark.parametrize("credentials_in", ["basic", "post", "both"])
def test_client_credentials_fetch_a_token_and_refresh_it_at_cycle_start(credentials_in: str) -> None:
    seen: list[dict[str, Any]] = []
    clock = FakeClock()
    token_http = httpx.Client(transport=httpx.WSGITransport(app=token_endpoint("app-1", "s e/cret", seen)))
    auth = ClientCredentialsAuth(
        token_http,
        "http://login.test/oauth2/token",
        "app-1",
        "s e/cret",
        scopes=["scim"],
        credentials_in=credentials_in,
        now=clock.now,  # type: ignore[arg-type]
    )
    fake = EntraFake()
    entra, _ = make_entra(fake=fake, clock=clock, before_cycle=auth.ensure_token)
    entra.ctx.session.scim.http.auth = auth
    entra.start()
    assert {r.headers["authorization"] for r in fake.requests} == {"Bearer tok1"}
    assert seen[0]["form"]["scope"] == "scim"
    assert ("client_secret" in seen[0]["form"]) == (credentials_in != "basic")
    assert seen[0]["authorization"].startswith("Basic ") == (credentials_in != "post")
    entra.run_cycles(2)
    assert auth.fetches == 1
    clock.advance(6 * HOUR)  # tokens live 60 min to 6 h (§1 (documented))
    entra.run_cycle()
    assert auth.fetches == 2 and fake.requests[-1].headers["authorization"] == "Bearer tok2"


def test_wrong_client_secret_fails_test_connection_and_quarantines() -> None:
    seen: list[dict[str, Any]] = []
    clock = FakeClock()
    token_http = httpx.Client(transport=httpx.WSGITransport(app=token_endpoint("app-1", "right", seen)))
    auth = ClientCredentialsAuth(token_http, "http://login.test/t", "app-1", "wrong", now=clock.now)
    entra, fake = make_entra(clock=clock, before_cycle=auth.ensure_token)
    result = entra.test_connection()
    assert not result.ok and "invalid_client" in result.detail
    with pytest.raises(TokenEndpointError):
        auth.ensure_token()
    assert entra.start().kind == "quarantined" and fake.requests == []


def test_flag_in_the_tenant_url_selects_the_dialect_and_is_stripped() -> None:
    base, flagged = split_tenant_url("https://api.example.com/scim/v2?aadOptscim062020")
    assert base == "https://api.example.com/scim/v2" and flagged is not None and flagged.name == "aadOptscim062020"
    assert split_tenant_url("https://x.test/scim/?a=1") == ("https://x.test/scim?a=1", None)
    http, flagged = make_entra_http("https://api.example.com/scim/v2?aadOptscim062020", None, ENTRA_DEFAULT)
    assert str(http.base_url) == "https://api.example.com/scim/v2/" and http.timeout.read == 60.0
    assert flagged is not None
    http.close()
