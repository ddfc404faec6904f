"""`aup conformance` over real loopback HTTP against a real `aup serve` process: a clean pass, nothing left
behind, and no secret in any report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Served, start_server, stop_server, wait_for

pytestmark = pytest.mark.network


def _aup(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aup", *args], capture_output=True, text=True, timeout=240, check=False
    )


@pytest.mark.slow
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


@pytest.mark.slow
def test_a_server_killed_mid_run_makes_the_cli_say_incomplete_and_exit_2(tmp_path: Path, server_db: str) -> None:
    """The CLI, not only the runner: a server SIGKILLed while checks create users never yields CONFORMANT or 0."""
    server = start_server(server_db)
    proc = None
    try:
        base_url = wait_for(server, r"SCIM base URL \(default\): (\S+)").group(1)
        token = wait_for(server, r"New bearer token for default .*: (\S+)").group(1)
        wait_for(server, r"aup serving on")
        report, html = tmp_path / "report.json", tmp_path / "report.html"
        cmd = [sys.executable, "-m", "aup", "conformance", "--target", base_url, "--token", token,
               "--json", str(report), "--html", str(html)]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        headers = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until checks are creating data, then kill the server
            listed = httpx.get(f"{base_url}/Users", params={"count": 0}, headers=headers, timeout=5).json()
            if listed["totalResults"] > 0:
                break
            time.sleep(0.05)
        os.kill(server.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=180)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        assert stop_server(server) == -signal.SIGKILL
    assert proc.returncode == 2, out + err
    verdict = [line for line in out.splitlines() if line.startswith(("INCOMPLETE", "CONFORMANT", "NOT CONFORMANT"))]
    assert verdict and verdict[-1].startswith("INCOMPLETE"), out
    assert json.loads(report.read_text())["verdict"] == "INCOMPLETE"
    assert "INCOMPLETE" in html.read_text()
