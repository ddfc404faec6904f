"""Tenant isolation on every endpoint, and secrets kept out of every log line."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from flask import Flask

from aup_server.auth import issue_token
from aup_server.store import SqliteStore
from scimcore import urns

PATCH = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "x"}]}


def _client(app: Flask, secret: str, tenant: str) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url=f"http://scim.test/scim/{tenant}/v2",
        headers={"Authorization": f"Bearer {secret}"},
    )


@pytest.fixture
def two_tenants(app: Flask, store: SqliteStore) -> Iterator[tuple[httpx.Client, httpx.Client, dict[str, str]]]:
    a = _client(app, issue_token(store, "okta", "alpha"), "alpha")
    b = _client(app, issue_token(store, "okta", "beta"), "beta")
    user = a.post("/Users", json={"schemas": [urns.USER], "userName": "shared@example.com"}).json()["id"]
    group = a.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "eng", "members": [{"value": user}]})
    yield a, b, {"Users": user, "Groups": group.json()["id"]}
    a.close()
    b.close()


@pytest.mark.parametrize("endpoint", ["Users", "Groups"])
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_other_tenants_ids_are_unknown(
    two_tenants: tuple[httpx.Client, httpx.Client, dict[str, str]], endpoint: str, method: str
) -> None:
    a, b, ids = two_tenants
    rid = ids[endpoint]
    body = PATCH if method == "PATCH" else {"schemas": [urns.USER], "userName": "x", "displayName": "x"}
    resp = b.request(method, f"/{endpoint}/{rid}", json=body if method in ("PUT", "PATCH") else None)
    assert resp.status_code == 404
    assert resp.json()["detail"] == f"{endpoint[:-1]} {rid} not found"  # the same answer as for an id never issued
    assert a.get(f"/{endpoint}/{rid}").status_code == 200  # and nothing happened to it


def test_no_existence_leak_through_uniqueness_filters_or_members(
    two_tenants: tuple[httpx.Client, httpx.Client, dict[str, str]],
) -> None:
    _, b, ids = two_tenants
    assert b.post("/Users", json={"schemas": [urns.USER], "userName": "SHARED@example.com"}).status_code == 201
    assert b.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "eng"}).status_code == 201
    assert b.get("/Users", params={"filter": f'id eq "{ids["Users"]}"'}).json()["totalResults"] == 0
    everything = b.post("/.search", json={"schemas": [urns.SEARCH_REQUEST]}).json()
    assert ids["Users"] not in {r["id"] for r in everything["Resources"]}
    gid = b.get("/Groups").json()["Resources"][0]["id"]
    foreign = b.patch(
        f"/Groups/{gid}",
        json={
            "schemas": [urns.PATCH_OP],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": ids["Users"]}]}],
        },
    )
    never_issued = b.patch(
        f"/Groups/{gid}",
        json={
            "schemas": [urns.PATCH_OP],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": "nope"}]}],
        },
    )
    assert foreign.status_code == never_issued.status_code == 400
    assert foreign.json()["detail"].replace(ids["Users"], "X") == never_issued.json()["detail"].replace("nope", "X")


def test_secrets_never_reach_the_logs(
    client: httpx.Client, token: str, app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    password = "S3cret-Passw0rd!"
    service = app.extensions["aup"].service
    original = service._check_members

    def failing(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")  # force the 500 path, which logs a traceback

    uid = client.post("/Users", json={"userName": "logme", "password": password}).json()["id"]
    client.patch(
        f"/Users/{uid}",
        json={"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": "password", "value": password}]},
    )
    client.get("/Users", headers={"Authorization": "Bearer wrong-token-value"})
    service._check_members = failing
    assert client.post("/Groups", json={"displayName": "g", "members": [{"value": uid}]}).status_code == 500
    service._check_members = original
    assert any(record.levelno >= logging.ERROR for record in caplog.records)  # the 500 was logged
    text = "\n".join(record.getMessage() + str(record.exc_info) + str(record.exc_text) for record in caplog.records)
    for secret in (token, password, "wrong-token-value"):
        assert secret not in text


def test_token_rotation_with_overlap(app: Flask, store: SqliteStore) -> None:
    """A new named token works beside the old one until the old one is revoked (docs/domain.md §3 item 9)."""
    old = issue_token(store, "okta-2026", "acme")
    new = issue_token(store, "okta-2027", "acme")
    with _client(app, old, "acme") as c_old, _client(app, new, "acme") as c_new:
        assert c_old.get("/Users").status_code == 200
        assert c_new.get("/Users").status_code == 200
        assert store.revoke_token("okta-2026", "acme")
        assert c_old.get("/Users").status_code == 401
        assert c_new.get("/Users").status_code == 200
