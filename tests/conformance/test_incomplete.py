"""A run that was not fully judged is never CONFORMANT and never exits 0: the verdict and exit code rules,
every report stating the verdict, and a runner that stops sending once the target stops answering."""

from __future__ import annotations

import os
import signal
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import httpx
import jsonschema
import pytest

from conformance import Target, run, select
from conformance.context import CheckContext
from conformance.model import Check, Level, Result, Status, Verdict
from conformance.report import load_schema, render_console, render_html, render_junit, to_json, verdict_line
from conformance.runner import DEFAULT_JOBS, STOP_AFTER, Run
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.target import Bearer
from tests.integration.conftest import start_server, stop_server, wait_for

BASE = IN_PROCESS_SCIM_URL


def _noop(ctx: CheckContext) -> None:
    return None


def _check(index: int, level: Level = Level.MUST, fn: object = _noop) -> Check:
    return Check(
        id=f"custom-{index}",
        title=f"custom {index}",
        level=level,
        suite="custom",
        ref="test",
        fn=fn,  # type: ignore[arg-type]
    )


def _run(*outcomes: tuple[Level, Status]) -> Run:
    results = [
        Result(_check(index, level), status, reason="not run: test" if status is Status.ERROR else "")
        for index, (level, status) in enumerate(outcomes)
    ]
    return Run(target=BASE, run_id="aupc000000", started=datetime.now(UTC), capabilities={}, results=results)


PASS = (Level.MUST, Status.PASS)
SKIP = (Level.MUST, Status.SKIP)
MUST_FAIL = (Level.MUST, Status.FAIL)
SHOULD_WARN = (Level.SHOULD, Status.WARN)
MAY_WARN = (Level.MAY, Status.WARN)
ERROR = (Level.MUST, Status.ERROR)


@pytest.mark.parametrize(
    ("outcomes", "strict", "code", "verdict"),
    [
        pytest.param((PASS, SKIP, PASS), False, 0, Verdict.CONFORMANT, id="pass"),
        pytest.param((PASS, SKIP, PASS), True, 0, Verdict.CONFORMANT, id="pass-strict"),
        pytest.param((PASS, MUST_FAIL), False, 1, Verdict.NOT_CONFORMANT, id="must-fail"),
        pytest.param((PASS, MUST_FAIL), True, 1, Verdict.NOT_CONFORMANT, id="must-fail-strict"),
        pytest.param((PASS, SHOULD_WARN), False, 0, Verdict.CONFORMANT, id="should-fail"),
        pytest.param((PASS, SHOULD_WARN), True, 1, Verdict.NOT_CONFORMANT, id="should-fail-strict"),
        pytest.param((PASS, MAY_WARN), True, 0, Verdict.CONFORMANT, id="may-fail-strict"),
        pytest.param((PASS, ERROR), False, 2, Verdict.INCOMPLETE, id="error-only"),
        pytest.param((PASS, ERROR), True, 2, Verdict.INCOMPLETE, id="error-only-strict"),
        pytest.param((ERROR, MUST_FAIL), False, 1, Verdict.NOT_CONFORMANT, id="error-and-must-fail"),
        pytest.param((ERROR, SHOULD_WARN), False, 2, Verdict.INCOMPLETE, id="error-and-should-fail"),
        pytest.param((ERROR, SHOULD_WARN), True, 1, Verdict.NOT_CONFORMANT, id="error-and-should-fail-strict"),
    ],
)
def test_exit_code_and_verdict(
    outcomes: tuple[tuple[Level, Status], ...], strict: bool, code: int, verdict: Verdict
) -> None:
    outcome = _run(*outcomes)
    assert outcome.exit_code(strict=strict) == code
    assert outcome.verdict(strict=strict) is verdict


@pytest.mark.parametrize(
    ("outcomes", "strict", "line"),
    [
        ((PASS, SKIP), False, "CONFORMANT: all 2 checks judged, no MUST failed"),
        ((PASS, ERROR, ERROR), False, "INCOMPLETE: 2 of 3 checks not judged (ERROR); 0 MUST failures among the rest"),
        (
            (PASS, ERROR),
            True,
            "INCOMPLETE: 1 of 2 checks not judged (ERROR); 0 MUST or SHOULD failures among the rest"
            " (strict: SHOULD counts)",
        ),
        ((MUST_FAIL, ERROR), False, "NOT CONFORMANT: 1 MUST failure; 1 of 2 checks not judged (ERROR)"),
        ((MUST_FAIL, SHOULD_WARN), True, "NOT CONFORMANT: 1 MUST failure, 1 SHOULD failure (strict: SHOULD counts)"),
    ],
)
def test_the_verdict_line_says_what_the_verdict_rests_on(
    outcomes: tuple[tuple[Level, Status], ...], strict: bool, line: str
) -> None:
    assert verdict_line(_run(*outcomes), strict=strict) == line


INCOMPLETE = (PASS, SKIP, ERROR, ERROR, PASS)
INCOMPLETE_LINE = "INCOMPLETE: 2 of 5 checks not judged (ERROR); 0 MUST failures among the rest"


def test_console_report_ends_with_the_verdict() -> None:
    text = render_console(_run(*INCOMPLETE))
    assert text.splitlines()[-1] == INCOMPLETE_LINE
    assert text.count("ERROR 2 checks not run: test") == 1  # one line for the checks not run, not one each
    assert "CONFORMANT" not in text.replace("NOT CONFORMANT", "")


def test_json_report_carries_the_verdict_and_validates() -> None:
    import json

    report = json.loads(to_json(_run(*INCOMPLETE)))
    jsonschema.Draft202012Validator(load_schema()).validate(report)
    assert report["verdict"] == "INCOMPLETE"
    assert report["summary"]["exit_code"] == 2 and report["summary"]["error"] == 2
    for outcomes, verdict in (((PASS,), "CONFORMANT"), ((MUST_FAIL, ERROR), "NOT CONFORMANT")):
        other = json.loads(to_json(_run(*outcomes)))
        jsonschema.Draft202012Validator(load_schema()).validate(other)
        assert other["verdict"] == verdict


def test_junit_report_has_errors_for_unjudged_checks_and_the_verdict() -> None:
    root = ET.fromstring(render_junit(_run(*INCOMPLETE)))
    assert root.get("errors") == "2" and root.get("failures") == "0"
    errors = root.findall("./testsuite/testcase/error")
    assert len(errors) == 2 and {error.get("type") for error in errors} == {"not-run"}
    props = {prop.get("name"): prop.get("value") for prop in root.findall("./testsuite/properties/property")}
    assert props == {"verdict": "INCOMPLETE", "verdict_detail": INCOMPLETE_LINE}


def test_html_report_states_the_verdict_at_the_top() -> None:
    page = render_html(_run(*INCOMPLETE))
    body = page.split("<body>", 1)[1]
    assert body.index(INCOMPLETE_LINE) < body.index("Target <code>") < body.index("<table>")
    assert 'class="verdict INCOMPLETE"' in body
    assert "<title>aup conformance INCOMPLETE:" in page


# -- the runner once the target stops answering ----------------------------------------------------------------


class Switchable:
    """A stand-in server that answers until ``alive`` is cleared, then refuses connections; counts what arrives."""

    def __init__(self, *, refuse_posts: bool = False) -> None:
        self.alive = True
        self.refuse_posts = refuse_posts
        self.sent_while_dead = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if not self.alive or (self.refuse_posts and request.method == "POST"):
            self.sent_while_dead += not self.alive
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path.endswith("/ServiceProviderConfig"):
            return httpx.Response(200, json={"schemas": [urns.SERVICE_PROVIDER_CONFIG]})
        return httpx.Response(200, json={"schemas": [urns.LIST_RESPONSE], "totalResults": 0, "Resources": []})


def _lists(ctx: CheckContext) -> None:
    ctx.scim.get("/Users")


def _posts(ctx: CheckContext) -> None:
    ctx.scim.get("/Users")
    ctx.scim.post("/Users", ctx.user_body())


def test_the_runner_stops_sending_once_the_target_stops_answering() -> None:
    server = Switchable()
    checks = [_check(index, fn=_lists) for index in range(1, 11)]

    def progress(done: int, total: int, result: Result) -> None:
        if done == 2:
            server.alive = False

    target = Target(BASE, Bearer("t"), app=httpx.MockTransport(server))
    outcome = run(checks, target, progress=progress, jobs=1)
    statuses = [result.status for result in outcome.results]
    assert statuses == [Status.PASS] * 2 + [Status.ERROR] * 8
    assert all(result.reason.startswith("network: ConnectError") for result in outcome.results[2 : 2 + STOP_AFTER])
    gave_up = f"custom-{2 + STOP_AFTER}"
    not_run = outcome.results[2 + STOP_AFTER :]
    reason = f"not run: the target stopped answering after check {gave_up}"
    assert all(result.reason.startswith(reason) for result in not_run)
    assert all(not result.evidence for result in not_run)
    # one request per failed check, one probe, one attempt of the final sweep: nothing for the checks not run
    assert server.sent_while_dead == STOP_AFTER + 2
    assert f"the target stopped answering after check {gave_up}; 5 check(s) not run" in outcome.notes
    assert any(note.startswith("the final sweep stopped") for note in outcome.notes)
    assert outcome.verdict() is Verdict.INCOMPLETE and outcome.exit_code() == 2


def test_a_target_that_resets_some_requests_but_answers_is_not_given_up() -> None:
    server = Switchable(refuse_posts=True)
    checks = [_check(index, fn=_posts) for index in range(1, 8)]
    target = Target(BASE, Bearer("t"), app=httpx.MockTransport(server))
    outcome = run(checks, target, jobs=4)
    assert all(result.reason.startswith("network: ConnectError") for result in outcome.results)
    assert not any("stopped answering" in note for note in outcome.notes)
    assert outcome.exit_code() == 2


def test_parallel_checks_stop_sending_once_the_target_stops_answering() -> None:
    """With checks in flight when the target dies, each in-flight check ends in one network ERROR; once
    STOP_AFTER of them did and the probe fails, nothing more is sent."""
    server = Switchable()
    jobs = 4
    checks = [_check(index, fn=_lists) for index in range(1, 41)]

    def progress(done: int, total: int, result: Result) -> None:
        if done == 8:
            server.alive = False

    target = Target(BASE, Bearer("t"), app=httpx.MockTransport(server))
    outcome = run(checks, target, progress=progress, jobs=jobs)
    assert [result.check.id for result in outcome.results] == [item.id for item in checks]  # selection order
    network = [result for result in outcome.results if result.reason.startswith("network: ConnectError")]
    not_run = [result for result in outcome.results if result.reason.startswith("not run: ")]
    assert STOP_AFTER <= len(network) <= STOP_AFTER + jobs
    assert len(not_run) >= len(checks) - 8 - STOP_AFTER - jobs
    # each check that failed sent one request, plus one probe and one sweep attempt; the rest sent nothing
    assert server.sent_while_dead == len(network) + 2
    assert outcome.verdict() is Verdict.INCOMPLETE and outcome.exit_code() == 2


def test_a_check_answered_before_the_target_died_does_not_reset_the_count_of_network_errors() -> None:
    """In a parallel run a check may finish after later checks failed: its answers came before they did, so
    they say nothing about the target now, and the runner stops after STOP_AFTER errors all the same."""
    server = Switchable()

    def answered_then_dies(ctx: CheckContext) -> None:
        ctx.scim.get("/Users")
        server.alive = False
        time.sleep(0.25)  # passes after the next checks' errors came in

    def later(ctx: CheckContext) -> None:
        time.sleep(0.1)
        ctx.scim.get("/Users")

    checks = [_check(0, fn=answered_then_dies)] + [_check(index, fn=later) for index in range(1, 20)]
    outcome = run(checks, Target(BASE, Bearer("t"), app=httpx.MockTransport(server)), jobs=2)
    assert outcome.results[0].status is Status.PASS
    network = [result for result in outcome.results if result.reason.startswith("network: ConnectError")]
    # STOP_AFTER, and one more in flight beside them when the runner gave up; had the late pass shown the target
    # alive, the count would have started again (2 + STOP_AFTER, and one in flight)
    assert STOP_AFTER <= len(network) <= STOP_AFTER + 1
    assert all(result.reason.startswith("not run: ") for result in outcome.results[2 + STOP_AFTER :])


# -- a real server killed mid-run ------------------------------------------------------------------------------

KILL_AFTER = 20


def _killed_mid_run(tmp_path: Path, checks: list[Check], *, jobs: int) -> Run:
    """Run ``checks`` against an ``aup serve`` SIGKILLed once KILL_AFTER checks are done; the runner must give up
    within 15 s of the kill instead of waiting a timeout per check."""
    assert len(checks) > KILL_AFTER + STOP_AFTER + jobs + 10
    proc = start_server(tmp_path / "aup.db")
    killed_at: list[float] = []

    def kill(done: int, total: int, result: Result) -> None:
        if done == KILL_AFTER:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
            killed_at.append(time.monotonic())

    try:
        base = wait_for(proc, r"SCIM base URL \(default\): (\S+)").group(1)
        token = wait_for(proc, r"New bearer token for default .*: (\S+)").group(1)
        wait_for(proc, r"aup serving on")
        outcome = run(checks, Target(base, Bearer(token), timeout=30.0), progress=kill, jobs=jobs)
        after_kill = time.monotonic() - killed_at[0]
    finally:
        code = stop_server(proc)
    assert code == -signal.SIGKILL
    assert after_kill < 15, f"{after_kill:.1f} s after the kill: the runner waited on a dead target"
    return outcome


@pytest.mark.network
@pytest.mark.timeout(180)
def test_a_server_killed_mid_run_makes_the_run_incomplete_without_waiting_per_check(tmp_path: Path) -> None:
    checks = select(["rfc"])
    outcome = _killed_mid_run(tmp_path, checks, jobs=1)

    assert outcome.verdict() is Verdict.INCOMPLETE and outcome.verdict(strict=True) is Verdict.INCOMPLETE
    assert outcome.exit_code() == 2 and outcome.exit_code(strict=True) == 2
    before, after = outcome.results[:KILL_AFTER], outcome.results[KILL_AFTER:]
    assert len(outcome.results) == len(checks)
    assert not [result.check.id for result in before if result.status in (Status.ERROR, Status.FAIL)]
    network = [result for result in after if result.reason.startswith("network:")]
    not_run = [result for result in after if result.reason.startswith("not run:")]
    assert len(network) == STOP_AFTER and all(result.status is Status.ERROR for result in network)
    assert not_run and all(result.status is Status.ERROR for result in not_run)
    assert after[-len(not_run) :] == not_run  # once given up, every remaining check is not run
    reason = f"not run: the target stopped answering after check {network[-1].check.id}"
    assert all(result.reason.startswith(reason) for result in not_run)
    assert verdict_line(outcome).startswith(
        f"INCOMPLETE: {len(network) + len(not_run)} of {len(checks)} checks not judged (ERROR); "
        "0 MUST failures among the rest"
    )


@pytest.mark.network
@pytest.mark.timeout(180)
def test_a_server_killed_mid_parallel_run_makes_it_incomplete_without_waiting_per_check(tmp_path: Path) -> None:
    """Checks in flight at the kill end in a network ERROR (or pass, if done before it); once STOP_AFTER did and the
    probe fails, every check not yet started is not run."""
    checks = select(["rfc"])
    outcome = _killed_mid_run(tmp_path, checks, jobs=DEFAULT_JOBS)

    assert [result.check.id for result in outcome.results] == [item.id for item in checks]  # selection order
    assert outcome.verdict() is Verdict.INCOMPLETE and outcome.exit_code() == 2
    assert not [result.check.id for result in outcome.results if result.status is Status.FAIL]  # nothing misjudged
    network = [result for result in outcome.results if result.reason.startswith("network:")]
    not_run = [result for result in outcome.results if result.reason.startswith("not run:")]
    # judged after the kill: the checks in flight then, and those started while the first errors came in (each
    # check that ends lets one more start) until STOP_AFTER of them ended in a network error
    assert STOP_AFTER <= len(network) <= STOP_AFTER + 2 * DEFAULT_JOBS
    assert len(not_run) >= len(checks) - KILL_AFTER - STOP_AFTER - 2 * DEFAULT_JOBS
    assert all(result.status is Status.ERROR for result in network + not_run)
    assert all(result.reason.startswith("not run: the target stopped answering after check") for result in not_run)
    assert any("the target stopped answering" in note for note in outcome.notes)
