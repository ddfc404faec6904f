"""Bounded list pages (issue #17): members in a list page, filter.maxResults, the advertised limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask

from aup_server.app import create_app
from aup_server.config import ServerConfig
from aup_server.store import SqliteStore
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL

LIMIT = 3


@pytest.fixture
def limited(store: SqliteStore, token: str) -> Iterator[httpx.Client]:
    app: Flask = create_app({"max_list_members": LIMIT, "max_count": 10, "default_count": 10}, store=store)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": urns.MEDIA_TYPE}
    transport = httpx.WSGITransport(app=app)
    with httpx.Client(transport=transport, base_url=IN_PROCESS_SCIM_URL, headers=headers) as client:
        yield client


def _groups(client: httpx.Client, sizes: list[int]) -> list[str]:
    user_ids = [
        client.post("/Users", json={"schemas": [urns.USER], "userName": f"u{n}"}).json()["id"]
        for n in range(max(sizes))
    ]
    gids = []
    for index, size in enumerate(sizes):
        body = {"schemas": [urns.GROUP], "displayName": f"g{index}", "members": [{"value": u} for u in user_ids[:size]]}
        response = client.post("/Groups", json=body)
        assert response.status_code == 201, response.text
        gids.append(response.json()["id"])
    return gids


def _pages(client: httpx.Client, path: str) -> Iterator[dict[str, Any]]:
    start = 1
    while True:
        page: dict[str, Any] = client.get(path, params={"startIndex": start}).json()
        yield page
        start += int(page["itemsPerPage"])
        if start > int(page["totalResults"]) or not page["itemsPerPage"]:
            return


def test_a_list_page_ends_before_the_group_that_would_pass_the_member_limit(limited: httpx.Client) -> None:
    gids = _groups(limited, [2, 2, 5])
    pages = list(_pages(limited, "/Groups"))
    assert [page["itemsPerPage"] for page in pages] == [1, 1, 1]
    assert all(page["totalResults"] == 3 for page in pages)
    listed = [group for page in pages for group in page["Resources"]]
    assert [g["id"] for g in listed] == gids
    assert [len(g["members"]) for g in listed] == [2, 2, 5]  # the 5-member group alone on its page, whole
    assert all(m["$ref"].endswith(f"/Users/{m['value']}") for g in listed for m in g["members"])


def test_a_group_over_the_limit_is_never_cut_anywhere(limited: httpx.Client) -> None:
    """A reader that only pages (nsscache) must get every member: no page cuts a group."""
    (gid,) = _groups(limited, [5])
    assert [len(g["members"]) for p in _pages(limited, "/Groups") for g in p["Resources"]] == [5]
    assert len(limited.get(f"/Groups/{gid}").json()["members"]) == 5
    assert len(limited.get(f"/Groups/{gid}", params={"attributes": "members"}).json()["members"]) == 5


def test_projection_applies_to_members_of_a_capped_list(limited: httpx.Client) -> None:
    _groups(limited, [1, 5])
    page = limited.get("/Groups", params={"attributes": "members.value"}).json()
    assert [sorted(g) for g in page["Resources"]] == [["id", "members", "schemas"]]
    assert all(set(m) == {"value"} for m in page["Resources"][0]["members"])
    without = limited.get("/Groups", params={"excludedAttributes": "members"}).json()
    assert without["itemsPerPage"] == 2 and all("members" not in g for g in without["Resources"])
    searched = limited.post("/Groups/.search", json={"schemas": [urns.SEARCH_REQUEST], "startIndex": 2}).json()
    assert [len(g["members"]) for g in searched["Resources"]] == [5]


def test_a_root_search_caps_members_and_keeps_users(limited: httpx.Client) -> None:
    _groups(limited, [2, 2])
    body = {"schemas": [urns.SEARCH_REQUEST], "count": 10}
    page = limited.post("/.search", json=body).json()
    members = sum(len(r.get("members", [])) for r in page["Resources"])
    assert members <= LIMIT and page["itemsPerPage"] == len(page["Resources"]) < page["totalResults"]


def test_max_results_is_advertised_and_honoured(limited: httpx.Client) -> None:
    for n in range(12):
        limited.post("/Users", json={"schemas": [urns.USER], "userName": f"x{n}"})
    advertised = limited.get("/ServiceProviderConfig").json()["filter"]["maxResults"]
    assert advertised == 10
    page = limited.get("/Users", params={"count": 5000}).json()
    assert page["itemsPerPage"] == advertised and page["totalResults"] == 12


def test_limits_must_be_positive() -> None:
    for name in ("max_resource_bytes", "max_multi_valued", "max_list_members"):
        with pytest.raises(ValueError, match=name):
            ServerConfig.from_mapping({name: 0})
