"""The bench harness at a tiny scale: every figure runs end to end and its JSON has the documented shape.

Figures are not asserted (they are not pass/fail); what is asserted is that the harness still works,
so it cannot rot between the runs that produce bench/RESULTS.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from bench.harness import FIGURES, main
from emulators.registry import idps

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "bench" / "result.schema.json").read_text())
TINY = [
    "--sync", "40:4",
    "--scale-sizes", "40,120",
    "--group-sizes", "10,30",
    "--peer-sync", "20:2",
    "--sync-repeats", "1",
    "--floor-requests", "50",
    "--scale-rounds", "1",
    "--scale-per-round", "3",
    "--group-rounds", "1",
    "--group-per-round", "3",
    "--peer-repeats", "1",
    "--peer-group-rounds", "1",
    "--rss-requests", "30",
    "--isolation-operations", "10",
    "--isolation-emails", "100",
    "--cursor-users", "300",
    "--cursor-page", "50",
    "--cursor-creates", "20",
    "--stores-users", "200",
    "--stores-seconds", "1",
    "--load-tenants", "2",
    "--load-seconds", "6",
]  # fmt: skip
# the WAN figure runs the whole conformance suite three times through a 50 ms link: tests/bench/test_wan.py
# runs it small instead
ALL_BUT_WAN = [arg for figure in FIGURES if figure != "wan" for arg in ("--only", figure)]


@pytest.mark.slow
@pytest.mark.network
def test_tiny_run_writes_every_figure_in_the_documented_shape(tmp_path: Path) -> None:
    out, tables = tmp_path / "result.json", tmp_path / "result.md"
    result = CliRunner().invoke(
        main, [*TINY, *ALL_BUT_WAN, "--no-peer", "--out", str(out), "--markdown", str(tables)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["mode"] == "custom"
    assert {row["idp"] for row in data["sync"]} == set(idps().names())  # every registered IdP
    assert all(row["failures"] == 0 for row in data["sync"])
    assert data["scale"]["sizes"] == [40, 120]
    assert set(data["large_groups"]["median_ms"]) == {"10", "30"}
    assert data["rss"]["users"] == 120
    assert data["peer"]["status"] == "skipped"
    assert {row["target"].split(" ")[0] for row in data["targets"]} >= {"okta", "entra", "aup"}
    assert "| floor | req/s |" in tables.read_text()
    assert data["cursor"]["index"]["pages"] == data["cursor"]["cursor"]["pages"] == 6  # 300 users, 50 a page
    assert data["cursor"]["bulk"]["requests"] == 1 and data["cursor"]["single"]["requests"] == 20
    setups = {(row["engine"], row["processes"]) for row in data["stores"]["rows"]}
    assert setups == {("sqlite", 1), ("postgresql", 1), ("postgresql", 2)}
    assert all(row["write_ops_per_s"] > 0 and row["mixed_ops_per_s"] > 0 for row in data["stores"]["rows"])


def test_sizes_that_cannot_work_are_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["--scale-sizes", "100", "--group-sizes", "90"])
    assert result.exit_code == 2
    assert "must exceed the largest group" in result.output
    assert CliRunner().invoke(main, ["--sync", "100"]).exit_code == 2
