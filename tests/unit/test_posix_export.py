"""The nsscache emulator: its paging contract, its maps and cache files, and ``compare_exports``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.store import Store
from emulators.nsscache import NsscacheError, compare_exports, fetch_maps, nsscache_client, read_export, write_export
from emulators.nsscache.cache import sshkey_line
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.schemas import POSIX_USER_URN
from scimcore.schemas.posix import COREWEAVE_USER_URN
from scimcore.target import Bearer, Target
from tests.unit.test_posix_rules import ssh_key

KEYS = [ssh_key("ssh-ed25519", bytes([i]) * 32, f"k{i}") for i in range(2)]


@pytest.fixture
def server(make_store: Callable[..., Store]) -> Iterator[tuple[Any, str, list[httpx.Request]]]:
    """An embedded server with a 3-item default page, so every list takes several pages, and its request log."""
    store = make_store()
    app = create_app({"default_count": 3}, store=store)
    seen: list[httpx.Request] = []
    yield app, issue_token(store, "nsscache"), seen
    store.close()


def admin(app: Any, token: str) -> httpx.Client:
    transport = httpx.WSGITransport(app=app)
    return httpx.Client(transport=transport, base_url=IN_PROCESS_SCIM_URL, headers={"Authorization": f"Bearer {token}"})


def logged(app: Any, seen: list[httpx.Request]) -> httpx.BaseTransport:
    inner = httpx.WSGITransport(app=app)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        response = inner.handle_request(request)
        response.read()
        return httpx.Response(response.status_code, headers=response.headers, content=response.content)

    return httpx.MockTransport(handle)


def test_paging_sends_only_start_index_and_reads_every_page(server: tuple[Any, str, list[httpx.Request]]) -> None:
    app, token, seen = server
    with admin(app, token) as http:
        ids = [http.post("/Users", json={"userName": f"u{i}@x.io"}).json()["id"] for i in range(8)]
        http.post("/Groups", json={"displayName": "all", "members": [{"value": i} for i in ids]}).raise_for_status()
    scim = nsscache_client(Target(credentials=Bearer(token), app=logged(app, seen)))
    maps = fetch_maps(scim)
    assert sorted(maps.passwd) == [f"u{i}" for i in range(8)]
    assert maps.group["all"].members == tuple(f"u{i}" for i in range(8))
    assert maps.warnings == []
    queries = [dict(parse_qsl(urlsplit(str(r.url)).query)) for r in seen]
    assert all(set(q) == {"startIndex"} for q in queries)  # never count, never a filter
    assert [q["startIndex"] for q in queries] == ["1", "4", "7", "1"]  # 8 users in pages of 3, then 1 group
    assert {r.headers["User-Agent"] for r in seen} == {"nsscache"}


def test_maps_and_cache_files_round_trip(server: tuple[Any, str, list[httpx.Request]], tmp_path: Path) -> None:
    app, token, _ = server
    with admin(app, token) as http:
        body = {"userName": "ann@x.io", "displayName": "Ann: ops", COREWEAVE_USER_URN: {"sunkSshKeys": KEYS}}
        ann = http.post("/Users", json=body).json()
    maps = fetch_maps(nsscache_client(Target(credentials=Bearer(token), app=app)))
    uid = ann[POSIX_USER_URN]["uidNumber"]
    write_export(maps, tmp_path)
    assert (tmp_path / "passwd.cache").read_text() == f"ann:x:{uid}:{uid}:Ann  ops:/home/ann:/bin/bash\n"
    assert (tmp_path / "sshkey.cache").read_text() == f"ann:['{KEYS[0]}', '{KEYS[1]}']\n"
    assert json.loads((tmp_path / "aup-export.json").read_text())["users"] == {ann["id"]: "ann"}
    back = read_export(tmp_path)
    assert back.passwd == maps.passwd and back.sshkey == {"ann": tuple(KEYS)} and back.user_ids == maps.user_ids
    assert sshkey_line("ann", (KEYS[0],)) == f"ann:{KEYS[0]}"


def test_a_server_that_reports_zero_items_per_page_is_an_error_not_a_loop() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        page = {"schemas": [urns.LIST_RESPONSE], "totalResults": 5, "itemsPerPage": 0, "startIndex": 1}
        return httpx.Response(200, json={**page, "Resources": []})

    with pytest.raises(NsscacheError, match="same page forever"):
        fetch_maps(nsscache_client(Target(credentials=Bearer("t"), app=httpx.MockTransport(handle))))


def test_a_failed_page_fails_the_whole_read() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"detail": "busy"})

    with pytest.raises(NsscacheError, match="503"):
        fetch_maps(nsscache_client(Target(credentials=Bearer("t"), app=httpx.MockTransport(handle))))


def test_a_short_page_is_reported_since_nsscache_would_skip_entries() -> None:
    user = {"id": "1", "userName": "ann", POSIX_USER_URN: {"uidNumber": 10000, "username": "ann"}}

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"totalResults": 2, "itemsPerPage": 2, "startIndex": 1, "Resources": [user]})

    maps = fetch_maps(nsscache_client(Target(credentials=Bearer("t"), app=httpx.MockTransport(handle))))
    assert list(maps.passwd) == ["ann"]
    assert any("itemsPerPage is 2 but 1" in w for w in maps.warnings)


def _export(path: Path, users: dict[str, tuple[str, int]], *, index: bool = True) -> Path:
    """A hand-made export: SCIM id -> (name, uid)."""
    path.mkdir()
    (path / "passwd.cache").write_text("".join(f"{n}:x:{u}:{u}::/home/{n}:/bin/bash\n" for n, u in users.values()))
    (path / "group.cache").write_text("")
    (path / "sshkey.cache").write_text("")
    if index:
        data = {"users": {rid: name for rid, (name, _) in users.items()}, "groups": {}}
        (path / "aup-export.json").write_text(json.dumps(data))
    return path


def _errors(before: Path, after: Path) -> list[str]:
    return [f.message for f in compare_exports(read_export(before), read_export(after)) if f.severity == "error"]


def test_check_tells_a_rename_from_a_reuse_with_the_id_index(tmp_path: Path) -> None:
    before = _export(tmp_path / "a", {"id-ann": ("ann", 10000), "id-ben": ("ben", 10001)})
    renamed = _export(tmp_path / "b", {"id-ann": ("ann-lee", 10000), "id-ben": ("ben", 10001)})
    assert _errors(before, renamed) == []
    reused = _export(tmp_path / "c", {"id-ann": ("ann", 10000), "id-new": ("cat", 10001)})
    assert _errors(before, reused) == ["user cat (id-new) got uid 10001, which user ben had: reused"]
    moved = _export(tmp_path / "d", {"id-ann": ("ann", 10005), "id-ben": ("ben", 10001)})
    assert _errors(before, moved) == ["user ann (id-ann): uid changed 10000 -> 10005"]
    shared = _export(tmp_path / "e", {"id-ann": ("ann", 10001), "id-ben": ("ben", 10001)})
    assert "after: 2 users share uid 10001" in _errors(before, shared)


def test_check_without_the_index_compares_by_name(tmp_path: Path) -> None:
    before = _export(tmp_path / "a", {"1": ("ann", 10000)}, index=False)
    after = _export(tmp_path / "b", {"1": ("ann", 10009)}, index=False)
    assert _errors(before, after) == ["user ann: uid changed 10000 -> 10009"]


def test_read_export_names_a_broken_line(tmp_path: Path) -> None:
    path = _export(tmp_path / "a", {"1": ("ann", 10000)})
    (path / "passwd.cache").write_text("ann:x:10000\n")
    with pytest.raises(ValueError, match=r"passwd.cache:1: expected 7"):
        read_export(path)
