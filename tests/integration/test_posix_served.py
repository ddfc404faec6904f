"""POSIX allocation over a real ``aup serve`` process: concurrent creates, restarts, and ``aup export posix``."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from aup.cli import main
from scimcore import urns
from scimcore.schemas import POSIX_GROUP_URN, POSIX_USER_URN
from scimcore.schemas.posix import COREWEAVE_USER_URN
from tests.integration.conftest import Served, start_server, stop_server, wait_for
from tests.unit.test_posix_rules import ssh_key

pytestmark = pytest.mark.network


def restart(served: Served) -> tuple[Any, str]:
    """Stop the served process and start another on the same database; returns it and its base URL."""
    assert stop_server(served.process) == 0
    proc = start_server(served.db)
    base = wait_for(proc, r"SCIM base URL \(default\): (\S+)").group(1)
    wait_for(proc, r"aup serving on")
    return proc, base


def client(base: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def create(http: httpx.Client, user_name: str, **extra: Any) -> dict[str, Any]:
    response = http.post("/Users", json={"schemas": [urns.USER], "userName": user_name, "active": True, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_16_concurrent_creates_get_16_distinct_uids_and_a_restart_keeps_the_counter(served: Served) -> None:
    with client(served.base_url, served.token) as http, ThreadPoolExecutor(16) as pool:
        docs = list(pool.map(lambda i: create(http, f"user{i:02d}@example.com"), range(16)))
    uids = sorted(doc[POSIX_USER_URN]["uidNumber"] for doc in docs)
    assert uids == list(range(10000, 10016))  # no duplicate, no gap: one counter, one writer at a time
    proc, base = restart(served)
    try:
        with client(base, served.token) as http:
            assert create(http, "after-restart@example.com")[POSIX_USER_URN]["uidNumber"] == 10016
            listed = http.get("/Users", params={"count": 100}).json()["Resources"]
        assert sorted(r[POSIX_USER_URN]["uidNumber"] for r in listed) == list(range(10000, 10017))
    finally:
        assert stop_server(proc) == 0


@pytest.fixture
def runner() -> Iterator[CliRunner]:
    yield CliRunner()


def test_export_writes_nsscache_files_and_check_catches_a_changed_uid(
    served: Served, runner: CliRunner, tmp_path: Path
) -> None:
    key = ssh_key("ssh-ed25519", bytes(32), "ann@laptop")
    with client(served.base_url, served.token) as http:
        ann = create(
            http, "Ann.Lee@example.com", name={"formatted": "Ann Lee"}, **{COREWEAVE_USER_URN: {"sunkSshKeys": [key]}}
        )
        ben = create(http, "ben@example.com")
        group = http.post(
            "/Groups", json={"displayName": "gpu-users", "members": [{"value": ann["id"]}, {"value": ben["id"]}]}
        )
        assert group.status_code == 201
        before, after = tmp_path / "before", tmp_path / "after"
        args = ["export", "posix", "--target", served.base_url, "--token", served.token]
        first = runner.invoke(main, [*args, "--out", str(before)])
        assert first.exit_code == 0, first.output
        uid, gid = ann[POSIX_USER_URN]["uidNumber"], group.json()[POSIX_GROUP_URN]["gidNumber"]
        assert (before / "passwd.cache").read_text().splitlines()[
            0
        ] == f"ann-lee:x:{uid}:{uid}:Ann Lee:/home/ann-lee:/bin/bash"
        assert (before / "group.cache").read_text() == f"gpu-users:x:{gid}:ann-lee,ben\n"
        assert (before / "sshkey.cache").read_text() == f"ann-lee:{key}\n"
        off = [{"op": "replace", "path": "active", "value": False}]
        http.patch(f"/Users/{ann['id']}", json={"schemas": [urns.PATCH_OP], "Operations": off}).raise_for_status()
        http.delete(f"/Users/{ben['id']}").raise_for_status()
        create(http, "ben@example.com")  # same name, new uid
        second = runner.invoke(main, [*args, "--out", str(after), "--check", str(before)])
    assert second.exit_code == 0, second.output
    assert f"ann-lee:x:{uid}:" in (after / "passwd.cache").read_text()  # deactivated: passwd kept
    assert (after / "sshkey.cache").read_text() == ""  # but no keys
    assert (after / "group.cache").read_text() == f"gpu-users:x:{gid}:\n"  # and no group access
    assert "note: user ben removed" in second.output and "note: user ben added" in second.output
    tampered = (after / "passwd.cache").read_text().replace(f"ann-lee:x:{uid}:{uid}", f"ann-lee:x:{uid + 50}:{uid}")
    (after / "passwd.cache").write_text(tampered)
    check = runner.invoke(main, ["export", "posix", "--out", str(after), "--check", str(before)])
    assert check.exit_code == 1
    assert f"error: user ann-lee ({ann['id']}): uid changed {uid} -> {uid + 50}" in check.output


def test_serve_no_posix_turns_the_tenant_off_and_keeps_it_off(served: Served) -> None:
    with client(served.base_url, served.token) as http:
        ann = create(http, "ann@example.com")
    assert stop_server(served.process) == 0
    proc = start_server(served.db, "--no-posix")
    try:
        assert "off (ids are kept)" in wait_for(proc, r"POSIX identities for default").string
        base = wait_for(proc, r"SCIM base URL \(default\): (\S+)").group(1)
        wait_for(proc, r"aup serving on")
        with client(base, served.token) as http:
            assert POSIX_USER_URN not in http.get(f"/Users/{ann['id']}").json()
    finally:
        assert stop_server(proc) == 0
    proc, base = restart(served)
    try:
        with client(base, served.token) as http:
            assert POSIX_USER_URN not in http.get(f"/Users/{ann['id']}").json()  # the setting persisted
    finally:
        assert stop_server(proc) == 0
