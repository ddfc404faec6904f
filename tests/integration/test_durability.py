"""kill -9 during a write load: every write that got a 2xx is there after a restart, and the file is intact."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading

import httpx
import pytest

from scimcore import urns
from scimcore.process import Process
from tests.conftest import ON_POSTGRES

from .conftest import start_server, stop_server, wait_for

pytestmark = pytest.mark.network

WRITERS = 6
MAX_WRITES_PER_WRITER = 400
ACKS_BEFORE_KILL = 60  # the crash comes in the middle of the load, after this many acknowledged creates


def _boot(db: str) -> tuple[Process, str]:
    proc = start_server(db)
    base = wait_for(proc, r"SCIM base URL \(default\): (\S+)").group(1)
    wait_for(proc, r"aup serving on")
    return proc, base


def test_acknowledged_writes_survive_kill_9(server_db: str) -> None:
    db = server_db
    proc = start_server(db)
    try:
        base = wait_for(proc, r"SCIM base URL \(default\): (\S+)").group(1)
        token = wait_for(proc, r"New bearer token for default .*: (\S+)").group(1)
        wait_for(proc, r"aup serving on")
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=10.0) as c:
            gid = c.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "all"}).json()["id"]

        acked_users: dict[str, str] = {}
        acked_members: set[str] = set()
        lock = threading.Lock()
        stop = threading.Event()
        loaded = threading.Event()

        def writer(n: int) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=5.0) as wc:
                for i in range(MAX_WRITES_PER_WRITER):
                    if stop.is_set():
                        return
                    name = f"w{n}-{i}@example.com"
                    try:
                        resp = wc.post("/Users", json={"schemas": [urns.USER], "userName": name})
                        if resp.status_code != 201:
                            continue
                        uid = resp.json()["id"]
                        with lock:
                            acked_users[uid] = name
                            if len(acked_users) >= ACKS_BEFORE_KILL:
                                loaded.set()
                        ops = [{"op": "add", "path": "members", "value": [{"value": uid}]}]
                        resp = wc.patch(f"/Groups/{gid}", json={"schemas": [urns.PATCH_OP], "Operations": ops})
                        if resp.status_code == 204:  # a Group PATCH answers 204 (RFC 7644 §3.5.2)
                            with lock:
                                acked_members.add(uid)
                    except httpx.HTTPError:
                        return  # the server is gone: only acknowledged writes count

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        for t in threads:
            t.start()
        assert loaded.wait(timeout=60), "the write load did not get going"
        os.kill(proc.pid, signal.SIGKILL)  # writers are still sending: the crash lands mid-write
        stop.set()
        for t in threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in threads)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        stop_server(proc)

    if not ON_POSTGRES:  # a SQLite file must still be whole; PostgreSQL checks its own on recovery
        conn = sqlite3.connect(db)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            conn.close()

    proc, base = _boot(db)
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=10.0) as c:
            users = c.get("/Users", params={"count": 1000, "attributes": "userName"}).json()
            stored = {r["id"]: r["userName"] for r in users["Resources"]}
            members = {m["value"] for m in c.get(f"/Groups/{gid}").json()["members"]}
    finally:
        assert stop_server(proc) == 0
    missing_users = {uid for uid in acked_users if stored.get(uid) != acked_users[uid]}
    assert not missing_users, f"{len(missing_users)} acknowledged creates lost"
    assert acked_members <= members, f"{len(acked_members - members)} acknowledged membership adds lost"


BULK_USERS = 5  # users per Bulk request, all members of the request's group


def _bulk_body(writer: int, serial: int) -> dict[str, object]:
    """A group that names users sent after it (forward bulkId references), then those users."""
    users = [f"b{writer}-{serial}-{k}@example.com" for k in range(BULK_USERS)]
    group = {
        "method": "POST",
        "path": "/Groups",
        "bulkId": "g",
        "data": {
            "schemas": [urns.GROUP],
            "displayName": f"bg{writer}-{serial}",
            "members": [{"value": f"bulkId:u{k}"} for k in range(BULK_USERS)],
        },
    }
    creates = [
        {"method": "POST", "path": "/Users", "bulkId": f"u{k}", "data": {"schemas": [urns.USER], "userName": name}}
        for k, name in enumerate(users)
    ]
    return {"schemas": [urns.BULK_REQUEST], "Operations": [group, *creates]}


def test_bulk_operations_are_each_applied_or_not_across_kill_9(server_db: str) -> None:
    """Every operation a BulkResponse acknowledged survives; one cut short is absent, never half there
    (aup_server/bulk.py: each operation is its own transaction)."""
    db = server_db
    proc = start_server(db)
    acked: dict[str, str] = {}  # id -> userName or displayName, from 201s in answered Bulk requests
    lock = threading.Lock()
    stop = threading.Event()
    loaded = threading.Event()
    try:
        base = wait_for(proc, r"SCIM base URL \(default\): (\S+)").group(1)
        token = wait_for(proc, r"New bearer token for default .*: (\S+)").group(1)
        wait_for(proc, r"aup serving on")
        headers = {"Authorization": f"Bearer {token}"}

        def writer(n: int) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=5.0) as wc:
                for i in range(MAX_WRITES_PER_WRITER):
                    if stop.is_set():
                        return
                    body = _bulk_body(n, i)
                    try:
                        resp = wc.post("/Bulk", json=body)
                    except httpx.HTTPError:
                        return  # the server is gone: only answered requests count
                    assert resp.status_code == 200, resp.text
                    names = {op["bulkId"]: op["data"] for op in body["Operations"]}  # type: ignore[attr-defined]
                    with lock:
                        for op in resp.json()["Operations"]:
                            assert op["status"] == "201", op
                            data = names[op["bulkId"]]
                            acked[op["location"].rsplit("/", 1)[-1]] = data.get("userName") or data["displayName"]
                        if len(acked) >= ACKS_BEFORE_KILL * 2:
                            loaded.set()

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        for t in threads:
            t.start()
        assert loaded.wait(timeout=60), "the bulk load did not get going"
        os.kill(proc.pid, signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in threads)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        stop_server(proc)

    proc, base = _boot(db)
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30.0) as c:
            users = {r["id"]: r["userName"] for r in _read_all(c, "/Users", "userName")}
            groups = {r["displayName"]: r for r in _read_all(c, "/Groups", "displayName,members")}
    finally:
        assert stop_server(proc) == 0
    stored = {**users, **{g["id"]: name for name, g in groups.items()}}
    lost = {rid for rid, name in acked.items() if stored.get(rid) != name}
    assert not lost, f"{len(lost)} acknowledged bulk creates lost"
    by_name = {name: rid for rid, name in users.items()}
    for name, group in groups.items():
        writer, serial = name[2:].split("-")
        expected = {by_name.get(f"b{writer}-{serial}-{k}@example.com") for k in range(BULK_USERS)}
        members = {m["value"] for m in group.get("members", [])}
        assert None not in expected and members == expected, f"group {name} is half there: {len(members)} members"


def _read_all(client: httpx.Client, path: str, attributes: str) -> list[dict[str, object]]:
    """Every resource, read by cursor (RFC 9865)."""
    found: list[dict[str, object]] = []
    params = {"cursor": "", "count": "1000", "attributes": attributes}
    while True:
        page = client.get(path, params=params).json()
        found += page["Resources"]
        if "nextCursor" not in page:
            return found
        params["cursor"] = page["nextCursor"]
