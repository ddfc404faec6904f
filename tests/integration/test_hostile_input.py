"""Hostile input never yields a 5xx or a non-SCIM answer: generated bodies, filters, paths, ids and headers."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scimcore import urns

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
ATTRS = [
    "userName",
    "name",
    "name.givenName",
    "emails",
    "active",
    "members",
    "displayName",
    "externalId",
    "groups",
    "id",
    "meta",
    "password",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
]
attr_names = st.sampled_from(ATTRS) | st.text(max_size=15)
user_like = st.fixed_dictionaries(
    {"schemas": st.sampled_from([[urns.USER], [urns.GROUP], [], ["x"]])},
    optional=dict.fromkeys(ATTRS, json_values),
)
patch_ops = st.lists(
    st.fixed_dictionaries(
        {"op": st.sampled_from(["add", "Replace", "remove", "REMOVE", "move", ""]) | st.text(max_size=6)},
        optional={"path": attr_names | st.text(max_size=40), "value": json_values},
    ),
    max_size=4,
)


def check(resp: httpx.Response) -> None:
    assert resp.status_code < 500, resp.text
    if resp.status_code >= 400:
        body = resp.json()
        assert body["schemas"] == [urns.ERROR]
        assert body["status"] == str(resp.status_code)
        assert resp.headers["content-type"].startswith(urns.MEDIA_TYPE)


@pytest.fixture
def seeded(client: httpx.Client) -> dict[str, str]:
    user = client.post("/Users", json={"schemas": [urns.USER], "userName": "seed"}).json()
    group = client.post(
        "/Groups", json={"schemas": [urns.GROUP], "displayName": "seed", "members": [{"value": user["id"]}]}
    )
    return {"user": user["id"], "group": group.json()["id"]}


@SETTINGS
@given(body=user_like | json_values)
def test_generated_create_bodies(client: httpx.Client, body: Any) -> None:
    check(client.post("/Users", json=body))
    check(client.post("/Groups", json=body))


@SETTINGS
@given(ops=patch_ops, schemas=st.sampled_from([[urns.PATCH_OP], []]))
def test_generated_patches(
    client: httpx.Client, seeded: dict[str, str], ops: list[dict[str, Any]], schemas: Any
) -> None:
    body = {"schemas": schemas, "Operations": ops}
    check(client.patch(f"/Users/{seeded['user']}", json=body))
    check(client.patch(f"/Groups/{seeded['group']}", json=body))
    assert client.get(f"/Users/{seeded['user']}").status_code == 200


@SETTINGS
@given(
    flt=st.text(max_size=60)
    | st.builds(lambda a, o, v: f"{a} {o} {v}", attr_names, st.text(max_size=4), st.text(max_size=8)),
    attrs=st.text(max_size=30),
    sort_by=st.text(max_size=20),
    start=st.text(max_size=5),
)
def test_generated_query_parameters(client: httpx.Client, flt: str, attrs: str, sort_by: str, start: str) -> None:
    for endpoint in ("/Users", "/Groups"):
        check(client.get(endpoint, params={"filter": flt}))
        check(client.get(endpoint, params={"attributes": attrs, "excludedAttributes": attrs}))
        check(client.get(endpoint, params={"sortBy": sort_by, "startIndex": start, "count": start}))


@SETTINGS
# ids stay within latin-1: the WSGI transport itself cannot carry other characters in PATH_INFO
@given(rid=st.text(st.characters(min_codepoint=1, max_codepoint=255), min_size=1, max_size=40))
def test_generated_ids(client: httpx.Client, rid: str) -> None:
    from urllib.parse import quote

    path = quote(rid, safe="")
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        check(client.request(method, f"/Users/{path}", json={"schemas": [urns.PATCH_OP], "Operations": []}))


@SETTINGS
@given(
    headers=st.dictionaries(
        st.sampled_from(["If-Match", "If-None-Match", "Content-Type", "Accept"]),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
    )
)
def test_generated_headers(client: httpx.Client, seeded: dict[str, str], headers: dict[str, str]) -> None:
    check(client.get(f"/Users/{seeded['user']}", headers=headers))
    check(client.put(f"/Users/{seeded['user']}", content=b'{"userName": "seed"}', headers=headers))


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"userName": "' + b"a" * 5_000_000 + b'"}',
        b"\xc3\x28\xa0\xa1",
        b'{"userName": "\\ud800"}',
        b'{"userName": 1e400}',
        json.dumps({"userName": "x", "name": {"givenName": {"a": {"b": {"c": [[[[]]]]}}}}}).encode(),
    ],
    ids=["deep-nesting", "huge-string", "invalid-utf8", "lone-surrogate", "huge-number", "nested-objects"],
)
def test_pathological_bodies(client: httpx.Client, raw: bytes) -> None:
    resp = client.post("/Users", content=raw, headers={"Content-Type": urns.MEDIA_TYPE})
    check(resp)
    assert resp.status_code in (400, 413)


@pytest.mark.parametrize("rid", ["..%2FGroups", "..%2F..%2Fetc%2Fpasswd", "%00", "a%20b", "' OR 1=1 --"])
def test_traversal_and_injection_ids_are_plain_404(client: httpx.Client, seeded: dict[str, str], rid: str) -> None:
    resp = client.get(f"/Users/{rid}")
    check(resp)
    assert resp.status_code == 404
