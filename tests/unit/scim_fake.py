"""A tiny in-memory SCIM service provider behind httpx.MockTransport, for flow tests.

It understands just what the Okta flows send (eq filters, paging, the Okta PATCH shapes), records
every request, and can be told to answer the next requests with scripted responses.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from scimcore import urns

BASE_URL = "https://idp-target.test/scim/v2"
_FILTER = re.compile(r'^(\w+) eq "(.*)"$')
_MEMBER_PATH = re.compile(r'^members\[value eq "(.+)"\]$')


class FakeScim:
    def __init__(self) -> None:
        self.resources: dict[str, dict[str, dict[str, Any]]] = {"Users": {}, "Groups": {}}
        self.requests: list[httpx.Request] = []
        self.scripted: list[httpx.Response] = []

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def calls(self) -> list[tuple[str, str]]:
        """(method, path+query as sent) of every request, the base path removed."""
        prefix = urlsplit(BASE_URL).path
        return [(r.method, r.url.raw_path.decode()[len(prefix) :]) for r in self.requests]

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]

    def add(self, endpoint: str, doc: dict[str, Any]) -> dict[str, Any]:
        doc = {**doc, "id": doc.get("id") or str(uuid.uuid4())}
        doc["meta"] = {"resourceType": endpoint[:-1], "location": f"{BASE_URL}/{endpoint}/{doc['id']}"}
        self.resources[endpoint][doc["id"]] = doc
        return doc

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if urlsplit(str(request.url)).path.endswith("/ServiceProviderConfig"):
            # discovery, as the CLI's pre-flight reads it; never scripted
            return httpx.Response(200, json={"schemas": [urns.SERVICE_PROVIDER_CONFIG], "patch": {"supported": True}})
        if self.scripted:
            return self.scripted.pop(0)
        parts = urlsplit(str(request.url)).path.split("/scim/v2/", 1)[1].split("/")
        endpoint, rid = parts[0], (parts[1] if len(parts) > 1 else None)
        store = self.resources[endpoint]
        body = json.loads(request.content) if request.content else None
        if request.method == "GET" and rid is None:
            return self._list(store, dict(parse_qsl(request.url.query.decode())))
        if request.method == "POST":
            duplicate = any(d.get("userName", "").lower() == body.get("userName", "").lower() for d in store.values())
            if endpoint == "Users" and duplicate:
                return error_response(409, "userName already exists")
            doc = self.add(endpoint, {k: v for k, v in body.items() if k not in ("password", "groups")})
            return httpx.Response(201, json=doc)
        if rid not in store:
            return error_response(404, f"{rid} not found")
        if request.method == "GET":
            return httpx.Response(200, json=store[rid])
        if request.method == "PUT":
            keep = {"id": rid, "meta": store[rid]["meta"]}
            store[rid] = {**{k: v for k, v in body.items() if k not in ("password", "groups")}, **keep}
            return httpx.Response(200, json=store[rid])
        if request.method == "PATCH":
            _patch(store[rid], body["Operations"])
            return httpx.Response(200, json=store[rid])
        del store[rid]
        return httpx.Response(204)

    def _list(self, store: dict[str, dict[str, Any]], params: dict[str, str]) -> httpx.Response:
        found = list(store.values())
        if "filter" in params:
            match = _FILTER.match(params["filter"])
            assert match, params["filter"]
            attr, value = match.groups()
            found = [d for d in found if str(d.get(attr, "")).lower() == value.lower()]
        start, count = int(params.get("startIndex", 1)), int(params.get("count", 100))
        page = found[start - 1 : start - 1 + count]
        return httpx.Response(
            200,
            json={
                "schemas": [urns.LIST_RESPONSE],
                "totalResults": len(found),
                "startIndex": start,
                "itemsPerPage": len(page),
                "Resources": page,
            },
        )


def _patch(doc: dict[str, Any], operations: list[dict[str, Any]]) -> None:
    for op in operations:
        path = op.get("path")
        if path is None:
            doc.update({k: v for k, v in op["value"].items() if k not in ("id", "password")})
        elif path == "members" and op["op"] == "replace":
            doc["members"] = list(op["value"])
        elif path == "members" and op["op"] == "add":
            known = {m["value"] for m in doc.setdefault("members", [])}
            doc["members"] += [m for m in op["value"] if m["value"] not in known]
        elif (match := _MEMBER_PATH.match(path)) and op["op"] == "remove":
            doc["members"] = [m for m in doc.get("members", []) if m["value"] != match.group(1)]
        else:
            raise AssertionError(f"fake SCIM server cannot apply {op}")


def error_response(status: int, detail: str) -> httpx.Response:
    return httpx.Response(status, json={"schemas": [urns.ERROR], "status": str(status), "detail": detail})


def empty_list() -> httpx.Response:
    """An empty ListResponse: what a lookup that finds nothing gets."""
    return FakeScim()._list({}, {})
