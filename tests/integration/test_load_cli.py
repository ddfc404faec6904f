"""``aup load`` from the command line against a real ``aup serve`` on loopback: a local run, Locust's master
with two worker processes, a server that loses acknowledged writes, and the runs that cannot be judged.

Every process is started here, bounded in time, and stopped by its pid.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from scimcore.process import Process

from .conftest import START_TIMEOUT_S, start_server, stop_server, wait_for

pytestmark = [pytest.mark.network, pytest.mark.slow]

RUN_S = 4
DEADLINE_S = 120.0
LOSSY = Path(__file__).with_name("lossy_server.py")


@contextmanager
def serving(db: str, *extra: str) -> Iterator[tuple[str, Process]]:
    """``aup serve`` on ``db``: its origin and its process, stopped by pid at the end (again if stopped already)."""
    server = start_server(db, *extra)
    try:
        base = wait_for(server, r"SCIM base URL \(default\): (\S+)").group(1)
        wait_for(server, r"aup serving on")
        yield base.removesuffix("/scim/v2"), server
    finally:
        assert stop_server(server) == 0


@pytest.fixture
def origin(server_db: str) -> Iterator[tuple[str, str]]:
    """A running ``aup serve``: its origin and its database."""
    with serving(server_db) as (url, _):
        yield url, server_db


def wait_for_tenant_users(url: str, db: str, tenant: str) -> None:
    """Until the tenant holds a user (the load is under way), within the start deadline."""
    token = _tokens_for(db, [tenant])[tenant]
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx.Client(base_url=f"{url}/scim/{tenant}/v2", headers={"Authorization": f"Bearer {token}"}) as http:
        while http.get("/Users", params={"count": 1}).json().get("totalResults", 0) == 0:
            if time.monotonic() > deadline:
                raise AssertionError(f"tenant {tenant} got no user within {START_TIMEOUT_S} s")
            time.sleep(0.1)


def aup_load(*args: str) -> Process:
    return Process.start([sys.executable, "-m", "aup", "load", *args], new_session=True)


def finished(process: Process) -> int:
    """The exit code, waiting at most the deadline; a process still running is stopped and the test fails."""
    try:
        code = process.wait(timeout=DEADLINE_S)
    except Exception:
        process.stop(timeout=10)
        process.drain()
        raise AssertionError("aup load did not finish in time: " + "\n".join(process.output)) from None
    process.stop(timeout=10)  # already ended: this reads the rest of its output
    process.drain()
    return code


def _read(url: str, token: str, endpoint: str, prefix: str) -> list[dict[str, Any]]:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=15) as http:
        answer = http.get(
            endpoint,
            params={
                "filter": f'userName sw "{prefix}"' if endpoint == "/Users" else f'displayName sw "{prefix}"',
                "count": 1000,
            },
        )
        assert answer.status_code == 200, answer.text
        resources: list[dict[str, Any]] = answer.json().get("Resources", [])
        return resources


def _check_counts(report: dict[str, Any]) -> None:
    """Every exchange a tenant timed reached Locust's aggregate, and nothing else did."""
    total = next(row for row in report["requests"] if row["name"] == "Aggregated")
    assert total["requests"] == sum(t["figures"]["requests"] for t in report["tenants"]) > 0


def test_a_local_run_converges_every_tenant_and_exits_0(origin: tuple[str, str], tmp_path: Path) -> None:
    url, db = origin
    report_path, html = tmp_path / "load.json", tmp_path / "locust.html"
    process = aup_load(
        "--target", url, "--local-tenants", "2", "--db", db, "--run-time", f"{RUN_S}s", "--quiet",
        "--think", "0.1:0.3", "--report", str(report_path), "--html", str(html), "--csv", str(tmp_path / "stats"),
    )  # fmt: skip
    code = finished(process)
    output = "\n".join(process.output)
    assert code == 0, output
    assert "verdict: 2 of 2 tenant(s) converged" in output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["verdict"] == {"tenants": 2, "converged": 2, "diverged": 0, "unjudged": 0, "exit_code": 0}
    assert {t["idp"] for t in report["tenants"]} == {"okta", "entra"}  # --idp mixed alternates
    _check_counts(report)
    assert "<html" in html.read_text(encoding="utf-8").lower()
    assert (tmp_path / "stats_stats.csv").read_text(encoding="utf-8").count("\n") > 2
    # The server's end state, read here: each tenant holds its directory's users and groups, under its prefix.
    tokens = _tokens_for(db, [tenant["tenant"] for tenant in report["tenants"]])  # load-1, load-2
    for tenant in report["tenants"]:
        token = tokens[tenant["tenant"]]
        users = _read(tenant["url"], token, "/Users", tenant["prefix"])
        groups = _read(tenant["url"], token, "/Groups", tenant["prefix"])
        assert len(users) == tenant["users"] > 0
        assert len(groups) == tenant["groups"] > 0
        assert len({u["userName"].lower() for u in users}) == len(users)  # no duplicates


def _tokens_for(db: str, tenants: list[str]) -> dict[str, str]:
    """Fresh tokens for these tenants, issued the way ``--local-tenants`` issues its own."""
    from aup_server.auth import issue_token
    from aup_server.config import ServerConfig
    from aup_server.store import open_store

    store = open_store(ServerConfig(db=db))
    try:
        return {name: issue_token(store, f"test-reader-{len(store.list_tokens(name))}", name) for name in tenants}
    finally:
        store.close()


def test_a_master_with_two_workers_aggregates_their_counts_and_verdicts(
    origin: tuple[str, str], tmp_path: Path
) -> None:
    url, db = origin
    report_path = tmp_path / "load.json"
    master = aup_load(
        "--target", url, "--local-tenants", "4", "--db", db, "--run-time", f"{RUN_S}s", "--quiet", "--think", "0.1:0.3",
        "--master", "--master-bind-host", "127.0.0.1", "--master-port", "0", "--expect-workers", "2",
        "--expect-workers-max-wait", "60", "--report", str(report_path),
    )  # fmt: skip
    port = master.wait_for(r"master listening on 127\.0\.0\.1:(\d+)", timeout=START_TIMEOUT_S).group(1)
    workers = [aup_load("--worker", "--master-host", "127.0.0.1", "--master-port", port) for _ in range(2)]
    try:
        code = finished(master)
        worker_codes = [finished(worker) for worker in workers]
    finally:
        for process in (master, *workers):
            process.stop(timeout=10)
    output = "\n".join(master.output)
    assert code == 0, output
    assert worker_codes == [0, 0], [w.output for w in workers]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["workers"] == 2
    assert report["verdict"]["converged"] == report["verdict"]["tenants"] == 4
    _check_counts(report)


def test_a_server_that_loses_acknowledged_member_adds_fails_the_run(tmp_path: Path) -> None:
    server = Process.start([sys.executable, str(LOSSY), str(tmp_path / "lossy.db")])
    try:
        token = server.wait_for(r"token (\S+)", timeout=START_TIMEOUT_S).group(1)
        url = server.wait_for(r"lossy serving on (\S+)", timeout=START_TIMEOUT_S).group(1) + "/scim/v2"
        process = aup_load(
            "--target", url, "--token", token, "--idp", "okta", "--scenario", "churn", "--run-time", f"{RUN_S}s",
            "--quiet", "--think", "0.1:0.2", "--report", str(tmp_path / "load.json"),
        )  # fmt: skip
        code = finished(process)
    finally:
        server.stop(timeout=10)
    output = "\n".join(process.output)
    assert code == 1, output
    assert "DIVERGED" in output and "are missing" in output
    report = json.loads((tmp_path / "load.json").read_text(encoding="utf-8"))
    assert report["verdict"]["diverged"] == 1 and report["verdict"]["exit_code"] == 1


def test_a_master_no_worker_joins_is_not_judged_and_exits_2(origin: tuple[str, str]) -> None:
    url, db = origin
    master = aup_load(
        "--target", url, "--local-tenants", "1", "--db", db, "--run-time", "2s", "--quiet", "--master",
        "--master-bind-host", "127.0.0.1", "--master-port", "0", "--expect-workers", "1",
        "--expect-workers-max-wait", "1",
    )  # fmt: skip
    assert finished(master) == 2
    assert "the load never started" in "\n".join(master.output)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--target", "http://127.0.0.1:9/scim/v2", "--token", "t", "--run-time", "2s"), "cannot connect"),
        (("--run-time", "2s"), "give exactly one of --token"),
        (("--target", "http://127.0.0.1:9", "--token", "t", "--run-time", "nope"), "not a time span"),
        (("--target", "http://127.0.0.1:9", "--token", "t", "--idp", "pingone", "--run-time", "2s"), "--idp 'pingone'"),
        (("--target", "http://127.0.0.1:9", "--local-tenants", "2", "--db", "nowhere.db"), "--db nowhere.db: no such"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    process = aup_load(*args)
    assert finished(process) == 2
    output = "\n".join(process.output)
    assert message in output, output
    assert "Traceback" not in output


def test_a_run_started_from_the_web_ui_is_judged_when_stopped_by_sigterm(origin: tuple[str, str]) -> None:
    url, db = origin
    process = aup_load(
        "--target", url, "--local-tenants", "2", "--db", db, "--web", "--web-port", "0", "--quiet",
        "--think", "0.1:0.3",
    )  # fmt: skip
    try:
        ui = process.wait_for(r"Locust web UI on (http://\S+);", timeout=START_TIMEOUT_S).group(1)
        with httpx.Client(base_url=ui, timeout=15) as http:
            assert http.get("/").status_code == 200
            started = http.post("/swarm", data={"user_count": "2", "spawn_rate": "10"})
            assert started.json()["success"] is True, started.text
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                stats = http.get("/stats/requests").json()
                if stats["total_rps"] > 0 or any(row["num_requests"] for row in stats["stats"]):
                    break
                time.sleep(0.5)
            else:
                raise AssertionError("the web UI's run sent no request")
    finally:
        code, killed = process.stop(timeout=DEADLINE_S, signum=signal.SIGTERM)
        process.drain()
    output = "\n".join(process.output)
    assert not killed and code == 0, output
    assert "verdict: 2 of 2 tenant(s) converged" in output


def test_a_server_that_goes_away_mid_run_leaves_the_run_unjudged_and_exits_2(server_db: str, tmp_path: Path) -> None:
    with serving(server_db) as (url, server):
        process = aup_load(
            "--target", url, "--local-tenants", "2", "--db", server_db, "--run-time", "10s", "--quiet",
            "--think", "0.1:0.2", "--timeout", "5", "--report", str(tmp_path / "load.json"),
        )  # fmt: skip
        wait_for_tenant_users(url, server_db, "load-2")
        assert stop_server(server) == 0  # mid-run
    code = finished(process)
    output = "\n".join(process.output)
    assert code == 2, output
    report = json.loads((tmp_path / "load.json").read_text(encoding="utf-8"))
    assert report["verdict"]["unjudged"] == 2
    transport_errors = ("ConnectError", "RemoteProtocolError", "ReadError")  # httpx's, whatever moment it went
    assert all(any(e in tenant["error"] for e in transport_errors) for tenant in report["tenants"]), report["tenants"]
    assert "Traceback" not in output


def test_a_rate_limited_server_s_429s_are_waited_out_and_counted_apart(server_db: str, tmp_path: Path) -> None:
    with serving(server_db, "--rate-limit", "1200", "--rate-burst", "10") as (url, _):
        process = aup_load(
            "--target", url, "--local-tenants", "2", "--db", server_db, "--run-time", "5s", "--quiet",
            "--think", "0:0.1", "--directory-users", "20", "--report", str(tmp_path / "load.json"),
        )  # fmt: skip
        code = finished(process)
    assert code == 0, "\n".join(process.output)
    report = json.loads((tmp_path / "load.json").read_text(encoding="utf-8"))
    total = next(row for row in report["requests"] if row["name"] == "Aggregated")
    waited = sum(tenant["figures"]["rate_limited_429"] for tenant in report["tenants"])
    assert waited > 0  # 20 requests a second per token, bursts of 10: less than either IdP sends unpaced
    assert total["rate_limited"] == waited and total["failures"] == 0
    assert report["verdict"]["converged"] == 2
