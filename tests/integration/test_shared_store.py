"""Several ``aup serve`` processes on one PostgreSQL database (issue #23): the races that break real SCIM servers
happen between processes, so each guarantee of the single process is proven here across two to four of them.

Every server and the PostgreSQL server are started by the test (tests/postgres.py) and stopped by their pids.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import httpx
import pytest

from scimcore import urns
from scimcore.process import Process
from scimcore.schemas.posix import POSIX_USER_URN
from tests.postgres import PostgresCluster

from .conftest import start_server, stop_server, wait_for

pytestmark = pytest.mark.network


@dataclass
class Node:
    """One ``aup serve`` process of the shared endpoint."""

    process: Process
    base_url: str


@dataclass
class Endpoint:
    nodes: list[Node]
    token: str
    db: str

    def client(self, index: int, timeout: float = 15.0) -> httpx.Client:
        node = self.nodes[index % len(self.nodes)]
        return httpx.Client(base_url=node.base_url, headers={"Authorization": f"Bearer {self.token}"}, timeout=timeout)


def _boot(stack: ExitStack, db: str, *extra: str) -> tuple[Node, str | None]:
    """Start one process, its stop registered before anything can fail, so none outlives the test."""
    proc = start_server(db, *extra)
    node = Node(proc, "")
    stack.callback(_stop, node)
    node.base_url = wait_for(proc, r"SCIM base URL \(default\): (\S+)").group(1)
    wait_for(proc, r"aup serving on")
    tokens = [line.rsplit(": ", 1)[1] for line in proc.output if line.startswith("New bearer token for default")]
    return node, (tokens[0] if tokens else None)


@contextmanager
def shared(postgres: PostgresCluster, processes: int, *extra: str) -> Iterator[Endpoint]:
    """``processes`` servers on one new database; the first prints the token, the others find it there."""
    db = postgres.new_database()
    with ExitStack() as stack:
        nodes: list[Node] = []
        token = None
        for _ in range(processes):
            node, printed = _boot(stack, db, *extra)
            nodes.append(node)
            token = token or printed
        assert token is not None
        # each tenant's token is made once, by the first process; the others find it in the database
        assert not any("New bearer token" in line for node in nodes[1:] for line in node.process.output)
        yield Endpoint(nodes, token, db)


def _stop(node: Node) -> None:
    """SIGTERM by pid and a clean exit; a process a test killed is only reaped (its output pipe closed)."""
    running = node.process.poll() is None
    code = stop_server(node.process)
    assert code == 0 or not running


def _user(name: str) -> dict[str, object]:
    return {"schemas": [urns.USER], "userName": name}


def test_member_adds_and_removes_from_four_processes_lose_nothing(postgres: PostgresCluster) -> None:
    with shared(postgres, 4) as endpoint:
        with endpoint.client(0) as c:
            users = [c.post("/Users", json=_user(f"m{i}@example.com")).json()["id"] for i in range(64)]
            initial = [{"value": u} for u in users[:32]]
            body = {"schemas": [urns.GROUP], "displayName": "race", "members": initial}
            gid = c.post("/Groups", json=body).json()["id"]

        def worker(n: int) -> list[int]:
            codes = []
            with endpoint.client(n) as wc:  # 16 workers over 4 processes
                for k in range(2):
                    ops = [
                        {"op": "remove", "path": f'members[value eq "{users[n * 2 + k]}"]'},
                        {"op": "add", "path": "members", "value": [{"value": users[32 + n * 2 + k]}]},
                    ]
                    codes.append(
                        wc.patch(f"/Groups/{gid}", json={"schemas": [urns.PATCH_OP], "Operations": ops}).status_code
                    )
            return codes

        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(worker, range(16)))
        assert all(code == 204 for codes in results for code in codes), results
        for index in range(4):
            with endpoint.client(index) as c:
                assert {m["value"] for m in c.get(f"/Groups/{gid}").json()["members"]} == set(users[32:])


def test_one_user_name_created_at_once_on_two_processes_is_one_201_and_409s(postgres: PostgresCluster) -> None:
    with shared(postgres, 2) as endpoint:
        barrier = threading.Barrier(16)

        def create(n: int) -> int:
            with endpoint.client(n) as c:
                barrier.wait(timeout=30)
                name = "Race.Winner@example.com" if n % 2 else "race.winner@EXAMPLE.com"  # one identity, two cases
                return c.post("/Users", json=_user(name)).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            codes = sorted(pool.map(create, range(16)))
        assert codes == [201] + [409] * 15
        with endpoint.client(1) as c:
            found = c.get("/Users", params={"filter": 'userName eq "RACE.WINNER@example.com"'}).json()
        assert found["totalResults"] == 1


def test_versions_only_grow_and_if_match_holds_across_processes(postgres: PostgresCluster) -> None:
    with shared(postgres, 2) as endpoint, endpoint.client(0) as first, endpoint.client(1) as second:
        made = first.post("/Users", json=_user("etag@example.com"))
        uid, tag = made.json()["id"], made.headers["ETag"]
        replace = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "one"}]}
        moved = second.patch(f"/Users/{uid}", json=replace, headers={"If-Match": tag})
        assert moved.status_code == 200
        stale = first.patch(f"/Users/{uid}", json=replace, headers={"If-Match": tag})
        assert stale.status_code == 412  # the other process moved it on
        assert first.get(f"/Users/{uid}", headers={"If-None-Match": moved.headers["ETag"]}).status_code == 304

        def bump(n: int) -> str:
            with endpoint.client(n) as c:
                body = {
                    "schemas": [urns.PATCH_OP],
                    "Operations": [{"op": "replace", "path": "title", "value": f"t{n}"}],
                }
                answer = c.patch(f"/Users/{uid}", json=body)
                assert answer.status_code == 200, answer.text
                return str(answer.json()["meta"]["version"])

        with ThreadPoolExecutor(max_workers=8) as pool:
            versions = list(pool.map(bump, range(20)))
        numbers = sorted(int(v.strip('W/"')) for v in versions)
        assert numbers == list(range(3, 23))  # every write its own version, none reused


def test_posix_ids_are_never_handed_out_twice_by_three_processes(postgres: PostgresCluster) -> None:
    with shared(postgres, 3) as endpoint:

        def create(n: int) -> int:
            with endpoint.client(n) as c:
                answer = c.post("/Users", json=_user(f"posix{n:02d}@example.com"))
                assert answer.status_code == 201, answer.text
                return int(answer.json()[POSIX_USER_URN]["uidNumber"])

        with ThreadPoolExecutor(max_workers=24) as pool:
            uids = sorted(pool.map(create, range(24)))
        assert uids == list(range(10000, 10024))  # one counter in the database: no duplicate, no gap


def test_tenants_stay_apart_and_a_token_works_on_every_process(postgres: PostgresCluster) -> None:
    with shared(postgres, 2, "--tenant", "default", "--tenant", "acme") as endpoint:
        acme = [line.rsplit(": ", 1)[1] for line in endpoint.nodes[0].process.output if "token for acme" in line]
        assert len(acme) == 1
        with endpoint.client(0) as c:
            mine = c.post("/Users", json=_user("shared@example.com")).json()["id"]
        other_base = endpoint.nodes[1].base_url.replace("/scim/v2", "/scim/acme/v2")
        with httpx.Client(base_url=other_base, headers={"Authorization": f"Bearer {acme[0]}"}, timeout=15) as c:
            assert c.get(f"/Users/{mine}").status_code == 404
            assert c.post("/Users", json=_user("shared@example.com")).status_code == 201  # uniqueness is per tenant
            assert c.get("/Users").json()["totalResults"] == 1
        with endpoint.client(1) as c:
            assert c.get(f"/Users/{mine}").status_code == 200


def test_a_token_revoked_through_the_database_stops_working_on_every_process(postgres: PostgresCluster) -> None:
    from click.testing import CliRunner

    from aup.cli import main

    with shared(postgres, 2) as endpoint:
        made = CliRunner().invoke(main, ["token", "create", "ci", "--db", endpoint.db])
        assert made.exit_code == 0, made.output
        secret = made.output.strip().splitlines()[-1].rsplit(" ", 1)[-1]
        for node in endpoint.nodes:
            answer = httpx.get(f"{node.base_url}/Users", headers={"Authorization": f"Bearer {secret}"}, timeout=15)
            assert answer.status_code == 200
        revoked = CliRunner().invoke(main, ["token", "revoke", "ci", "--db", endpoint.db])
        assert revoked.exit_code == 0, revoked.output
        for node in endpoint.nodes:
            answer = httpx.get(f"{node.base_url}/Users", headers={"Authorization": f"Bearer {secret}"}, timeout=15)
            assert answer.status_code == 401


def test_rate_limits_are_per_process(postgres: PostgresCluster) -> None:
    """Documented: a token's budget is kept in each process (aup_server/ratelimit.py), so N processes pass N
    bursts; a shared limit belongs in the load balancer in front of them (README)."""
    with shared(postgres, 2, "--rate-limit", "60", "--rate-burst", "3") as endpoint:
        for index in range(2):
            with endpoint.client(index) as c:
                codes = [c.get("/Users").status_code for _ in range(4)]
            assert codes == [200, 200, 200, 429]


WRITERS = 6


def test_acknowledged_writes_survive_kill_9_of_one_of_two_processes(postgres: PostgresCluster) -> None:
    """Writers on both processes; one is SIGKILLed mid-load; every acknowledged write is there afterwards."""
    with shared(postgres, 2) as endpoint:
        acked: dict[str, str] = {}
        lock = threading.Lock()
        stop = threading.Event()
        loaded = threading.Event()
        serial = itertools.count()

        def writer(n: int) -> None:
            with endpoint.client(n, timeout=5.0) as wc:
                while not stop.is_set():
                    name = f"w{n}-{next(serial)}@example.com"
                    try:
                        answer = wc.post("/Users", json=_user(name))
                    except httpx.HTTPError:
                        return  # this writer's process is gone
                    if answer.status_code == 201:
                        with lock:
                            acked[answer.json()["id"]] = name
                            if len(acked) >= 120:
                                loaded.set()

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        for thread in threads:
            thread.start()
        try:
            assert loaded.wait(timeout=60), "the write load did not get going"
            victim = endpoint.nodes[1].process
            os.kill(victim.pid, signal.SIGKILL)
            assert victim.wait(timeout=10) == -signal.SIGKILL
            loaded.clear()
            with lock:
                before = len(acked)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads)
        assert len(acked) >= before
        with endpoint.client(0, timeout=30) as c:
            stored: dict[str, str] = {}
            params: dict[str, str | int] = {"cursor": "", "count": 1000, "attributes": "userName"}
            while True:
                page = c.get("/Users", params=params).json()
                stored.update((r["id"], r["userName"]) for r in page["Resources"])
                if "nextCursor" not in page:
                    break
                params["cursor"] = page["nextCursor"]
        lost = {uid for uid, name in acked.items() if stored.get(uid) != name}
        assert not lost, f"{len(lost)} acknowledged creates lost"
