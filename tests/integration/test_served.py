"""Against a real ``aup serve`` process over loopback: the CLI, persistence, shutdown and concurrency."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from aup_server.store import shown_db
from scimcore import urns

from .conftest import Served, start_server, stop_server, wait_for

pytestmark = pytest.mark.network


def _client(served: Served) -> httpx.Client:
    return httpx.Client(base_url=served.base_url, headers={"Authorization": f"Bearer {served.token}"}, timeout=30.0)


def test_serves_scim_on_loopback_with_printed_token(served: Served) -> None:
    assert served.base_url.startswith("http://127.0.0.1:")
    with _client(served) as c:
        assert c.get("/ServiceProviderConfig").status_code == 200
        created = c.post("/Users", json={"schemas": [urns.USER], "userName": "ann@example.com"})
        assert created.status_code == 201
        assert created.json()["meta"]["location"].startswith(served.base_url)
    with httpx.Client(base_url=served.base_url, timeout=10.0) as anonymous:
        assert anonymous.get("/Users").status_code == 401


def test_data_survives_restart_and_token_is_printed_only_once(server_db: str) -> None:
    db = server_db
    proc = start_server(db)
    try:
        base = wait_for(proc, r"SCIM base URL \(default\): (\S+)").group(1)
        token = wait_for(proc, r"New bearer token for default .*: (\S+)").group(1)
        wait_for(proc, r"aup serving on")
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10.0) as c:
            uid = c.post("/Users", json={"userName": "durable"}).json()["id"]
    finally:
        assert stop_server(proc) == 0
    proc.drain()
    assert any("aup stopped" in line for line in proc.output)

    proc = start_server(db)
    try:
        base = wait_for(proc, r"SCIM base URL \(default\): (\S+)").group(1)
        wait_for(proc, r"aup serving on")
        assert not any("New bearer token" in line for line in proc.output)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10.0) as c:
            assert c.get(f"/Users/{uid}").json()["userName"] == "durable"
    finally:
        assert stop_server(proc) == 0


def test_concurrent_member_adds_and_removes_end_exact(served: Served) -> None:
    """16 threads add and remove distinct members of one group: no update is lost (docs/domain.md §3.1)."""
    with _client(served) as c:
        users = [
            c.post("/Users", json={"schemas": [urns.USER], "userName": f"m{i}@example.com"}).json()["id"]
            for i in range(64)
        ]
        # Users 0..31 start in the group and are removed; users 32..63 are added.
        initial = [{"value": u} for u in users[:32]]
        gid = c.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "race", "members": initial}).json()["id"]

    def worker(n: int) -> list[int]:
        statuses = []
        with _client(served) as wc:
            for k in range(2):
                rm = users[n * 2 + k]
                add = users[32 + n * 2 + k]
                ops = [
                    {"op": "remove", "path": f'members[value eq "{rm}"]'},
                    {"op": "add", "path": "members", "value": [{"value": add}]},
                ]
                resp = wc.patch(f"/Groups/{gid}", json={"schemas": [urns.PATCH_OP], "Operations": ops})
                statuses.append(resp.status_code)
        return statuses

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(worker, range(16)))
    assert all(code == 204 for codes in results for code in codes), results
    with _client(served) as c:
        members = {m["value"] for m in c.get(f"/Groups/{gid}").json()["members"]}
    assert members == set(users[32:])


def test_concurrent_creates_of_one_username_give_one_201(served: Served) -> None:
    barrier = threading.Barrier(20)

    def create(n: int) -> int:
        with _client(served) as c:
            barrier.wait(timeout=30)
            body = {
                "schemas": [urns.USER],
                "userName": "Same.Name@example.com" if n % 2 else "same.name@EXAMPLE.com",
            }
            return c.post("/Users", json=body).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = Counter(pool.map(create, range(20)))
    assert codes == Counter({201: 1, 409: 19})
    with _client(served) as c:
        found = c.get("/Users", params={"filter": 'userName eq "SAME.NAME@example.com"'}).json()
    assert found["totalResults"] == 1


def test_server_output_never_shows_secrets_after_the_one_time_token(served: Served) -> None:
    """Requests with passwords, wrong tokens and server-side errors leave no secret in the process output."""
    password = "Pr0cess-Log-Secret!"
    with _client(served) as c:
        uid = c.post("/Users", json={"schemas": [urns.USER], "userName": "log@example.com", "password": password})
        assert uid.status_code == 201
        assert c.get("/Users", headers={"Authorization": "Bearer not-a-real-token-123"}).status_code == 401
        assert c.post("/Users", content=b"{broken", headers={"Content-Type": urns.MEDIA_TYPE}).status_code == 400
    code = stop_server(served.process)
    assert code == 0
    later = [line for line in served.output if "New bearer token" not in line]
    later += served.process.drain()
    text = "".join(later)
    for secret in (served.token, password, "not-a-real-token-123"):
        assert secret not in text


def test_a_settings_file_sets_the_limits_and_a_flag_given_wins(tmp_path: Path, server_db: str) -> None:
    """``aup serve --config FILE`` takes ServerConfig's names (README "Limits"); ``--db`` given wins over the file."""
    settings = tmp_path / "server.yaml"
    body = f"max_resource_bytes: 2048\nmax_count: 50\ndefault_count: 10\ndb: {tmp_path / 'ignored.db'}\n"
    settings.write_text(body, encoding="utf-8")
    server = start_server(server_db, "--config", str(settings))
    try:
        base = wait_for(server, r"SCIM base URL \(default\): (\S+)").group(1)
        token = wait_for(server, r"New bearer token for default .*: (\S+)").group(1)
        wait_for(server, rf"aup serving on .*\(db {re.escape(shown_db(server_db))}\)")  # --db won over the file
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as scim:
            big = scim.post("/Users", json={"schemas": [urns.USER], "userName": "big", "displayName": "x" * 4000})
            small = scim.post("/Users", json={"schemas": [urns.USER], "userName": "small"})
            config = scim.get("/ServiceProviderConfig").json()
    finally:
        assert stop_server(server) == 0
    assert big.status_code == 413 and "2048" in big.json()["detail"]
    assert small.status_code == 201
    assert config["filter"]["maxResults"] == 50
    assert not (tmp_path / "ignored.db").exists()


def test_a_settings_file_with_an_unknown_name_is_one_line_and_exit_2(tmp_path: Path) -> None:
    settings = tmp_path / "server.yaml"
    settings.write_text("max_resource_byte: 2048\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "aup", "serve", "--port", "0", "--db", str(tmp_path / "a.db"),
         "--config", str(settings)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"Error: unknown server setting(s): max_resource_byte; known: {result.stderr.split('known: ')[1].strip()}"
    ]
