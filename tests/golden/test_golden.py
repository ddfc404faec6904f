"""Each emulator's traffic for the documented flows matches its golden cassette (regenerate: docs/recording.md)."""

from __future__ import annotations

import pytest

from scimcore.fidelity import diff_cassettes
from scimcore.wire import read_cassette
from tests.golden.flows import FLOWS, Flow


@pytest.mark.parametrize("flow", FLOWS, ids=[flow.name for flow in FLOWS])
def test_emulator_traffic_matches_the_golden_cassette(flow: Flow) -> None:
    golden = read_cassette(flow.path)
    result = diff_cassettes(golden, flow.run())
    assert result.same, f"{flow.summary}\n" + result.render(f"golden {flow.path.name}", "this run", context=False)


def test_every_golden_cassette_belongs_to_a_flow() -> None:
    on_disk = {path.stem for path in FLOWS[0].path.parent.glob("*.jsonl")}
    assert on_disk == {flow.name for flow in FLOWS}
