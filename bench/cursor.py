"""Paging and Bulk (issue #26): every user read back over HTTP by cursor (RFC 9865) and by startIndex (RFC 7644
§3.4.2.4), with the time of each page across the walk, and 1,000 creates sent in /Bulk requests and one by one.

Index paging re-counts and skips ``startIndex - 1`` rows for every page, so its pages slow down along the walk;
a cursor page is read by index at any depth. Both walks must read exactly the users the store holds, and the
creates must all be there afterwards: a figure from a wrong walk would be worthless. ``python -m bench --only
cursor`` runs it against a real ``aup serve`` on loopback.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.common import aup_serve, expect
from bench.population import fill_users, new_store
from scimcore import urns

TIMEOUT_S = 300.0


def measure(workdir: Path, *, users: int, page: int, creates: int) -> dict[str, Any]:
    db = workdir / "cursor.db"
    store, token = new_store(db)
    try:
        fill_users(store, users)
    finally:
        store.close()
    with aup_serve(db) as server, _client(server.match["url"], token) as client:
        index = _walk(client, users, lambda cursor, start: {"startIndex": start, "count": page})
        cursor = _walk(client, users, lambda cursor, start: {"cursor": cursor, "count": page})
        max_operations = int(expect(client.get("/ServiceProviderConfig"), 200).json()["bulk"]["maxOperations"])
        bulk = _creates(client, "bulk", creates, lambda names: _bulk(client, names, max_operations))
        single = _creates(client, "single", creates, lambda names: _one_by_one(client, names))
    return {
        "users": users,
        "page": page,
        "index": index,
        "cursor": cursor,
        "creates": creates,
        "bulk": bulk,
        "single": single,
        "bulk_speedup": round(single["seconds"] / bulk["seconds"], 2),
    }


def _client(base: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT_S)


def _walk(client: httpx.Client, users: int, params: Callable[[str, int], dict[str, Any]]) -> dict[str, Any]:
    """Read every user; the time of each page. ``params(cursor, startIndex)`` is the page's query."""
    seen: set[str] = set()
    page_ms: list[float] = []
    cursor, start, total_read = "", 1, 0
    began = time.perf_counter()
    while True:
        query = {**params(cursor, start), "attributes": "userName"}
        sent = time.perf_counter()
        body = expect(client.get("/Users", params=query), 200).json()
        page_ms.append((time.perf_counter() - sent) * 1000)
        found = [item["id"] for item in body["Resources"]]
        seen.update(found)
        total_read += len(found)
        start += len(found)
        cursor = body.get("nextCursor", "")
        by_cursor = "cursor" in query
        if (by_cursor and not cursor) or (not by_cursor and (not found or start > body["totalResults"])):
            break
    seconds = time.perf_counter() - began
    if total_read != users or len(seen) != users:
        raise RuntimeError(f"the walk read {total_read} users ({len(seen)} distinct), not {users}")
    return {"pages": len(page_ms), "seconds": round(seconds, 2), **_spread(page_ms)}


def _spread(page_ms: list[float]) -> dict[str, float]:
    """Median page time in the first, middle and last tenth of the walk, and last over first."""
    tenth = max(1, len(page_ms) // 10)
    middle = len(page_ms) // 2
    first = statistics.median(page_ms[:tenth])
    mid = statistics.median(page_ms[max(0, middle - tenth // 2) : max(1, middle - tenth // 2) + tenth])
    last = statistics.median(page_ms[-tenth:])
    return {
        "first_ms": round(first, 2),
        "middle_ms": round(mid, 2),
        "last_ms": round(last, 2),
        "last_over_first": round(last / first, 2),
    }


def _creates(client: httpx.Client, how: str, count: int, send: Callable[[list[str]], int]) -> dict[str, Any]:
    names = [f"{how}{n:05d}@example.com" for n in range(count)]
    began = time.perf_counter()
    requests = send(names)
    seconds = time.perf_counter() - began
    held = expect(client.get("/Users", params={"filter": f'userName sw "{how}"', "count": 0}), 200).json()
    if held["totalResults"] != count:
        raise RuntimeError(f"{how}: {held['totalResults']} of {count} created users are there")
    return {"requests": requests, "seconds": round(seconds, 2), "per_second": round(count / seconds, 1)}


def _user(name: str) -> dict[str, Any]:
    return {"schemas": [urns.USER], "userName": name, "emails": [{"value": name, "primary": True}], "active": True}


def _bulk(client: httpx.Client, names: list[str], max_operations: int) -> int:
    requests = 0
    for first in range(0, len(names), max_operations):
        chunk = names[first : first + max_operations]
        operations = [
            {"method": "POST", "path": "/Users", "bulkId": f"u{n}", "data": _user(name)} for n, name in enumerate(chunk)
        ]
        body = expect(client.post("/Bulk", json={"schemas": [urns.BULK_REQUEST], "Operations": operations}), 200)
        failed = [op for op in body.json()["Operations"] if op["status"] != "201"]
        if failed:
            raise RuntimeError(f"{len(failed)} bulk creates failed, first: {failed[0]}")
        requests += 1
    return requests


def _one_by_one(client: httpx.Client, names: list[str]) -> int:
    for name in names:
        expect(client.post("/Users", json=_user(name)), 201)
    return len(names)


def describe(data: dict[str, Any]) -> str:
    lines = [f"Paging {data['users']} users, {data['page']} a page (median ms per page: first, middle, last tenth)"]
    for how in ("index", "cursor"):
        walk = data[how]
        lines.append(
            f"  by {how}: {walk['seconds']} s, {walk['pages']} pages; {walk['first_ms']} / {walk['middle_ms']} / "
            f"{walk['last_ms']} ms (last {walk['last_over_first']}x first)"
        )
    lines.append(
        f"  {data['creates']} creates: /Bulk {data['bulk']['seconds']} s in {data['bulk']['requests']} request(s), "
        f"one by one {data['single']['seconds']} s ({data['bulk_speedup']}x)"
    )
    return "\n".join(lines)
