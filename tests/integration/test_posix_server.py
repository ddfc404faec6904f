"""POSIX identities on the reference server: allocation, tombstones, usernames, SSH keys, tenant setting."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store
from aup_server.store.sqlite import SCHEMA_VERSION
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.schemas import POSIX_GROUP_URN, POSIX_USER_URN
from scimcore.schemas.posix import COREWEAVE_USER_URN
from tests.unit.test_posix_rules import ssh_key

KEYS = f"{COREWEAVE_USER_URN}:sunkSshKeys"
KEY = ssh_key("ssh-ed25519", bytes(range(32)), "ann@laptop")
PATCH = urns.PATCH_OP


class Server:
    """A reference server over a store, reached in process; ``restart`` reopens the same database file."""

    def __init__(self, db: str, config: dict[str, Any] | None = None, token_name: str = "t") -> None:
        self.db, self.config = db, config or {}
        self.store = open_store(ServerConfig(db=db))
        self.token = issue_token(self.store, token_name)
        self.client = self._client()

    def _client(self) -> httpx.Client:
        app = create_app(self.config, store=self.store)
        self.app = app
        transport = httpx.WSGITransport(app=app)
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(transport=transport, base_url=IN_PROCESS_SCIM_URL, headers=headers)

    def restart(self) -> None:
        self.client.close()
        self.store.close()
        self.store = open_store(ServerConfig(db=self.db))
        self.client = self._client()

    def user(self, user_name: str, **extra: Any) -> dict[str, Any]:
        response = self.client.post("/Users", json={"userName": user_name, "active": True, **extra})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def close(self) -> None:
        self.client.close()
        self.store.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(str(tmp_path / "aup.db"))
    yield srv
    srv.close()


def posix(doc: dict[str, Any]) -> dict[str, Any]:
    return dict(doc[POSIX_USER_URN])


def test_a_user_gets_a_uid_username_home_shell_and_keys(server: Server) -> None:
    doc = server.user("Ann.Lee@example.com", **{COREWEAVE_USER_URN: {"sunkSshKeys": [KEY]}})
    block = posix(doc)
    assert block == {
        "uidNumber": 10000,
        "gidNumber": 10000,  # the user's private group
        "username": "ann-lee",
        "homeDirectory": "/home/ann-lee",
        "loginShell": "/bin/bash",
        "sshPublicKey": [KEY],
    }
    assert POSIX_USER_URN in doc["schemas"]
    assert server.client.get(f"/Users/{doc['id']}").json()[POSIX_USER_URN] == block


def test_uid_survives_rename_deactivate_reactivate_and_put(server: Server) -> None:
    doc = server.user("ann@example.com", **{COREWEAVE_USER_URN: {"sunkSshKeys": [KEY]}})
    uid, path = posix(doc)["uidNumber"], f"/Users/{doc['id']}"
    renamed = server.client.patch(
        path, json={"schemas": [PATCH], "Operations": [{"op": "replace", "path": "userName", "value": "ann.b@x.io"}]}
    ).json()
    assert posix(renamed)["uidNumber"] == uid and posix(renamed)["username"] == "ann-b"
    off = server.client.patch(
        path, json={"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": False}]}
    ).json()
    assert posix(off)["uidNumber"] == uid and "sshPublicKey" not in posix(off)  # keys gone while inactive
    assert off[COREWEAVE_USER_URN] == {"sunkSshKeys": [KEY]}  # but kept for reactivation
    body = {"userName": "ann.b@x.io", "active": True, COREWEAVE_USER_URN: {"sunkSshKeys": [KEY]}}
    body[POSIX_USER_URN] = {"uidNumber": 1, "username": "root"}  # readOnly: ignored (RFC 7644 §3.5.1)
    back = server.client.put(path, json=body).json()
    assert posix(back) == {**posix(renamed), "sshPublicKey": [KEY]}
    change = {"op": "replace", "path": f"{POSIX_USER_URN}:uidNumber", "value": 1}
    refused = server.client.patch(path, json={"schemas": [PATCH], "Operations": [change]})
    assert refused.status_code == 400 and refused.json()["scimType"] == "mutability"


def test_a_deleted_users_uid_is_never_handed_out_again_even_after_a_restart(server: Server) -> None:
    first = server.user("ann@example.com")
    assert server.client.delete(f"/Users/{first['id']}").status_code == 204
    again = server.user("ann@example.com")  # the username is free again; the uid is not
    assert posix(again)["username"] == "ann"
    assert posix(again)["uidNumber"] == posix(first)["uidNumber"] + 1
    server.restart()
    third = server.user("cat@example.com")
    assert posix(third)["uidNumber"] == posix(again)["uidNumber"] + 1
    with sqlite3.connect(server.db) as conn:
        tomb = conn.execute("SELECT number, deleted FROM posix_ids WHERE id = ?", (first["id"],)).fetchone()
    assert tomb[0] == posix(first)["uidNumber"] and tomb[1] is not None


def test_groups_get_gids_and_member_usernames_of_active_members(server: Server) -> None:
    ann, ben = server.user("ann@example.com"), server.user("ben@example.com")
    created = server.client.post("/Groups", json={"displayName": "gpu", "members": [{"value": ann["id"]}]}).json()
    assert created[POSIX_GROUP_URN] == {"gidNumber": 50000}
    ops = [{"op": "add", "path": "members", "value": [{"value": ben["id"]}]}]
    server.client.patch(f"/Groups/{created['id']}", json={"schemas": [PATCH], "Operations": ops})
    off = [{"op": "replace", "path": "active", "value": False}]
    server.client.patch(f"/Users/{ben['id']}", json={"schemas": [PATCH], "Operations": off})
    members = server.client.get(f"/Groups/{created['id']}").json()["members"]
    assert {m["value"]: m.get("username") for m in members} == {ann["id"]: "ann", ben["id"]: None}


def test_a_username_collision_is_409_and_nothing_is_stored(server: Server) -> None:
    server.user("Ann@contoso.com")
    clash = server.client.post("/Users", json={"userName": "ann@fabrikam.com"})
    assert clash.status_code == 409 and clash.json()["scimType"] == "uniqueness"
    assert "'ann'" in clash.json()["detail"]
    assert server.client.get("/Users", params={"filter": 'userName eq "ann@fabrikam.com"'}).json()["totalResults"] == 0
    root = server.client.post("/Users", json={"userName": "root@contoso.com"})
    assert root.status_code == 409 and "reserved" in root.json()["detail"]
    found = server.client.get("/Users", params={"filter": f'{POSIX_USER_URN}:username eq "ann"'}).json()
    assert [r["userName"] for r in found["Resources"]] == ["Ann@contoso.com"]


def test_invalid_ssh_keys_and_underivable_names_are_400(server: Server) -> None:
    bad = server.client.post("/Users", json={"userName": "ann@x.io", COREWEAVE_USER_URN: {"sunkSshKeys": ["k1"]}})
    assert bad.status_code == 400 and bad.json()["scimType"] == "invalidValue"
    assert "sunkSshKeys[0]" in bad.json()["detail"]
    nameless = server.client.post("/Users", json={"userName": "张伟@example.cn"})
    assert nameless.status_code == 400 and "POSIX username" in nameless.json()["detail"]
    assert server.client.get("/Users").json()["totalResults"] == 0


def test_an_exhausted_range_is_507_and_allocates_nothing(tmp_path: Path) -> None:
    srv = Server(str(tmp_path / "small.db"), {"posix_uid_range": [500, 501]})
    try:
        srv.user("a@x.io")
        srv.user("b@x.io")
        full = srv.client.post("/Users", json={"userName": "c@x.io"})
        assert full.status_code == 507 and "posix_uid_range" in full.json()["detail"]
        assert srv.client.get("/Users").json()["totalResults"] == 2
    finally:
        srv.close()


def test_a_tenant_can_turn_posix_off_and_back_on(server: Server) -> None:
    ann = server.user("ann@example.com")
    rules = server.app.extensions["aup"].service.posix
    assert rules.set_enabled(server.store, "default", False) == 0
    assert POSIX_USER_URN not in server.client.get(f"/Users/{ann['id']}").json()
    ben = server.user("ben@example.com")  # no uid while off
    clash = server.user("ann@fabrikam.com")  # no POSIX name, so no collision while off
    with pytest.raises(ValueError, match=r"ann@fabrikam\.com") as caught:
        rules.set_enabled(server.store, "default", True)
    assert "nothing was changed" in str(caught.value)
    assert POSIX_USER_URN not in server.client.get(f"/Users/{ben['id']}").json()  # rolled back
    server.client.delete(f"/Users/{clash['id']}")
    assert rules.set_enabled(server.store, "default", True) == 1  # only ben needed an id
    assert posix(server.client.get(f"/Users/{ann['id']}").json())["uidNumber"] == posix(ann)["uidNumber"]
    assert posix(server.client.get(f"/Users/{ben['id']}").json())["uidNumber"] == posix(ann)["uidNumber"] + 1


def test_a_server_with_posix_off_serves_no_extension(tmp_path: Path) -> None:
    srv = Server(str(tmp_path / "off.db"), {"posix": False})
    try:
        doc = srv.user("root@example.com")  # no POSIX name is derived, so nothing is reserved
        assert POSIX_USER_URN not in doc
        ids = {s["id"] for s in srv.client.get("/Schemas").json()["Resources"]}
        assert POSIX_USER_URN not in ids and COREWEAVE_USER_URN not in ids
    finally:
        srv.close()


def test_a_version_1_database_is_upgraded_with_posix_off_for_tenants_that_have_data(tmp_path: Path) -> None:
    db = tmp_path / "v1.db"
    old = Server(str(db))
    old.user("ann@example.com")
    old.close()
    with sqlite3.connect(db) as conn:  # what a version 1 file looks like: no POSIX tables
        conn.execute("DROP TABLE posix_ids")
        conn.execute("DROP TABLE posix_tenants")
        conn.execute("PRAGMA user_version = 1")
    upgraded = Server(str(db), token_name="t2")
    try:
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        listed = upgraded.client.get("/Users").json()["Resources"]
        assert [POSIX_USER_URN in r for r in listed] == [False]  # off until an admin turns it on
        assert upgraded.app.extensions["aup"].service.posix.set_enabled(upgraded.store, "default", True) == 1
        assert posix(upgraded.client.get("/Users").json()["Resources"][0])["username"] == "ann"
    finally:
        upgraded.close()
