"""/Groups: Okta group push and Entra membership shapes, flat groups, members as rows."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from scimcore import urns


def make_users(client: httpx.Client, n: int) -> list[str]:
    ids = []
    for i in range(n):
        resp = client.post("/Users", json={"schemas": [urns.USER], "userName": f"user{i}@example.com"})
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
    return ids


def make_group(client: httpx.Client, name: str, members: list[str] | None = None) -> dict[str, Any]:
    body = {"schemas": [urns.GROUP], "displayName": name, "members": [{"value": m} for m in members or []]}
    resp = client.post("/Groups", json=body)
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


def patch(client: httpx.Client, gid: str, *ops: dict[str, Any]) -> httpx.Response:
    return client.patch(f"/Groups/{gid}", json={"schemas": [urns.PATCH_OP], "Operations": list(ops)})


def member_ids(client: httpx.Client, gid: str) -> list[str]:
    return [m["value"] for m in client.get(f"/Groups/{gid}").json()["members"]]


def test_okta_push_create_then_membership_patch(client: httpx.Client) -> None:
    """docs/okta-idp.md §7: POST with members [], then remove-by-filter and add-list in one PATCH."""
    a, b, c = make_users(client, 3)
    group = make_group(client, "Test SCIMv2")
    assert group["members"] == []
    patch(
        client, group["id"], {"op": "add", "path": "members", "value": [{"value": a}, {"value": b}]}
    ).raise_for_status()
    resp = patch(
        client,
        group["id"],
        {"op": "remove", "path": f'members[value eq "{a}"]'},
        {"op": "add", "path": "members", "value": [{"value": c, "display": "user2@example.com"}]},
    )
    assert resp.status_code == 204, resp.text
    assert member_ids(client, group["id"]) == [b, c]
    members = client.get(f"/Groups/{group['id']}").json()["members"]
    assert members[0]["display"] == "user1@example.com"
    assert members[0]["type"] == "User"
    assert members[0]["$ref"].endswith(f"/Users/{b}")


def test_add_of_existing_member_is_idempotent(client: httpx.Client) -> None:
    (a,) = make_users(client, 1)
    group = make_group(client, "g", [a])
    resp = patch(client, group["id"], {"op": "add", "path": "members", "value": [{"value": a}]})
    assert resp.status_code == 204
    assert member_ids(client, group["id"]) == [a]


def test_okta_rename_repeats_own_id(client: httpx.Client) -> None:
    group = make_group(client, "old")
    resp = patch(client, group["id"], {"op": "replace", "value": {"id": group["id"], "displayName": "new"}})
    assert resp.status_code == 204, resp.text
    assert client.get(f"/Groups/{group['id']}").json()["displayName"] == "new"


def test_push_now_replace_members_with_list_and_with_empty(client: httpx.Client) -> None:
    a, b, c = make_users(client, 3)
    group = make_group(client, "g", [a, b])
    patch(client, group["id"], {"op": "replace", "path": "members", "value": [{"value": c}]}).raise_for_status()
    assert member_ids(client, group["id"]) == [c]
    patch(client, group["id"], {"op": "replace", "path": "members", "value": []}).raise_for_status()
    assert member_ids(client, group["id"]) == []


def test_entra_remove_with_value_array_removes_only_those(client: httpx.Client) -> None:
    """docs/entra-idp.md §5: Remove with path members and a value array; must never empty the group."""
    a, b, c = make_users(client, 3)
    group = make_group(client, "g", [a, b, c])
    resp = patch(client, group["id"], {"op": "Remove", "path": "members", "value": [{"value": b}]})
    assert resp.status_code == 204, resp.text
    assert member_ids(client, group["id"]) == [a, c]


def test_users_groups_attribute_is_computed(client: httpx.Client) -> None:
    (a,) = make_users(client, 1)
    g1 = make_group(client, "one", [a])
    g2 = make_group(client, "two", [a])
    groups = client.get(f"/Users/{a}").json()["groups"]
    assert [(g["value"], g["display"]) for g in groups] == [(g1["id"], "one"), (g2["id"], "two")]


def test_excluded_members_on_get_and_list(client: httpx.Client) -> None:
    ids = make_users(client, 3)
    group = make_group(client, "big", ids)
    one = client.get(f"/Groups/{group['id']}", params={"excludedAttributes": "members"}).json()
    assert "members" not in one
    assert one["displayName"] == "big"
    listed = client.get("/Groups", params={"filter": 'displayName eq "BIG"', "excludedAttributes": "members"}).json()
    assert listed["totalResults"] == 1
    assert "members" not in listed["Resources"][0]


def test_nested_group_member_is_rejected_and_nothing_changes(client: httpx.Client) -> None:
    (a,) = make_users(client, 1)
    parent = make_group(client, "parent", [a])
    child = make_group(client, "child")
    resp = patch(client, parent["id"], {"op": "add", "path": "members", "value": [{"value": child["id"]}]})
    assert resp.status_code == 400
    assert "flat" in resp.json()["detail"]
    assert member_ids(client, parent["id"]) == [a]


def test_unknown_member_is_rejected_whole(client: httpx.Client) -> None:
    (a,) = make_users(client, 1)
    group = make_group(client, "g")
    resp = patch(
        client,
        group["id"],
        {"op": "add", "path": "members", "value": [{"value": a}, {"value": "no-such-id"}]},
    )
    assert resp.status_code == 400
    assert resp.json()["scimType"] == "invalidValue"
    assert member_ids(client, group["id"]) == []
    assert client.post("/Groups", json={"displayName": "h", "members": [{"value": "nope"}]}).status_code == 400
    assert client.get("/Groups", params={"filter": 'displayName eq "h"'}).json()["totalResults"] == 0


def test_duplicate_group_name_is_409(client: httpx.Client) -> None:
    make_group(client, "Engineering")
    resp = client.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "engineering"})
    assert resp.status_code == 409
    assert resp.json()["scimType"] == "uniqueness"


def test_membership_change_bumps_group_version(client: httpx.Client) -> None:
    (a,) = make_users(client, 1)
    group = make_group(client, "g")
    resp = patch(client, group["id"], {"op": "add", "path": "members", "value": [{"value": a}]})
    assert resp.headers["ETag"] != group["meta"]["version"]
    unchanged = patch(client, group["id"], {"op": "add", "path": "members", "value": [{"value": a}]})
    assert unchanged.headers["ETag"] == resp.headers["ETag"]


def test_group_patch_is_204_unless_attributes_are_asked_for(client: httpx.Client) -> None:
    """RFC 7644 §3.5.2: 204 with the ETag, or 200 with the resource subject to ``attributes``."""
    a, b = make_users(client, 2)
    group = make_group(client, "g", [a])
    add_b = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": b}]}]}
    bare = client.patch(f"/Groups/{group['id']}", json=add_b)
    assert bare.status_code == 204
    assert bare.content == b""
    assert bare.headers["ETag"] == client.get(f"/Groups/{group['id']}").headers["ETag"]
    rename = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "h"}]}
    slim = client.patch(f"/Groups/{group['id']}", params={"excludedAttributes": "members"}, json=rename)
    assert slim.status_code == 200
    assert slim.json()["displayName"] == "h"
    assert "members" not in slim.json()
    full = client.patch(f"/Groups/{group['id']}", params={"attributes": "members"}, json=rename)
    assert [m["value"] for m in full.json()["members"]] == [a, b]


@pytest.mark.parametrize(
    "op",
    [
        {"op": "remove", "path": 'members[value eq "not-a-member"]'},
        {"op": "Remove", "path": "members", "value": [{"value": "not-a-member"}]},
    ],
)
def test_removing_a_non_member_is_a_successful_no_op(client: httpx.Client, op: dict[str, Any]) -> None:
    (a,) = make_users(client, 1)
    group = make_group(client, "g", [a])
    assert patch(client, group["id"], op).status_code == 204
    assert member_ids(client, group["id"]) == [a]


def test_put_group_replaces_members(client: httpx.Client) -> None:
    """Okta AIW sends the whole group with PUT (docs/okta-idp.md §7)."""
    a, b = make_users(client, 2)
    group = make_group(client, "g", [a])
    body = {
        "schemas": [urns.GROUP],
        "id": group["id"],
        "displayName": "g",
        "members": [{"value": b, "display": None}],
    }
    resp = client.put(f"/Groups/{group['id']}", json=body)
    assert resp.status_code == 200, resp.text
    assert member_ids(client, group["id"]) == [b]


def test_filtered_group_list_returns_members_unless_excluded(client: httpx.Client) -> None:
    a, b = make_users(client, 2)
    make_group(client, "eng", [a, b])
    listed = client.get("/Groups", params={"filter": 'displayName eq "eng"'}).json()
    assert [m["value"] for m in listed["Resources"][0]["members"]] == [a, b]
    by_member = client.get("/Groups", params={"filter": f'members[value eq "{b}"]', "excludedAttributes": "members"})
    assert by_member.json()["totalResults"] == 1
    assert "members" not in by_member.json()["Resources"][0]


def test_invalid_sort_by_is_400_even_on_empty_results(client: httpx.Client) -> None:
    resp = client.get("/Groups", params={"sortBy": "noSuchAttribute"})
    assert resp.status_code == 400
    assert resp.json()["scimType"] == "invalidValue"
