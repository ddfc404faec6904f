"""`aup conformance` over real loopback HTTP against a real `aup serve` process: a clean pass, nothing left
behind, and no secret in any report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Served

pytestmark = pytest.mark.network


def _aup(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aup", *args], capture_output=True, text=True, timeout=240, check=False
    )


def test_conformance_against_a_served_process(served: Served, tmp_path: Path) -> None:
    report, junit = tmp_path / "report.json", tmp_path / "report.xml"
    done = _aup(
        "conformance",
        "--target",
        served.base_url,
        "--token",
        served.token,
        "--json",
        str(report),
        "--junit",
        str(junit),
        "--strict",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text())
    assert data["summary"]["fail"] == 0 and data["summary"]["warn"] == 0
    assert data["target"] == served.base_url
    for path in (report, junit):
        assert served.token not in path.read_text()
    assert served.token not in done.stdout + done.stderr
    # every check cleaned up after itself: the server holds no user or group of the run
    headers = {"Authorization": f"Bearer {served.token}"}
    for endpoint in ("Users", "Groups"):
        listed = httpx.get(f"{served.base_url}/{endpoint}", headers=headers, timeout=10).json()
        assert listed["totalResults"] == 0, listed


def test_wrong_token_is_a_usage_error(served: Served) -> None:
    done = _aup("conformance", "--target", served.base_url, "--token", "not-the-token", "--suite", "rfc")
    assert done.returncode == 2
    assert "refused the credentials (401" in done.stderr and done.stderr.count("\n") == 1
