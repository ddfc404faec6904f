"""Root causes: a broken prerequisite BLOCKs the checks that stand on it, and every report names it once, graded by
the strongest level it breaks, with its fix; the console shows why a check was skipped or blocked."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema

from aup.embedded import embedded_server
from conformance import Target, run, select
from conformance.context import CheckContext
from conformance.model import Check, Level, Result, Status, Verdict
from conformance.report import load_schema, render_console, to_json
from conformance.runner import Run
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.target import Bearer
from tests.conformance.breakers_idp import BREAKERS
from tests.conformance.faulty import Faulty, State

MANAGER = "entra-manager-bare-string"


def test_a_server_that_refuses_entras_bare_string_manager_fails_one_check_and_blocks_the_entra_syncs() -> None:
    """The scim2-server case: one defect, graded MUST, named once as the cause of every Entra sync it breaks,
    instead of each sync reading "initial cycle logged failures"."""
    with embedded_server() as server:
        faulty = Faulty(server.app, BREAKERS[MANAGER], State(token=server.token, memory={"app": server.app}))
        outcome = run(select(["entra", "sync"]), Target(server.base_url, Bearer(server.token), app=faulty))
    by_id = {r.check.id: r for r in outcome.results}
    assert by_id[MANAGER].status is Status.FAIL and by_id[MANAGER].check.level is Level.MUST
    entra_syncs = [r for r in outcome.results if r.check.id.startswith("sync-entra-")]
    okta_syncs = [r for r in outcome.results if r.check.id.startswith("sync-okta-")]
    assert entra_syncs and all(r.status is Status.BLOCKED and r.blocked_by == (MANAGER,) for r in entra_syncs)
    assert okta_syncs and all(r.status is Status.PASS for r in okta_syncs)  # a defect of Entra's shapes only
    assert not any(r.evidence for r in entra_syncs)  # not run: nothing was sent

    [cause] = outcome.causes()
    assert cause.root.check.id == MANAGER and cause.level is Level.MUST
    assert {r.check.id for r in cause.explains} == {r.check.id for r in entra_syncs}
    assert "bare id string" in cause.hint
    assert outcome.verdict() is Verdict.NOT_CONFORMANT and outcome.exit_code() == 1

    text = render_console(outcome)
    lines = text.splitlines()
    assert f"blocked by prerequisite {MANAGER} (FAIL)" in text
    causes_at = lines.index("Causes (1), strongest first")
    assert lines[causes_at + 1].startswith(f"  MUST   {MANAGER} (FAIL): ")
    block = lines[causes_at + 1 : lines.index("", causes_at)]
    assert block[1].startswith(f"         explains {len(entra_syncs)} blocked checks: sync-entra-initial-cycle")
    assert all(len(line) <= 110 for line in block[1:])  # wrapped, ids kept whole
    assert all(f" {r.check.id}" in " ".join(block).replace(",", "") for r in entra_syncs)
    assert any(line.startswith("         fix: accept a PATCH") for line in block)
    assert f"{len(entra_syncs)} blocked" in lines[-2]  # the summary counts them; the verdict stays last
    assert lines[-1] == f"NOT CONFORMANT: 1 MUST failure, {len(entra_syncs)} checks blocked by them"

    report = json.loads(to_json(outcome))
    jsonschema.Draft202012Validator(load_schema()).validate(report)
    assert report["summary"]["blocked"] == len(entra_syncs)
    assert [c["check"] for c in report["causes"]] == [MANAGER] and report["causes"][0]["level"] == "MUST"
    assert {r["id"]: r.get("blocked_by") for r in report["results"]}["sync-entra-initial-cycle"] == [MANAGER]


# -- grading, against results made by hand ----------------------------------------------------------------------


def _noop(ctx: CheckContext) -> None:
    return None


def _check(name: str, level: Level = Level.MUST, *, suite: str = "acme", hint: str = "") -> Check:
    return Check(id=name, title=f"title of {name}", level=level, suite=suite, ref="test", fn=_noop, hint=hint)


def _run(*results: Result) -> Run:
    return Run(IN_PROCESS_SCIM_URL, "aupc000000", datetime.now(UTC), {}, list(results))


def test_a_should_defect_that_blocks_a_must_check_is_a_must_cause_and_fails_the_run() -> None:
    outcome = _run(
        Result(_check("schema", Level.SHOULD, hint="list the schema URI"), Status.WARN, reason="wrong URI"),
        Result(_check("flow"), Status.BLOCKED, reason="blocked by prerequisite schema (WARN)", blocked_by=("schema",)),
        Result(_check("later"), Status.BLOCKED, reason="blocked by prerequisite flow", blocked_by=("flow",)),
    )
    [cause] = outcome.causes()
    assert cause.root.check.id == "schema" and cause.level is Level.MUST
    assert [r.check.id for r in cause.explains] == ["flow", "later"]  # directly and through a blocked check
    assert [r.check.id for r in outcome.failed()] == ["flow", "later"]
    assert outcome.verdict() is Verdict.NOT_CONFORMANT
    text = render_console(outcome)
    assert "graded MUST: it blocks MUST checks" in text and "fix: list the schema URI" in text


def test_a_check_blocked_by_two_roots_is_explained_by_both_and_strongest_causes_come_first() -> None:
    outcome = _run(
        Result(_check("may-root", Level.MAY), Status.WARN, reason="may"),
        Result(_check("must-root"), Status.FAIL, reason="must"),
        Result(_check("both", Level.MAY), Status.BLOCKED, blocked_by=("may-root", "must-root")),
    )
    causes = {cause.root.check.id: cause for cause in outcome.causes()}
    assert {key: [r.check.id for r in c.explains] for key, c in causes.items()} == {
        "may-root": ["both"],
        "must-root": ["both"],
    }
    assert causes["may-root"].level is Level.MAY and causes["must-root"].level is Level.MUST
    text = render_console(outcome)
    assert text.index("MUST   must-root (FAIL)") < text.index("MAY    may-root (WARN)")


def test_a_check_blocked_only_by_an_error_is_not_judged() -> None:
    outcome = _run(
        Result(_check("flaky"), Status.ERROR, reason="network: ReadTimeout: timed out"),
        Result(_check("after"), Status.BLOCKED, blocked_by=("flaky",)),
        Result(_check("alone"), Status.ERROR, reason="harness: KeyError"),
    )
    assert [cause.root.check.id for cause in outcome.causes()] == ["flaky"]  # an ERROR blocking nothing is no cause
    assert not outcome.failed()
    assert {r.check.id for r in outcome.unjudged()} == {"flaky", "after", "alone"}
    assert outcome.verdict() is Verdict.INCOMPLETE


def test_the_console_groups_custom_suites_and_shows_why_a_check_was_skipped_or_blocked() -> None:
    long_reason = "/ServiceProviderConfig does not advertise sort " + "and more words " * 20
    outcome = _run(
        Result(_check("a-pass", suite="acme-users"), Status.PASS),
        Result(_check("a-skip", suite="acme-users"), Status.SKIP, reason=long_reason),
        Result(_check("b-root", suite="acme-groups"), Status.FAIL, reason="broken"),
        Result(_check("b-next", suite="acme-groups"), Status.BLOCKED, reason="blocked by prerequisite b-root (FAIL)"),
    )
    lines = render_console(outcome, width=100).splitlines()
    assert "acme-users (1 pass, 1 skip)" in lines and "acme-groups (1 fail, 1 blocked)" in lines
    skip = next(line for line in lines if "a-skip" in line)
    assert "does not advertise sort" in skip and skip.endswith("...") and len(skip) <= 100
    assert next(line for line in lines if "b-next" in line and "BLOCK" in line).endswith(
        "blocked by prerequisite b-root (FAIL)"
    )
    assert lines[-2].startswith("4 checks: 1 passed, 1 failed (MUST), 0 warnings (SHOULD/MAY), 1 skipped, 1 blocked")
