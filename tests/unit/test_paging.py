"""scimcore.paging: the one walker of aup's own list reads, by cursor or by index, against the reference server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from scimcore import paging, urns


def _fetcher(client: httpx.Client, sent: list[dict[str, Any]]) -> paging.Fetch:
    def fetch(query: paging.Query) -> Mapping[str, Any]:
        sent.append(dict(query))
        answer = client.get("/Users", params=[(k, str(v)) for k, v in query])
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    return fetch


@pytest.mark.parametrize("by_cursor", [True, False])
def test_both_walks_read_every_user_once(client: httpx.Client, by_cursor: bool) -> None:
    ids = [
        client.post("/Users", json={"schemas": [urns.USER], "userName": f"p{n:02d}"}).json()["id"] for n in range(23)
    ]
    sent: list[dict[str, Any]] = []
    found = [res["id"] for res in paging.walk(_fetcher(client, sent), by_cursor=by_cursor, count=5)]
    assert found == ids
    assert len(sent) == 5
    assert all(("cursor" in query) == by_cursor and ("startIndex" in query) != by_cursor for query in sent)


def test_cursor_paging_is_used_only_when_advertised(client: httpx.Client) -> None:
    assert paging.cursor_advertised(client.get("/ServiceProviderConfig").json())
    assert not paging.cursor_advertised({"pagination": {"cursor": "true"}})  # a string is not the boolean
    assert not paging.cursor_advertised({})
    assert not paging.cursor_advertised(None)


def test_a_walk_that_does_not_end_is_an_error() -> None:
    def looping(query: paging.Query) -> Mapping[str, Any]:
        return {"Resources": [{"id": "a"}], "nextCursor": "same"}

    with pytest.raises(paging.PagingError, match="same nextCursor twice"):
        list(paging.walk(looping, by_cursor=True))

    def endless(query: paging.Query) -> Mapping[str, Any]:
        return {"Resources": [{"id": "a"}], "totalResults": 10**9}

    with pytest.raises(paging.PagingError, match="did not end after 3 pages"):
        list(paging.walk(endless, by_cursor=False, max_pages=3))
