"""/Users over real HTTP semantics (httpx WSGITransport): what Okta and Entra send, and what they expect back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.schemas import POSIX_USER_URN

SCIM = urns.MEDIA_TYPE
ENTERPRISE = urns.ENTERPRISE_USER


def okta_create_body(user_name: str = "Runscope123Xxxxxxxx123@atko.com") -> dict[str, Any]:
    """The POST Okta sends on assignment (docs/okta-idp.md §4, §12): password and groups: [] included."""
    return {
        "schemas": [urns.USER],
        "userName": user_name,
        "name": {"givenName": "Runscope123", "familyName": "Xxxxxxxx123"},
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "displayName": "Runscope123 Xxxxxxxx123",
        "locale": "en-US",
        "externalId": "00u1abcd",
        "groups": [],
        "password": "1mz050nq",
        "active": True,
    }


def create(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    resp = client.post("/Users", json=body, headers={"Content-Type": f"{SCIM}; charset=utf-8"})
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


def test_create_returns_201_with_location_etag_and_same_case(client: httpx.Client) -> None:
    resp = client.post("/Users", json=okta_create_body())
    assert resp.status_code == 201
    body = resp.json()
    assert resp.headers["content-type"].startswith(SCIM)
    assert resp.headers["Location"] == body["meta"]["location"]
    assert resp.headers["Location"] == f"http://scim.test/scim/v2/Users/{body['id']}"
    assert resp.headers["ETag"] == body["meta"]["version"]
    assert body["userName"] == "Runscope123Xxxxxxxx123@atko.com"  # case kept (docs/okta-idp.md §10.9)
    assert body["active"] is True
    assert "password" not in body  # writeOnly, returned never
    assert body["groups"] == []
    assert body["meta"]["resourceType"] == "User"
    assert body["schemas"] == [urns.USER, POSIX_USER_URN]  # POSIX identities are on for new tenants


def test_duplicate_username_in_any_case_is_409_and_findable_by_filter(client: httpx.Client) -> None:
    created = create(client, okta_create_body())
    again = client.post("/Users", json=okta_create_body("RUNSCOPE123XXXXXXXX123@ATKO.COM"))
    assert again.status_code == 409
    err = again.json()
    assert err["schemas"] == [urns.ERROR]
    assert err["status"] == "409"
    assert err["scimType"] == "uniqueness"
    found = client.get("/Users", params={"filter": 'userName eq "RUNSCOPE123XXXXXXXX123@ATKO.COM"'}).json()
    assert found["totalResults"] == 1
    assert found["Resources"][0]["id"] == created["id"]


def test_get_unknown_user_is_404_scim_error(client: httpx.Client) -> None:
    resp = client.get("/Users/010101001010101011001010101011")
    assert resp.status_code == 404
    assert resp.json()["detail"]
    assert resp.json()["schemas"] == [urns.ERROR]


def test_put_ignores_echoed_read_only_fields_and_replaces(client: httpx.Client) -> None:
    user = create(client, okta_create_body())
    body = {**user, "name": {"givenName": "Changed", "familyName": "Xxxxxxxx123", "formatted": "x"}}
    body["title"] = "Engineer"
    resp = client.put(f"/Users/{user['id']}", json=body)
    assert resp.status_code == 200, resp.text
    got = client.get(f"/Users/{user['id']}").json()
    assert got["name"]["givenName"] == "Changed"
    assert got["title"] == "Engineer"
    assert got["id"] == user["id"]
    assert got["meta"]["created"] == user["meta"]["created"]
    assert got["meta"]["version"] != user["meta"]["version"]
    # PUT replaces: attributes left out are cleared (RFC 7644 §3.5.1)
    trimmed = {"schemas": [urns.USER], "userName": user["userName"], "active": True}
    client.put(f"/Users/{user['id']}", json=trimmed).raise_for_status()
    assert "title" not in client.get(f"/Users/{user['id']}").json()


def test_okta_pathless_deactivate_keeps_user_readable_and_listable(client: httpx.Client) -> None:
    user = create(client, okta_create_body())
    patch = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]}
    resp = client.patch(f"/Users/{user['id']}", json=patch)
    assert resp.status_code == 200, resp.text
    assert resp.json()["active"] is False
    assert client.get(f"/Users/{user['id']}").json()["active"] is False
    listed = client.get("/Users").json()
    assert [r["id"] for r in listed["Resources"]] == [user["id"]]


def test_entra_patch_dialect_string_boolean_and_capitalised_ops(client: httpx.Client) -> None:
    user = create(client, okta_create_body("entra@contoso.com"))
    patch = {
        "schemas": [urns.PATCH_OP],
        "Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Add", "path": f"{ENTERPRISE}:employeeNumber", "value": "701984"},
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "new@contoso.com"},
        ],
    }
    resp = client.patch(f"/Users/{user['id']}", json=patch)
    assert resp.status_code == 200, resp.text
    got = client.get(f"/Users/{user['id']}").json()
    assert got["active"] is False
    assert got[ENTERPRISE]["employeeNumber"] == "701984"
    assert ENTERPRISE in got["schemas"]
    assert [e["value"] for e in got["emails"] if e.get("type") == "work"] == ["new@contoso.com"]
    by_mail = client.get("/Users", params={"filter": 'emails[type eq "work"].value eq "NEW@contoso.com"'}).json()
    assert by_mail["totalResults"] == 1


def test_bad_patch_changes_nothing(client: httpx.Client) -> None:
    user = create(client, okta_create_body())
    patch = {
        "schemas": [urns.PATCH_OP],
        "Operations": [
            {"op": "replace", "path": "title", "value": "Boss"},
            {"op": "replace", "path": "noSuchAttribute", "value": "x"},
        ],
    }
    resp = client.patch(f"/Users/{user['id']}", json=patch)
    assert resp.status_code == 400
    assert resp.json()["scimType"] == "invalidPath"
    got = client.get(f"/Users/{user['id']}").json()
    assert "title" not in got
    assert got["meta"]["version"] == user["meta"]["version"]


def test_delete_removes_user_and_memberships(client: httpx.Client) -> None:
    user = create(client, okta_create_body())
    group = client.post(
        "/Groups", json={"schemas": [urns.GROUP], "displayName": "eng", "members": [{"value": user["id"]}]}
    )
    assert group.status_code == 201, group.text
    assert client.delete(f"/Users/{user['id']}").status_code == 204
    assert client.get(f"/Users/{user['id']}").status_code == 404
    assert client.delete(f"/Users/{user['id']}").status_code == 404
    assert client.get(f"/Groups/{group.json()['id']}").json()["members"] == []


def test_etags_if_match_and_if_none_match(client: httpx.Client) -> None:
    user = create(client, okta_create_body())
    url = f"/Users/{user['id']}"
    version = user["meta"]["version"]
    assert client.get(url, headers={"If-None-Match": version}).status_code == 304
    stale = client.put(url, json={**user, "title": "x"}, headers={"If-Match": 'W/"999"'})
    assert stale.status_code == 412
    assert stale.json()["status"] == "412"
    ok = client.put(url, json={**user, "title": "x"}, headers={"If-Match": version})
    assert ok.status_code == 200
    assert client.get(url, headers={"If-None-Match": version}).status_code == 200
    assert client.delete(url, headers={"If-Match": version}).status_code == 412
    assert client.delete(url, headers={"If-Match": ok.headers["ETag"]}).status_code == 204


def test_attributes_and_excluded_attributes_on_reads(client: httpx.Client) -> None:
    user = create(client, okta_create_body())
    only = client.get(f"/Users/{user['id']}", params={"attributes": "userName,name.givenName"}).json()
    assert set(only) == {"schemas", "id", "userName", "name"}
    assert only["name"] == {"givenName": "Runscope123"}
    without = client.get("/Users", params={"excludedAttributes": "emails,groups"}).json()["Resources"][0]
    assert "emails" not in without
    assert "groups" not in without
    assert without["id"] == user["id"]


def test_custom_extension_attributes_are_stored_and_returned(token: str, make_store: Callable[..., Any]) -> None:
    from aup_server.app import create_app
    from aup_server.auth import issue_token

    urn = "urn:ietf:params:scim:schemas:extension:coreweave:2.0:User"
    extension = {
        "resourceType": "User",
        "schema": {
            "id": urn,
            "name": "CoreWeaveUser",
            "attributes": [{"name": "sunkSshKeys", "type": "string", "multiValued": True}],
        },
    }
    store = make_store()
    app = create_app({"extensions": [extension]}, store=store)
    secret = issue_token(store, "t")
    with httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url=IN_PROCESS_SCIM_URL,
        headers={"Authorization": f"Bearer {secret}"},
    ) as c:
        body = {
            **okta_create_body(),
            "schemas": [urns.USER, urn],
            urn: {"sunkSshKeys": ["ssh-ed25519 AAAA k"]},
        }
        created = create(c, body)
        assert created[urn] == {"sunkSshKeys": ["ssh-ed25519 AAAA k"]}
        assert urn in created["schemas"]
        schema = c.get(f"/Schemas/{urn}").json()
        assert schema["attributes"][0]["name"] == "sunkSshKeys"
        found = c.get("/Users", params={"filter": f'{urn}:sunkSshKeys co "AAAA"'}).json()
        assert found["totalResults"] == 1
    store.close()
