"""Lists, search, discovery, auth and error handling: every error is SCIM Error JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from flask import Flask

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.store import SqliteStore, Store
from scimcore import urns
from scimcore.schemas import POSIX_GROUP_URN, POSIX_USER_URN
from scimcore.schemas.posix import COREWEAVE_USER_URN


def seed(client: httpx.Client, names: list[str]) -> list[str]:
    ids = []
    for name in names:
        resp = client.post("/Users", json={"schemas": [urns.USER], "userName": name, "title": name[::-1]})
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
    return ids


def assert_scim_error(resp: httpx.Response, status: int, scim_type: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(urns.MEDIA_TYPE)
    body: dict[str, Any] = resp.json()
    assert body["schemas"] == [urns.ERROR]
    assert body["status"] == str(status)
    assert body["detail"]
    assert "Traceback" not in resp.text
    if scim_type:
        assert body["scimType"] == scim_type
    return body


# -- lists ---------------------------------------------------------------------------------------


def test_paging_is_one_based_and_stable(client: httpx.Client) -> None:
    ids = seed(client, [f"u{i:02d}" for i in range(7)])
    seen = []
    for start in (1, 4, 7):
        page = client.get("/Users", params={"startIndex": start, "count": 3}).json()
        assert page["totalResults"] == 7
        assert page["startIndex"] == start
        seen += [r["id"] for r in page["Resources"]]
        assert page["itemsPerPage"] == len(page["Resources"])
    assert seen == ids
    zero = client.get("/Users", params={"startIndex": 0, "count": 2}).json()
    assert zero["startIndex"] == 1
    assert [r["id"] for r in zero["Resources"]] == ids[:2]


def test_count_zero_returns_only_total(client: httpx.Client) -> None:
    seed(client, ["a", "b"])
    body = client.get("/Users", params={"count": 0}).json()
    assert body["totalResults"] == 2
    assert body["Resources"] == []
    assert body["itemsPerPage"] == 0


def test_okta_connection_test_and_import_paging(client: httpx.Client) -> None:
    seed(client, ["a", "b", "c"])
    probe = client.get("/Users?startIndex=1&count=2").json()
    assert probe["itemsPerPage"] == 2
    assert probe["totalResults"] == 3


def test_filtered_paging_and_sorting(client: httpx.Client) -> None:
    seed(client, ["carol", "alice", "bob", "dave"])
    page = client.get(
        "/Users", params={"filter": 'userName ne "dave"', "sortBy": "userName", "count": 2, "startIndex": 2}
    ).json()
    assert page["totalResults"] == 3
    assert [r["userName"] for r in page["Resources"]] == ["bob", "carol"]
    desc = client.get("/Users", params={"sortBy": "userName", "sortOrder": "descending"}).json()
    assert [r["userName"] for r in desc["Resources"]] == ["dave", "carol", "bob", "alice"]


@pytest.mark.parametrize("encoded", ["userName+eq+%22alice%22", "userName%20eq%20%22alice%22"])
def test_plus_and_percent_encoded_filters(client: httpx.Client, encoded: str) -> None:
    seed(client, ["alice", "bob"])
    body = client.get(f"/Users?filter={encoded}").json()
    assert [r["userName"] for r in body["Resources"]] == ["alice"]


@pytest.mark.parametrize(
    "bad",
    ["userName eq alice", "userName eq", '(userName eq "a"', 'userName xx "a"', "", 'noSuchAttr eq "x"'],
)
def test_malformed_filter_is_400_never_a_result(client: httpx.Client, bad: str) -> None:
    seed(client, ["alice"])
    assert_scim_error(client.get("/Users", params={"filter": bad}), 400, "invalidFilter")


def test_overlong_filter_is_400(client: httpx.Client) -> None:
    flt = " or ".join(f'userName eq "u{i}"' for i in range(150))
    assert_scim_error(client.get("/Users", params={"filter": flt}), 400, "invalidFilter")


def test_search_endpoints(client: httpx.Client) -> None:
    seed(client, ["alice", "bob"])
    client.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "alpha"}).raise_for_status()
    body = {"schemas": [urns.SEARCH_REQUEST], "filter": 'userName sw "a"', "attributes": ["userName"]}
    users = client.post("/Users/.search", json=body).json()
    assert [r["userName"] for r in users["Resources"]] == ["alice"]
    assert set(users["Resources"][0]) == {"schemas", "id", "userName"}
    everything = client.post("/.search", json={"schemas": [urns.SEARCH_REQUEST], "filter": "meta.created pr"}).json()
    assert everything["totalResults"] == 3
    groups = client.post("/.search", json={"schemas": [urns.SEARCH_REQUEST], "filter": 'displayName sw "al"'}).json()
    assert [r["meta"]["resourceType"] for r in groups["Resources"]] == ["Group"]
    assert_scim_error(client.post("/Users/.search", json={"filter": "x"}), 400, "invalidValue")


# -- discovery ------------------------------------------------------------------------------------


def test_service_provider_config_advertises_what_is_implemented(client: httpx.Client) -> None:
    spc = client.get("/ServiceProviderConfig").json()
    assert spc["patch"]["supported"] is True
    assert spc["bulk"] == {"supported": True, "maxOperations": 1000, "maxPayloadSize": 4 * 1024 * 1024}
    assert spc["pagination"]["cursor"] is True and spc["pagination"]["index"] is True
    assert spc["filter"] == {"supported": True, "maxResults": 1000}
    assert spc["etag"]["supported"] is True
    assert spc["sort"]["supported"] is True
    assert spc["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_resource_types_and_schemas(client: httpx.Client) -> None:
    types = client.get("/ResourceTypes").json()
    assert {r["name"] for r in types["Resources"]} == {"User", "Group"}
    user_type = client.get("/ResourceTypes/User").json()
    # Besides Enterprise User: the POSIX extension and the extension its SSH keys come from (docs/posix.md).
    extensions = [urns.ENTERPRISE_USER, COREWEAVE_USER_URN, POSIX_USER_URN]
    assert user_type["schemaExtensions"] == [{"schema": urn, "required": False} for urn in extensions]
    schemas = client.get("/Schemas").json()
    assert {s["id"] for s in schemas["Resources"]} == {urns.USER, urns.GROUP, *extensions, POSIX_GROUP_URN}
    user = client.get(f"/Schemas/{urns.USER}").json()
    user_name = next(a for a in user["attributes"] if a["name"] == "userName")
    assert user_name["uniqueness"] == "server"
    assert user_name["caseExact"] is False
    assert_scim_error(client.get("/Schemas/urn:nope"), 404)
    assert_scim_error(client.post("/ServiceProviderConfig", json={}), 405)


# -- errors ---------------------------------------------------------------------------------------


def test_unsupported_features_are_501(client: httpx.Client) -> None:
    assert_scim_error(client.get("/Me"), 501)
    assert_scim_error(client.get("/Bulk"), 405)  # /Bulk takes POST only (RFC 7644 §3.7)


def test_unknown_route_and_method(client: httpx.Client) -> None:
    assert_scim_error(client.get("/Widgets"), 404)
    assert_scim_error(client.get("http://scim.test/"), 404)
    resp = client.delete("/Users")
    assert_scim_error(resp, 405)
    assert "GET" in resp.headers["Allow"]


def test_bad_bodies(client: httpx.Client) -> None:
    headers = {"Content-Type": "application/scim+json"}
    assert_scim_error(client.post("/Users", content=b"{not json", headers=headers), 400, "invalidSyntax")
    assert_scim_error(client.post("/Users", content=b"[1,2]", headers=headers), 400, "invalidSyntax")
    assert_scim_error(client.post("/Users", content=b"", headers=headers), 400, "invalidSyntax")
    assert_scim_error(client.post("/Users", content=b"\xff\xfe", headers=headers), 400, "invalidSyntax")
    assert_scim_error(client.post("/Users", content=b"userName=a", headers={"Content-Type": "text/plain"}), 415)
    plain = client.post("/Users", content=b'{"userName": "a"}', headers={"Content-Type": "application/json"})
    assert plain.status_code == 201


def test_body_over_limit_is_413(make_store: Callable[..., Store]) -> None:
    store = make_store()
    app = create_app({"max_body_bytes": 1024}, store=store)
    secret = issue_token(store, "t")
    with _client(app, secret) as c:
        big = {"schemas": [urns.USER], "userName": "a", "title": "x" * 2000}
        assert_scim_error(c.post("/Users", json=big), 413)
    store.close()


def test_unexpected_exception_is_500_scim_error_and_rolls_back(client: httpx.Client, app: Flask) -> None:
    service = app.extensions["aup"].service

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    service._check_members = boom
    (a,) = seed(client, ["a"])
    resp = client.post("/Groups", json={"displayName": "g", "members": [{"value": a}]})
    body = assert_scim_error(resp, 500)
    assert "secret internals" not in body["detail"]
    assert client.get("/Groups").json()["totalResults"] == 0  # the insert was rolled back


# -- auth and tenants -------------------------------------------------------------------------------


def _client(app: Flask, secret: str | None, base: str = "/scim/v2") -> httpx.Client:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url=f"http://scim.test{base}", headers=headers)


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer wrong", "non-token"])
def test_missing_or_wrong_token_is_401_with_challenge(app: Flask, token: str, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    with _client(app, None) as c:
        resp = c.get("/Users", headers=headers)
    assert_scim_error(resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_tokens_are_scoped_to_one_tenant(app: Flask, store: SqliteStore, token: str) -> None:
    acme = issue_token(store, "okta", "acme")
    with _client(app, acme, "/scim/acme/v2") as c:
        created = c.post("/Users", json={"userName": "ann"})
        assert created.status_code == 201
        assert created.json()["meta"]["location"].startswith("http://scim.test/scim/acme/v2/Users/")
        uid = created.json()["id"]
    with _client(app, token) as default:
        assert_scim_error(default.get(f"/Users/{uid}"), 404)  # other tenant's id is unknown here
        assert default.post("/Users", json={"userName": "ann"}).status_code == 201  # uniqueness per tenant
    with _client(app, token, "/scim/acme/v2") as wrong:
        assert_scim_error(wrong.get("/Users"), 401)
    with _client(app, acme, "/scim/Bad_Tenant/v2") as bad:
        assert_scim_error(bad.get("/Users"), 404)


def test_revoked_token_is_refused(app: Flask, store: SqliteStore) -> None:
    secret = issue_token(store, "temp")
    with _client(app, secret) as c:
        assert c.get("/Users").status_code == 200
        store.revoke_token("temp", "default")
        assert_scim_error(c.get("/Users"), 401)


def test_token_is_stored_only_as_digest(store: SqliteStore) -> None:
    secret = issue_token(store, "x")
    with store.read("default") as session:
        rows = session.conn.execute("SELECT * FROM tokens").fetchall()  # type: ignore[attr-defined]
    assert secret not in repr(rows)


def test_paging_while_writes_happen_neither_skips_nor_repeats(client: httpx.Client) -> None:
    """Creates append and updates keep position, so an in-flight paged read sees every original user once."""
    original = seed(client, [f"p{i:02d}" for i in range(10)])
    seen: list[str] = []
    start = 1
    for _ in range(20):  # bounded: 10 originals + at most 4 late users, 3 per page
        page = client.get("/Users", params={"startIndex": start, "count": 3}).json()
        seen += [r["id"] for r in page["Resources"]]
        if not page["Resources"]:
            break
        start += len(page["Resources"])
        if start > len(original):
            continue  # past the original users: stop writing so the read can finish
        # writes between pages: a new user, and an update of one already read and one not yet read
        client.post("/Users", json={"userName": f"late{start}"}).raise_for_status()
        for uid in (original[0], original[-1]):
            body = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": str(start)}]}
            client.patch(f"/Users/{uid}", json=body).raise_for_status()
    else:
        raise AssertionError("paging did not finish")
    assert seen[: len(original)] == original
    assert len(seen) == len(set(seen))
    assert len(seen) == client.get("/Users", params={"count": 0}).json()["totalResults"]


def test_rate_limit_answers_429_scim_error_with_retry_after(make_store: Callable[..., Store]) -> None:
    store = make_store()
    app = create_app({"rate_limit_per_minute": 60, "rate_limit_burst": 2}, store=store)
    secret = issue_token(store, "t")
    with _client(app, secret) as c:
        assert c.get("/Users").status_code == 200
        assert c.get("/Users").status_code == 200
        resp = c.get("/Users")
        assert_scim_error(resp, 429)
        assert resp.headers["Retry-After"].isdigit()
    store.close()
