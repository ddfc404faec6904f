"""The JUnit report as GitHub's and GitLab's test views read it: valid structure, counts that agree with the
run, and a failure's text leading with the requirement and the exchange where the failure was found."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime

import pytest

from conformance import Target, run
from conformance.context import CheckContext
from conformance.model import Check, Level, Result, Status
from conformance.report import render_junit
from conformance.runner import Run
from conformance.suites import default_registry
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.target import Bearer
from scimcore.wire import Exchange
from tests.conformance.breakers_rfc import BREAKERS
from tests.conformance.faulty import Faulty, State

# The JUnit structure CI readers accept (Jenkins' junit-10 schema as GitLab, dorny/test-reporter and
# mikepenz/action-junit-report read it): element -> (required attributes, allowed children).
SCHEMA: dict[str, tuple[set[str], set[str]]] = {
    "testsuites": ({"name", "tests", "failures", "errors", "skipped", "time"}, {"testsuite"}),
    "testsuite": ({"name", "tests", "failures", "errors", "skipped", "time", "timestamp"}, {"properties", "testcase"}),
    "properties": (set(), {"property"}),
    "property": ({"name", "value"}, set()),
    "testcase": ({"classname", "name", "time"}, {"properties", "failure", "error", "skipped", "system-out"}),
    "failure": ({"message", "type"}, set()),
    "error": ({"message", "type"}, set()),
    "skipped": ({"message"}, set()),
    "system-out": (set(), set()),
}
COUNTED = ("failure", "error", "skipped")
NUMBERS = ("tests", "failures", "errors", "skipped")


def validate(node: ET.Element) -> None:
    """Every element known, its required attributes present, numbers numeric, at most one outcome per testcase."""
    assert node.tag in SCHEMA, f"unknown element <{node.tag}>"
    required, children = SCHEMA[node.tag]
    assert required <= set(node.attrib), f"<{node.tag}> lacks {required - set(node.attrib)}"
    for name in (*NUMBERS, "time"):
        if name in node.attrib:
            float(node.attrib[name])
    if node.tag == "testcase":
        assert sum(1 for child in node if child.tag in COUNTED) <= 1
    for child in node:
        assert child.tag in children, f"<{child.tag}> inside <{node.tag}>"
        validate(child)


def counts_agree(root: ET.Element) -> None:
    """Each testsuite's counts are its testcases'; the testsuites' counts are the sum of the suites'."""
    totals: Counter[str] = Counter()
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        found = {"tests": len(cases)} | {
            f"{tag}s" if tag != "skipped" else tag: len(suite.findall(f"testcase/{tag}")) for tag in COUNTED
        }
        assert {key: int(suite.attrib[key]) for key in NUMBERS} == found
        totals.update(found)
    assert {key: int(root.attrib[key]) for key in NUMBERS} == dict(totals)


def _noop(ctx: CheckContext) -> None:
    return None


def _check(name: str, level: Level = Level.MUST, suite: str = "rfc", hint: str = "") -> Check:
    return Check(id=name, title=f"title of {name}", level=level, suite=suite, ref="RFC 7644 §3.3", fn=_noop, hint=hint)


def _exchange(url: str, status: int) -> Exchange:
    return Exchange("GET", url, (), None, status, (), {"detail": url}, "2026-01-01T00:00:00Z", 1.0)


def _synthetic() -> Run:
    root = _check("root", hint="answer POST /Users with 201")
    warn_root = _check("warn-root", Level.SHOULD, hint="send an ETag")
    results = [
        Result(_check("ok"), Status.PASS),
        Result(
            root,
            Status.FAIL,
            reason="POST answered 200",
            expected="201",
            actual="200",
            evidence=(_exchange("/first", 200), _exchange("/second", 200), _exchange("/culprit", 200)),
        ),
        Result(_check("must-blocked"), Status.BLOCKED, blocked_by=("root",)),
        Result(warn_root, Status.WARN, reason="no ETag"),
        Result(_check("may-blocked", Level.MAY, suite="okta"), Status.BLOCKED, blocked_by=("warn-root",)),
        Result(_check("skipped", suite="okta"), Status.SKIP, reason="sort is not advertised"),
        Result(_check("broken", suite="custom"), Status.ERROR, reason="network: connection reset"),
        Result(_check("err-blocked", suite="custom"), Status.BLOCKED, blocked_by=("broken",)),
    ]
    return Run(
        target=IN_PROCESS_SCIM_URL, run_id="aupc000000", started=datetime.now(UTC), capabilities={}, results=results
    )


def _cases(root: ET.Element) -> dict[str, ET.Element]:
    return {case.attrib["name"]: case for case in root.iter("testcase")}


@pytest.mark.parametrize("strict", [False, True])
def test_structure_and_counts_agree_with_the_run(strict: bool) -> None:
    outcome = _synthetic()
    root = ET.fromstring(render_junit(outcome, strict=strict))
    validate(root)
    counts_agree(root)
    assert int(root.attrib["failures"]) == len(outcome.failed(strict=strict))
    assert int(root.attrib["errors"]) == outcome.counts()[Status.ERROR]
    assert (
        [suite.attrib["name"] for suite in root.findall("testsuite")] == outcome.suites() == ["rfc", "okta", "custom"]
    )
    cases = _cases(root)
    assert {case.attrib["classname"] for case in cases.values()} >= {"conformance.rfc", "conformance.custom"}
    assert cases["ok"].find("properties/property[@name='title']").attrib["value"] == "title of ok"  # type: ignore[union-attr]
    assert (cases["warn-root"].find("failure") is not None) is strict


def test_a_failure_leads_with_the_requirement_hint_and_the_failing_exchange() -> None:
    failure = _cases(ET.fromstring(render_junit(_synthetic())))["root"].find("failure")
    assert failure is not None and failure.attrib["message"] == "POST answered 200"
    text = failure.text or ""
    lines = text.splitlines()
    assert lines[:6] == [
        "title of root",
        "requirement: RFC 7644 §3.3",
        "problem: POST answered 200",
        "expected: 201",
        "actual: 200",
        "hint: answer POST /Users with 201",
    ]
    assert text.index("/culprit") < text.index("earlier exchanges (2)") < text.index("/first") < text.index("/second")


def test_blocked_is_a_failure_only_when_the_run_counts_it() -> None:
    cases = _cases(ET.fromstring(render_junit(_synthetic())))
    must = cases["must-blocked"].find("failure")
    assert must is not None and must.attrib["message"] == "blocked by root: POST answered 200"
    assert "hint: answer POST /Users with 201" in (must.text or "")
    may = cases["may-blocked"].find("skipped")  # a MAY blocked by a WARN does not fail the run
    assert may is not None and may.attrib["message"] == "blocked by warn-root: no ETag"
    assert "hint: send an ETag" in (may.text or "")
    unjudged = cases["err-blocked"].find("skipped")  # blocked by an ERROR: nothing said about the server
    assert unjudged is not None and unjudged.attrib["message"].startswith("blocked by broken: network:")
    assert cases["skipped"].find("skipped").attrib["message"] == "sort is not advertised"  # type: ignore[union-attr]
    assert cases["broken"].find("error").attrib["type"] == "network"  # type: ignore[union-attr]


def test_a_real_failure_from_a_breaker_server(reference: tuple[object, str]) -> None:
    app, token = reference
    checks = {item.id: item for item in default_registry().checks()}
    broken = next(name for name in sorted(BREAKERS) if name in checks and checks[name].level is Level.MUST)
    faulty = Faulty(app, BREAKERS[broken], State(token=token, memory={"app": app}))  # type: ignore[arg-type]
    outcome = run([checks[broken]], Target(IN_PROCESS_SCIM_URL, Bearer(token), app=faulty))
    root = ET.fromstring(render_junit(outcome))
    validate(root)
    counts_agree(root)
    failure = _cases(root)[broken].find("failure")
    assert failure is not None and root.attrib["failures"] == "1"
    last = outcome.results[0].evidence[-1]
    text = failure.text or ""
    assert text.index(f"requirement: {checks[broken].ref}") < text.index(f"> {last.method} {last.url}")
