"""Baselines for CI: ``--baseline OLD.json`` fails only on regressions, ``--rerun-failed`` runs what did not pass;
the comparison itself is a pure function, proven by properties."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from aup.cli import main
from conformance.baseline import Entry, compare, entries
from conformance.model import Check, Level, Result, Status
from conformance.runner import Run
from tests.conformance.breakers_rfc import BREAKERS
from tests.conformance.faulty import Faulty, State
from tests.conformance.served import served

FILTERS = "rfc7644-3.4.2.2-filter-*"
BROKEN = "rfc7644-3.4.2.2-filter-co"


@pytest.fixture
def broken_server(reference: tuple[Any, str]) -> Iterator[tuple[str, str]]:
    """The reference server with a broken ``co`` filter, over loopback HTTP: its SCIM base URL and token."""
    app, token = reference
    faulty = Faulty(app, BREAKERS[BROKEN], State(token=token, memory={"app": app}))
    with served(faulty) as base:
        yield f"{base}/scim/v2", token


def _cli(base: str, token: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["conformance", "--target", base, "--token", token, "--check", FILTERS, *args])


def _edit(report: Path, out: Path, **statuses: str) -> Path:
    doc = json.loads(report.read_text())
    for result in doc["results"]:
        result["status"] = statuses.get(result["id"], result["status"])
    out.write_text(json.dumps(doc))
    return out


def test_a_baseline_allows_known_failures_and_fails_on_regressions(
    broken_server: tuple[str, str], tmp_path: Path
) -> None:
    base, token = broken_server
    first = _cli(base, token, "--json", str(tmp_path / "base.json"))
    assert first.exit_code == 1, first.output
    report = tmp_path / "base.json"
    assert json.loads(report.read_text())["verdict"] == "NOT CONFORMANT"

    known = _cli(base, token, "--baseline", str(report))
    assert known.exit_code == 0, known.output
    assert "0 new failures (regressions)" in known.output and f"1 known failures, unchanged: {BROKEN}" in known.output

    passed_before = _edit(report, tmp_path / "passed.json", **{BROKEN: "PASS"})
    regressed = _cli(base, token, "--baseline", str(passed_before))
    assert regressed.exit_code == 1
    assert f"1 new failures (regressions): {BROKEN}" in regressed.output

    failed_before = _edit(report, tmp_path / "failed.json", **{"rfc7644-3.4.2.2-filter-eq": "FAIL"})
    fixed = _cli(base, token, "--baseline", str(failed_before))
    assert fixed.exit_code == 0 and "1 fixed since the baseline: rfc7644-3.4.2.2-filter-eq" in fixed.output


def test_rerun_failed_runs_only_what_did_not_pass(broken_server: tuple[str, str], tmp_path: Path) -> None:
    base, token = broken_server
    report = tmp_path / "run.json"
    assert _cli(base, token, "--json", str(report)).exit_code == 1
    again = _cli(base, token, "--rerun-failed", str(report), "--json", str(tmp_path / "again.json"))
    assert again.exit_code == 1
    rerun = json.loads((tmp_path / "again.json").read_text())
    assert [result["id"] for result in rerun["results"]] == [BROKEN]
    clean = _edit(report, tmp_path / "clean.json", **{BROKEN: "PASS"})
    nothing = _cli(base, token, "--rerun-failed", str(clean))
    assert nothing.exit_code == 0 and "nothing to rerun" in nothing.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ('{"format": "something-else"}', "is not an aup conformance JSON report"),
        ('{"format": "aup-conformance-report", "version": 9, "results": []}', "report version 9"),
        ('{"format": "aup-conformance-report", "version": 2, "results": [{"id": "x"}]}', "without a valid id"),
    ],
)
def test_a_bad_baseline_is_refused_before_the_run(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    for option in ("--baseline", "--rerun-failed"):
        # an unreachable target: had the run started, the error would be about the connection
        result = CliRunner().invoke(
            main, ["conformance", "--target", "http://127.0.0.1:9/scim/v2", "--token", "t", option, str(bad)]
        )
        assert result.exit_code == 2 and message in result.output, result.output
        assert "cannot connect" not in result.output


def test_a_missing_baseline_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["conformance", "--baseline", str(tmp_path / "none.json")])
    assert result.exit_code == 2 and "cannot read" in result.output and len(result.output.strip().splitlines()) == 1


# -- the comparison, as properties ---------------------------------------------------------------------------------

STATUSES = st.sampled_from(list(Status))
LEVELS = st.sampled_from(list(Level))
IDS = st.text(alphabet="abc-0123", min_size=1, max_size=6)


def _run(results: dict[str, tuple[Status, Level]]) -> Run:
    def check(check_id: str, level: Level) -> Check:
        return Check(id=check_id, title=check_id, level=level, suite="custom", ref="t", fn=print)

    return Run(
        target="t",
        run_id="r",
        started=datetime.now(UTC),
        capabilities={},
        results=[Result(check(cid, level), status) for cid, (status, level) in results.items()],
    )


@given(st.dictionaries(IDS, st.tuples(STATUSES, LEVELS)), st.booleans())
def test_a_report_compared_with_itself_has_no_regression_and_no_fix(
    results: dict[str, tuple[Status, Level]], strict: bool
) -> None:
    run = _run(results)
    same = {cid: Entry(status, level) for cid, (status, level) in results.items()}
    comparison = compare(same, run, strict=strict)
    assert comparison.regressions == comparison.fixed == comparison.unjudged == comparison.gone == []
    assert comparison.exit_code() == 0


@given(
    st.dictionaries(IDS, st.tuples(STATUSES, LEVELS)),
    st.dictionaries(IDS, st.tuples(STATUSES, LEVELS)),
    st.booleans(),
)
def test_every_check_lands_in_at_most_one_bucket(
    before: dict[str, tuple[Status, Level]], now: dict[str, tuple[Status, Level]], strict: bool
) -> None:
    comparison = compare({cid: Entry(*pair) for cid, pair in before.items()}, _run(now), strict=strict)
    buckets = [comparison.regressions, comparison.unjudged, comparison.fixed, comparison.known]
    placed = [cid for bucket in buckets for cid in bucket]
    assert len(placed) == len(set(placed)) and set(placed) <= set(now)
    assert set(comparison.gone) == set(before) - set(now)
    assert comparison.exit_code() == (1 if comparison.regressions else 2 if comparison.unjudged else 0)


def test_a_version_one_report_is_read() -> None:
    doc = {
        "format": "aup-conformance-report",
        "version": 1,
        "results": [{"id": "a", "status": "FAIL", "level": "MUST"}, {"id": "b", "status": "PASS", "level": "MAY"}],
    }
    assert entries(doc) == {"a": Entry(Status.FAIL, Level.MUST), "b": Entry(Status.PASS, Level.MAY)}
