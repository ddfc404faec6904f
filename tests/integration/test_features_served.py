"""The same feature files against a real ``aup serve`` process: the one-way sync rules over loopback HTTP.

The features run in a child pytest with ``--scim-url``/``--scim-token``, as they would against any
SCIM server; afterwards the server must hold nothing they created (they clean up after themselves).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Served

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 180


@pytest.mark.slow
@pytest.mark.network
def test_sync_features_pass_against_a_served_process_and_leave_nothing_behind(served: Served, tmp_path: Path) -> None:
    report = tmp_path / "cucumber.json"
    cmd = [
        sys.executable, "-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider",
        "features", "-m", "sync",
        "--scim-url", served.base_url, "--scim-token", served.token,
        f"--cucumberjson={report}",
    ]  # fmt: skip
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "deselected" in run.stdout, run.stdout[-1000:]

    features = json.loads(report.read_text(encoding="utf-8"))
    scenarios = [element for feature in features for element in feature["elements"]]
    assert scenarios and all(step["result"]["status"] == "passed" for s in scenarios for step in s["steps"])

    headers = {"Authorization": f"Bearer {served.token}"}
    with httpx.Client(base_url=served.base_url, headers=headers, timeout=10) as client:
        for endpoint in ("/Users", "/Groups"):
            left = client.get(endpoint, params={"count": 1}).json()["totalResults"]
            assert left == 0, f"the features left {left} resources in {endpoint}"
