"""`aup conformance` end to end (exit codes, reports) and the pytest plugin in a separate pytest process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from aup.cli import main
from conformance.report import load_schema
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.target import Bearer

ROOT = Path(__file__).resolve().parents[2]


def test_embedded_run_writes_every_report_and_exits_zero(tmp_path: Path) -> None:
    out = {name: tmp_path / f"report.{name}" for name in ("json", "xml", "html")}
    result = CliRunner().invoke(
        main,
        [
            "conformance",
            "--suite",
            "rfc",
            "--json",
            str(out["json"]),
            "--junit",
            str(out["xml"]),
            "--html",
            str(out["html"]),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "CONFORMANT" in result.output and "0 failed (MUST)" in result.output
    report = json.loads(out["json"].read_text())
    jsonschema.Draft202012Validator(load_schema()).validate(report)
    assert report["summary"]["fail"] == 0 and report["summary"]["pass"] == report["summary"]["total"] > 90
    suites = ET.parse(out["xml"]).getroot()
    cases = suites.findall("./testsuite/testcase")
    assert len(cases) == report["summary"]["total"]
    assert suites.get("failures") == "0"
    page = out["html"].read_text()
    assert page.startswith("<!doctype html>") and "rfc7644-3.4.2.2-filter-eq" in page
    head = page.split("<body>")[0]
    assert page.count("<script>") == 1 and "http://" not in head and "<link" not in head  # self-contained


def test_selection_and_listing() -> None:
    result = CliRunner().invoke(main, ["conformance", "--list", "--include", "etag"])
    assert result.exit_code == 0
    heads = [line for line in result.output.splitlines() if line and not line.startswith(" ")]
    assert heads and all(line.startswith("rfc7644-3.") and "etag]" in line for line in heads)
    assert sum(line.startswith("rfc7644-3.14") for line in heads) >= 3  # §3.14 and the Bulk version check
    # each check: id, level, suite, tags and required features, then its title and its requirement
    assert "rfc7644-3.14-if-match-412" in result.output and "RFC 7644 §3.14; RFC 7232 §3.1" in result.output
    assert len(result.output.strip().splitlines()) == 3 * len(heads)
    one = CliRunner().invoke(main, ["conformance", "--check", "rfc7644-3.4.2.2-filter-*", "--list"])
    assert one.exit_code == 0 and len(one.output.strip().splitlines()) >= 60


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--suite", "nope"], "unknown suite 'nope'"),
        (["--include", "no-such-tag"], "no check matches"),
        (["--target", "ftp://example.test"], "must be an http(s) SCIM base URL"),
        (["--token", "abc"], "need --target"),
        (["--target", "http://127.0.0.1:9/scim/v2", "--token", "t"], "cannot connect to"),
    ],
)
def test_usage_and_connection_errors_exit_two_with_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["conformance", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_plugin_runs_one_item_per_check_and_passes_on_the_reference_server(tmp_path: Path) -> None:
    done = _pytest(
        tmp_path,
        "--conformance-app",
        "tests.conformance.apps:reference",
        "--conformance-suite",
        "rfc",
        "--conformance-include",
        "filter",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_plugin_fails_the_item_whose_requirement_is_broken(tmp_path: Path) -> None:
    done = _pytest(
        tmp_path,
        "--conformance-app",
        "tests.conformance.apps:broken_eq",
        "--conformance-suite",
        "rfc",
        "--conformance-include",
        "filter",
        "-rf",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    # the fault (eq read as ne) breaks every check that filters with userName eq, and only those
    assert "FAILED aup-conformance/rfc::rfc7644-3.4.2.2-filter-eq - " in done.stdout
    assert "FAILED aup-conformance/rfc::rfc7644-3.4.2.2-filter-ne - " not in done.stdout
    assert "requirement: RFC 7644 §3.4.2.2" in done.stdout


def test_plugin_fails_a_check_blocked_by_a_broken_prerequisite_with_its_root_cause(tmp_path: Path) -> None:
    done = _pytest(
        tmp_path,
        "--conformance-app",
        "tests.conformance.apps:broken_entra_group",
        "--conformance-suite",
        "entra,sync",
        "--conformance-include",
        "crud,entra",
        "-rf",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED aup-conformance/entra::entra-create-group - " in done.stdout
    assert "FAILED aup-conformance/sync::sync-entra-initial-cycle - " in done.stdout
    assert "problem:     blocked by prerequisite entra-create-group (FAIL)" in done.stdout


def test_a_failing_run_shows_requirement_expected_actual_and_redacted_evidence(tmp_path: Path) -> None:
    from conformance import Target, run, select
    from conformance.report import render_console, to_json
    from tests.conformance.apps import broken_eq

    app, token = broken_eq()
    outcome = run(
        select(["rfc"], ids=["rfc7644-3.4.2.2-filter-eq"]),
        Target(IN_PROCESS_SCIM_URL, Bearer(token), app=app),
    )
    assert outcome.exit_code() == 1
    text = render_console(outcome)
    assert "FAIL rfc7644-3.4.2.2-filter-eq [MUST]" in text
    assert "requirement: RFC 7644 §3.4.2.2" in text
    assert 'expected:    ["alpha"]' in text
    assert "> GET /scim/v2/Users?filter=" in text and "< 200" in text
    assert "Authorization: Bearer [REDACTED]" in text
    assert "NOT CONFORMANT" in text
    assert token not in text and token not in to_json(outcome)


def test_strict_turns_a_should_warning_into_failure(reference: tuple[Any, str]) -> None:
    from conformance import Status, Target, run, select
    from tests.conformance.breakers_rfc import BREAKERS
    from tests.conformance.faulty import Faulty, State

    app, token = reference
    check_id = "rfc7644-3.4.3-search"
    faulty = Faulty(app, BREAKERS[check_id], State(token=token))
    outcome = run(select(ids=[check_id]), Target(IN_PROCESS_SCIM_URL, Bearer(token), app=faulty))
    assert outcome.results[0].status is Status.WARN
    assert outcome.exit_code() == 0
    assert outcome.exit_code(strict=True) == 1
