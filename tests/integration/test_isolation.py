"""Isolation (issue #17): a PUT or PATCH is worked out outside the store's write lock and committed only if
the resource's version held (aup_server/service.py), so a slow request never stalls other writes, and a
write committed meanwhile is never lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask

from aup_server import service
from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.scim import patch as patches
from aup_server.store import SqliteStore, Store
from scimcore import urns

SLOW = "slow-marker"


def _client(app: Flask, store: SqliteStore, tenant: str) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url=f"http://scim.test/scim/{tenant}/v2",
        headers={"Authorization": f"Bearer {issue_token(store, f'okta-{tenant}', tenant)}"},
        timeout=30,
    )


def _replace(path: str, value: Any) -> dict[str, Any]:
    return {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": path, "value": value}]}


class Gate:
    """Holds the evaluation of PATCHes that carry ``SLOW`` until released; counts every evaluation."""

    def __init__(self, before_release: int = 1) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.calls = 0
        self.before_release = before_release  # how many evaluations wait for the release
        self.on_call: Any = None

    def wrap(self, original: Any) -> Any:
        def gated(doc: dict[str, Any], body: Any, *args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if SLOW in repr(body):
                if self.on_call is not None:
                    self.on_call(self.calls)
                if self.calls <= self.before_release:
                    self.started.set()
                    assert self.release.wait(20), "the test never released the gate"
            return original(doc, body, *args, **kwargs)

        return gated


@pytest.fixture
def env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_store: Callable[..., Store]
) -> Iterator[tuple[SqliteStore, Flask, Gate]]:
    store = make_store(db=str(tmp_path / "aup.db"))
    gate = Gate()
    monkeypatch.setattr(patches, "apply_patch", gate.wrap(patches.apply_patch))
    yield store, create_app(store=store), gate
    store.close()


def _in_thread(call: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        out["response"] = call()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def _user(client: httpx.Client, name: str) -> str:
    return str(client.post("/Users", json={"schemas": [urns.USER], "userName": name}).json()["id"])


def test_a_patch_being_evaluated_holds_no_lock_other_tenants_or_resources_need(
    env: tuple[SqliteStore, Flask, Gate],
) -> None:
    store, app, gate = env
    alpha, beta = _client(app, store, "alpha"), _client(app, store, "beta")
    slow_user, other_user, beta_user = _user(alpha, "slow"), _user(alpha, "other"), _user(beta, "b")
    thread, out = _in_thread(lambda: alpha.patch(f"/Users/{slow_user}", json=_replace("displayName", SLOW)))
    assert gate.started.wait(10)
    start = time.perf_counter()
    assert beta.patch(f"/Users/{beta_user}", json=_replace("active", False)).status_code == 200  # another tenant
    assert alpha.patch(f"/Users/{other_user}", json=_replace("active", False)).status_code == 200  # another user
    assert alpha.post("/Users", json={"schemas": [urns.USER], "userName": "new"}).status_code == 201
    assert time.perf_counter() - start < 5 and thread.is_alive()  # all done while the slow PATCH still waits
    gate.release.set()
    thread.join(20)
    assert out["response"].status_code == 200
    assert alpha.get(f"/Users/{slow_user}").json()["displayName"] == SLOW


def test_a_write_committed_during_evaluation_makes_the_patch_start_over_and_nothing_is_lost(
    env: tuple[SqliteStore, Flask, Gate],
) -> None:
    store, app, gate = env
    alpha = _client(app, store, "alpha")
    uid = _user(alpha, "u")
    thread, out = _in_thread(lambda: alpha.patch(f"/Users/{uid}", json=_replace("displayName", SLOW)))
    assert gate.started.wait(10)
    with store.write("alpha") as session:  # another process on the same file: no in-process lock stops it
        session.update("User", uid, {"userName": "u", "title": "Dr"}, password=None, keep_password=True)
    gate.release.set()
    thread.join(20)
    assert out["response"].status_code == 200
    body = alpha.get(f"/Users/{uid}").json()
    assert (body["displayName"], body["title"]) == (SLOW, "Dr")
    assert gate.calls == 2  # evaluated again on the new version


def test_if_match_on_a_version_changed_during_evaluation_is_412_and_changes_nothing(
    env: tuple[SqliteStore, Flask, Gate],
) -> None:
    store, app, gate = env
    alpha = _client(app, store, "alpha")
    uid = _user(alpha, "u")
    etag = alpha.get(f"/Users/{uid}").headers["ETag"]
    call = lambda: alpha.patch(f"/Users/{uid}", json=_replace("displayName", SLOW), headers={"If-Match": etag})  # noqa: E731
    thread, out = _in_thread(call)
    assert gate.started.wait(10)
    with store.write("alpha") as session:
        session.update("User", uid, {"userName": "u", "title": "Dr"}, password=None, keep_password=True)
    gate.release.set()
    thread.join(20)
    assert out["response"].status_code == 412
    assert "displayName" not in alpha.get(f"/Users/{uid}").json()


def test_a_membership_patch_applies_its_rows_over_a_document_changed_meanwhile(
    env: tuple[SqliteStore, Flask, Gate],
) -> None:
    store, app, gate = env
    alpha = _client(app, store, "alpha")
    uid = _user(alpha, "member")
    gid = alpha.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "eng"}).json()["id"]
    add = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": uid}]}]}
    add["Operations"][0]["value"][0]["display"] = SLOW  # the marker; member display is the server's own
    thread, out = _in_thread(lambda: alpha.patch(f"/Groups/{gid}", json=add))
    assert gate.started.wait(10)
    with store.write("alpha") as session:
        session.update("Group", gid, {"displayName": "engineering"}, password=None, keep_password=True)
    gate.release.set()
    thread.join(20)
    assert out["response"].status_code in (200, 204), out["response"].text
    group = alpha.get(f"/Groups/{gid}").json()
    assert group["displayName"] == "engineering" and [m["value"] for m in group["members"]] == [uid]
    assert gate.calls == 1  # row deltas need no second evaluation


def test_a_patch_that_keeps_losing_the_race_is_finally_worked_out_under_the_lock(
    env: tuple[SqliteStore, Flask, Gate],
) -> None:
    store, app, gate = env
    gate.before_release = 0
    alpha = _client(app, store, "alpha")
    uid = _user(alpha, "u")

    def another_process_writes(call: int) -> None:
        if call < service.OPTIMISTIC_ATTEMPTS:  # every optimistic try loses; the last one holds the lock
            with store.write("alpha") as session:
                doc = {"userName": "u", "title": f"t{call}"}
                session.update("User", uid, doc, password=None, keep_password=True)

    gate.on_call = another_process_writes
    assert alpha.patch(f"/Users/{uid}", json=_replace("displayName", SLOW)).status_code == 200
    body = alpha.get(f"/Users/{uid}").json()
    assert (body["displayName"], body["title"]) == (SLOW, f"t{service.OPTIMISTIC_ATTEMPTS - 1}")
    assert gate.calls == service.OPTIMISTIC_ATTEMPTS


def test_a_member_filter_is_evaluated_outside_the_lock_in_request_order(
    env: tuple[SqliteStore, Flask, Gate], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, app, gate = env
    alpha, beta = _client(app, store, "alpha"), _client(app, store, "beta")
    ann, bob, cy = _user(alpha, "ann"), _user(alpha, "bob"), _user(alpha, "cy")
    group = {"schemas": [urns.GROUP], "displayName": "eng", "members": [{"value": ann}, {"value": bob}]}
    gid = alpha.post("/Groups", json=group).json()["id"]
    beta_user = _user(beta, "b")
    original = patches.MemberRemoveWhere.matches

    def slow_matches(self: patches.MemberRemoveWhere, member: dict[str, Any]) -> bool:
        if SLOW in self.filter and not gate.started.is_set():
            gate.started.set()
            assert gate.release.wait(20)
        return original(self, member)

    monkeypatch.setattr(patches.MemberRemoveWhere, "matches", slow_matches)
    ops = [
        {"op": "add", "path": "members", "value": [{"value": cy}]},
        {"op": "remove", "path": f'members[value eq "{SLOW}" or display eq "ann" or display eq "cy"]'},
    ]
    thread, out = _in_thread(
        lambda: alpha.patch(f"/Groups/{gid}", json={"schemas": [urns.PATCH_OP], "Operations": ops})
    )
    assert gate.started.wait(10)
    assert beta.patch(f"/Users/{beta_user}", json=_replace("active", False)).status_code == 200  # not blocked
    gate.release.set()
    thread.join(20)
    assert out["response"].status_code in (200, 204), out["response"].text
    members = [m["value"] for m in alpha.get(f"/Groups/{gid}").json()["members"]]
    assert members == [bob]  # cy was added, then removed by the filter, as in request order
