"""``aup load`` figures (issue #25), each against a fresh ``aup serve`` over loopback:

- **one worker**: the requests per second one load process (Locust's local runner) sustains with no think time,
  and its CPU per request in the steady part of the run (CPU read from /proc between two instants after the
  warm-up, requests between the same instants from Locust's stats history);
- **baseline**: Locust's plain ``FastHttpUser`` (bench/plain_locustfile.py) sending the same request kinds in
  the same proportions, measured the same way: the load generator's cost per request over the plain user's;
- **tenants**: the p99 of every request while ``tenants`` tenants sync at once with the default think times;
- **workers**: a master with one worker process and with two, no think time: requests per second.

``python -m bench --only load`` runs it. Figures, not pass/fail.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import aup_serve
from scimcore.process import Process

LOAD_TIMEOUT_S = 300.0
WARMUP_S = 3.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
PLAIN = Path(__file__).with_name("plain_locustfile.py")


def _cpu_s(pid: int) -> float:
    """User plus system CPU seconds of a running process (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _load(*args: str, env: dict[str, str] | None = None, cmd: list[str] | None = None) -> Process:
    return Process.start(cmd or [sys.executable, "-m", "aup", "load", *args], env=env, new_session=True)


def _finish(process: Process, what: str) -> int:
    try:
        code = process.wait(timeout=LOAD_TIMEOUT_S)
    finally:
        process.stop(timeout=30)
        process.drain()
    if code not in (0, 1):
        raise RuntimeError(f"{what} exited with {code}: {' | '.join(process.output[-8:])}")
    return code


def _steady(process: Process, seconds: float, *others: int) -> tuple[float, float, float, list[float]]:
    """CPU seconds of ``process`` between WARMUP_S and the end of a ``seconds`` run, those two instants, and the
    CPU seconds of the ``others`` (pids) in the same span."""
    time.sleep(WARMUP_S)
    pids = [process.pid, *others]
    start, before = time.time(), [_cpu_s(pid) for pid in pids]
    time.sleep(max(1.0, seconds - WARMUP_S - 1.0))
    end, after = time.time(), [_cpu_s(pid) for pid in pids]
    spent = [b - a for a, b in zip(before, after, strict=True)]
    return spent[0], start, end, spent[1:]


def _window_p99(history: Path, instant: float) -> float:
    """Locust's current p99 (its last 10 s) at ``instant``, from the stats history."""
    with history.open(encoding="utf-8") as lines:
        rows = [row for row in csv.DictReader(lines) if row["Name"] == "Aggregated" and row["99%"] not in ("", "N/A")]
    before = [row for row in rows if float(row["Timestamp"]) <= instant] or rows[:1]
    return float(before[-1]["99%"])


def _requests_between(history: Path, start: float, end: float) -> int:
    """Requests Locust counted between two instants, from its full stats history (the Aggregated rows)."""
    with history.open(encoding="utf-8") as lines:
        rows = [row for row in csv.DictReader(lines) if row["Name"] == "Aggregated"]
    points = [(float(row["Timestamp"]), int(row["Total Request Count"])) for row in rows]
    if len(points) < 2:
        raise RuntimeError(f"{history} has too few rows to measure between two instants")

    def at(instant: float) -> float:
        before = [p for p in points if p[0] <= instant] or points[:1]
        after = [p for p in points if p[0] >= instant] or points[-1:]
        (t0, n0), (t1, n1) = before[-1], after[0]
        return n0 if t1 == t0 else n0 + (n1 - n0) * (instant - t0) / (t1 - t0)

    return round(at(end) - at(start))


def _tenants(origin: str, db: Path, count: int) -> list[dict[str, str]]:
    from aup_server.auth import issue_token  # noqa: PLC0415 - bench reaches the server through its doors
    from aup_server.config import ServerConfig  # noqa: PLC0415
    from aup_server.store import open_store  # noqa: PLC0415

    store = open_store(ServerConfig(db=str(db)))
    try:
        names = [f"plain-{n}" for n in range(1, count + 1)]
        return [{"url": f"{origin}/scim/{name}/v2", "token": issue_token(store, "bench", name)} for name in names]
    finally:
        store.close()


def measure(workdir: Path, *, tenants: int, seconds: float, users: int) -> dict[str, Any]:
    result: dict[str, Any] = {"tenants": tenants, "seconds": seconds, "directory_users": users}
    common = ["--quiet", "--directory-users", str(users), "--directory-groups", "4", "--stop-timeout", "120"]
    span = f"{int(seconds)}s"
    # one worker (Locust's local runner), no think time; then the plain user with the same mix
    with aup_serve(workdir / "load-one.db") as server:
        origin = server.match.group("url").removesuffix("/scim/v2")
        report = workdir / "one.json"
        one = _load(
            "--target", origin, "--local-tenants", "4", "--db", str(workdir / "load-one.db"), "--think", "0:0",
            "--run-time", span, "--report", str(report), "--csv", str(workdir / "one"), *common,
        )  # fmt: skip
        cpu, start, end, _ = _steady(one, seconds)
        _finish(one, "aup load (one worker)")
        data = json.loads(report.read_text(encoding="utf-8"))
        steady = _requests_between(workdir / "one_stats_history.csv", start, end)
        total = next(row for row in data["requests"] if row["name"] == "Aggregated")
        mix = {f"{row['method']} {row['name']}": row["requests"] for row in data["requests"] if row["method"]}
        result["one_worker"] = {
            "rps": total["rps"],
            "p99_ms": total["p99_ms"],
            "cpu_per_request_ms": round(cpu / steady * 1000, 3),
            "converged": data["verdict"]["converged"] == data["verdict"]["tenants"],
        }
        env = {
            "AUP_BENCH_TENANTS": json.dumps(_tenants(origin, workdir / "load-one.db", 4)),
            "AUP_BENCH_MIX": json.dumps(mix),
        }
        plain = _load(
            cmd=[
                sys.executable, "-m", "locust", "-f", str(PLAIN), "--headless", "-u", "4", "-r", "10", "-t", span,
                "--csv", str(workdir / "plain"), "--csv-full-history", "--only-summary", "--loglevel", "WARNING",
            ],
            env=env,
        )  # fmt: skip
        cpu, start, end, _ = _steady(plain, seconds)
        _finish(plain, "locust (plain FastHttpUser)")
        steady = _requests_between(workdir / "plain_stats_history.csv", start, end)
        result["plain"] = {"cpu_per_request_ms": round(cpu / steady * 1000, 3)}
        result["cost_over_plain"] = round(
            result["one_worker"]["cpu_per_request_ms"] / result["plain"]["cpu_per_request_ms"], 2
        )
    # many tenants at once, default think times
    with aup_serve(workdir / "load-many.db") as server:
        origin = server.match.group("url").removesuffix("/scim/v2")
        report = workdir / "many.json"
        many = _load(
            "--target", origin, "--local-tenants", str(tenants), "--db", str(workdir / "load-many.db"),
            "--run-time", span, "--spawn-rate", str(tenants), "--report", str(report), "--csv", str(workdir / "many"),
            *common,
        )  # fmt: skip
        cpu, start, end, (server_cpu,) = _steady(many, seconds, server.pid)
        _finish(many, "aup load (tenants)")
        data = json.loads(report.read_text(encoding="utf-8"))
        total = next(row for row in data["requests"] if row["name"] == "Aggregated")
        result["many_tenants"] = {
            "rps": total["rps"],
            "p50_ms": total["p50_ms"],
            "p99_ms": total["p99_ms"],
            "steady_p99_ms": _window_p99(workdir / "many_stats_history.csv", end),
            "server_cpu_share": round(server_cpu / (end - start), 2),
            "generator_cpu_share": round(cpu / (end - start), 2),
            "converged": data["verdict"]["converged"],
            "judged": data["verdict"]["tenants"],
        }
    # a master with one worker, then with two (no think time)
    result["workers"] = {}
    for count in (1, 2):
        db = workdir / f"load-w{count}.db"
        with aup_serve(db) as server:
            origin = server.match.group("url").removesuffix("/scim/v2")
            report = workdir / f"w{count}.json"
            master = _load(
                "--target", origin, "--local-tenants", "8", "--db", str(db), "--think", "0:0", "--run-time", span,
                "--master", "--master-bind-host", "127.0.0.1", "--master-port", "0", "--expect-workers", str(count),
                "--report", str(report), *common,
            )  # fmt: skip
            port = master.wait_for(r"master listening on 127\.0\.0\.1:(\d+)", timeout=60).group(1)
            workers = [_load("--worker", "--master-host", "127.0.0.1", "--master-port", port) for _ in range(count)]
            _, start, end, spent = _steady(master, seconds, server.pid, *(worker.pid for worker in workers))
            _finish(master, f"aup load --master ({count} workers)")
            for worker in workers:
                _finish(worker, "aup load --worker")
            data = json.loads(report.read_text(encoding="utf-8"))
            total = next(row for row in data["requests"] if row["name"] == "Aggregated")
            result["workers"][str(count)] = {
                "rps": total["rps"],
                "p99_ms": total["p99_ms"],
                "server_cpu_share": round(spent[0] / (end - start), 2),
                "workers_cpu_share": round(sum(spent[1:]) / (end - start), 2),
            }
    result["two_over_one_worker"] = round(result["workers"]["2"]["rps"] / result["workers"]["1"]["rps"], 2)
    return result


def describe(data: dict[str, Any]) -> str:
    one, plain, many, workers = data["one_worker"], data["plain"], data["many_tenants"], data["workers"]
    return "\n".join(
        [
            f"aup load, {data['seconds']:g} s per run, {data['directory_users']} users per tenant directory",
            f"  one worker process, 4 tenants, no think time: {one['rps']} req/s (p99 {one['p99_ms']:g} ms), "
            f"{one['cpu_per_request_ms']} ms CPU per request; plain FastHttpUser, same mix: "
            f"{plain['cpu_per_request_ms']} ms ({data['cost_over_plain']}x)",
            f"  {data['tenants']} tenants at once, default think times: {many['rps']} req/s, "
            f"p50 {many['p50_ms']:g} ms, p99 {many['p99_ms']:g} ms (the last 10 s: {many['steady_p99_ms']:g} ms); "
            f"CPU of one core: server {many['server_cpu_share']}, load generator {many['generator_cpu_share']}; "
            f"{many['converged']} of {many['judged']} converged",
            f"  master + 1 worker {workers['1']['rps']} req/s, + 2 workers {workers['2']['rps']} req/s "
            f"({data['two_over_one_worker']}x); CPU of one core, server / workers: "
            f"{workers['1']['server_cpu_share']} / {workers['1']['workers_cpu_share']} and "
            f"{workers['2']['server_cpu_share']} / {workers['2']['workers_cpu_share']}",
        ]
    )
