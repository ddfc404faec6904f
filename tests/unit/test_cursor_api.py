"""Cursor paging over the API (RFC 9865): walks, both directions, .search, errors, tenancy, member-limited pages."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.store import Store
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL


def _users(client: httpx.Client, names: list[str]) -> list[str]:
    ids = []
    for name in names:
        made = client.post("/Users", json={"schemas": [urns.USER], "userName": name, "displayName": name[::-1]})
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    return ids


def _walk(client: httpx.Client, path: str = "/Users", **params: Any) -> list[dict[str, Any]]:
    pages = [client.get(path, params={"cursor": "", **params}).json()]
    while "nextCursor" in pages[-1]:
        assert len(pages) < 100, "the walk does not end"
        pages.append(client.get(path, params={**params, "cursor": pages[-1]["nextCursor"]}).json())
    return pages


def _ids(pages: list[dict[str, Any]]) -> list[str]:
    return [res["id"] for page in pages for res in page["Resources"]]


def test_a_walk_reads_every_user_once_in_creation_order(client: httpx.Client) -> None:
    ids = _users(client, [f"user{n:02d}" for n in range(11)])
    pages = _walk(client, count=4)
    assert [len(page["Resources"]) for page in pages] == [4, 4, 3]
    assert _ids(pages) == ids
    assert all(page["totalResults"] == 11 and page["itemsPerPage"] == len(page["Resources"]) for page in pages)
    assert "nextCursor" not in pages[-1]  # RFC 9865 §2: omitted only on the last page
    assert "previousCursor" not in pages[0] and all("previousCursor" in page for page in pages[1:])
    assert all("startIndex" not in page for page in pages)


def test_previous_cursor_leads_back_to_the_previous_page(client: httpx.Client) -> None:
    _users(client, [f"user{n:02d}" for n in range(10)])
    pages = _walk(client, count=3)
    for earlier, later in itertools.pairwise(pages):
        back = client.get("/Users", params={"count": 3, "cursor": later["previousCursor"]}).json()
        assert back["Resources"] == earlier["Resources"]
        assert ("previousCursor" in back) == ("previousCursor" in earlier)
        assert "nextCursor" in back


def test_filtered_and_sorted_walks_follow_the_query(client: httpx.Client) -> None:
    _users(client, ["bo-c", "al-a", "bo-a", "al-b", "bo-b", "al-c"])
    query = {"filter": 'userName sw "bo"', "sortBy": "userName", "sortOrder": "descending", "count": 2}
    pages = _walk(client, **query)
    assert [res["userName"] for page in pages for res in page["Resources"]] == ["bo-c", "bo-b", "bo-a"]
    assert all(page["totalResults"] == 3 for page in pages)


def test_search_takes_the_cursor_in_its_body(client: httpx.Client) -> None:
    ids = _users(client, [f"s{n}" for n in range(5)])
    group = client.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "grp"}).json()["id"]
    body: dict[str, Any] = {"schemas": [urns.SEARCH_REQUEST], "cursor": "", "count": 4}
    seen: list[str] = []
    for _ in range(5):
        page = client.post("/.search", json=body).json()
        seen += [res["id"] for res in page["Resources"]]
        if "nextCursor" not in page:
            break
        body["cursor"] = page["nextCursor"]
    assert seen == [*ids, group]  # root search: users, then groups, as index paging orders them


def test_creates_and_deletes_between_pages_neither_skip_nor_repeat(client: httpx.Client) -> None:
    ids = _users(client, [f"w{n:02d}" for n in range(9)])
    first = client.get("/Users", params={"cursor": "", "count": 3}).json()
    client.delete(f"/Users/{ids[3]}")  # the next page's first resource goes
    client.delete(f"/Users/{ids[1]}")  # one already read goes
    late = _users(client, ["w99"])
    cursor, seen = first["nextCursor"], [res["id"] for res in first["Resources"]]
    while cursor:
        page = client.get("/Users", params={"count": 3, "cursor": cursor}).json()
        seen += [res["id"] for res in page["Resources"]]
        cursor = page.get("nextCursor")
    assert seen == [ids[0], ids[1], ids[2], *ids[4:], *late]


def test_cursor_errors_are_scim_errors_with_the_rfc_9865_types(client: httpx.Client) -> None:
    _users(client, ["e1", "e2", "e3"])
    cursor = client.get("/Users", params={"cursor": "", "count": 1}).json()["nextCursor"]
    cases = [
        ({"cursor": cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]}, "invalidCursor"),
        ({"cursor": "not-a-cursor"}, "invalidCursor"),
        ({"cursor": cursor, "filter": 'userName eq "e1"'}, "invalidCursor"),  # another query's cursor
        ({"cursor": cursor, "sortBy": "userName"}, "invalidCursor"),
        ({"cursor": "", "count": "0"}, "invalidCount"),
        ({"cursor": "", "count": "1001"}, "invalidCount"),
        ({"cursor": "", "startIndex": "2"}, "invalidValue"),
    ]
    for params, scim_type in cases:
        answer = client.get("/Users", params=params)
        assert answer.status_code == 400, (params, answer.text)
        assert answer.headers["content-type"].startswith(urns.MEDIA_TYPE)
        assert answer.json() == {**answer.json(), "schemas": [urns.ERROR], "status": "400", "scimType": scim_type}
    assert client.get("/Groups", params={"cursor": cursor}).json()["scimType"] == "invalidCursor"


def test_a_cursor_of_one_tenant_is_refused_by_another(app: Flask, store: Store, client: httpx.Client) -> None:
    _users(client, ["t1", "t2"])
    cursor = client.get("/Users", params={"cursor": "", "count": 1}).json()["nextCursor"]
    other = issue_token(store, "other", "acme")
    with httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url="http://scim.invalid/scim/acme/v2",
        headers={"Authorization": f"Bearer {other}"},
    ) as acme:
        _users(acme, ["t1", "t2"])
        answer = acme.get("/Users", params={"cursor": cursor, "count": 1})
    assert answer.status_code == 400 and answer.json()["scimType"] == "invalidCursor"


def test_an_expired_cursor_says_so(app: Flask, client: httpx.Client) -> None:
    _users(client, ["x1", "x2"])
    cursor = client.get("/Users", params={"cursor": "", "count": 1}).json()["nextCursor"]
    codec = app.extensions["aup"].service.cursors
    issued = codec.clock()
    codec.clock = lambda: issued + codec.timeout + 1
    answer = client.get("/Users", params={"cursor": cursor, "count": 1})
    assert answer.status_code == 400 and answer.json()["scimType"] == "expiredCursor"


def test_service_provider_config_advertises_both_methods(client: httpx.Client) -> None:
    pagination = client.get("/ServiceProviderConfig").json()["pagination"]
    assert pagination == {
        "cursor": True,
        "index": True,
        "defaultPaginationMethod": "index",
        "defaultPageSize": 100,
        "maxPageSize": 1000,
        "cursorTimeout": 3600,
    }


@pytest.fixture
def limited(store: Store, token: str) -> Iterator[httpx.Client]:
    app = create_app({"max_list_members": 3, "max_count": 10, "default_count": 10}, store=store)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": urns.MEDIA_TYPE}
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=IN_PROCESS_SCIM_URL, headers=headers) as c:
        yield c


def test_a_page_ended_early_by_the_member_limit_continues_after_its_last_group(limited: httpx.Client) -> None:
    users = _users(limited, ["m1", "m2", "m3"])
    groups = []
    for index, size in enumerate([2, 2, 1, 3]):
        body = {"schemas": [urns.GROUP], "displayName": f"g{index}", "members": [{"value": u} for u in users[:size]]}
        groups.append(limited.post("/Groups", json=body).json()["id"])
    pages = _walk(limited, "/Groups", count=10)
    assert [len(page["Resources"]) for page in pages] == [1, 2, 1]  # 2 | 2+1 | 3 members under a limit of 3
    assert _ids(pages) == groups
    assert all(sum(len(g.get("members", [])) for g in page["Resources"]) <= 3 for page in pages)
