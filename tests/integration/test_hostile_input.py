"""Hostile input never yields a 5xx or a non-SCIM answer: generated bodies, filters, paths, ids and headers.

Each class of hostile input is generated, not listed: numbers no parser or store can hold, in any body
position; out-of-range integers in every integer query parameter; lone surrogates and invalid UTF-8 in
bodies, query strings, filter values, path ids and headers (the last three over a real socket, since the
in-process WSGI transport cannot carry such bytes).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit
from uuid import uuid4

import httpx
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aup_server.app import create_app
from aup_server.store import SqliteStore
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL
from tests.integration.conftest import Served

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FEW = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NUMERIC = "urn:example:params:scim:schemas:extension:hostile:2.0:User"
MAX_COUNT = 1000  # ServerConfig.max_count

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


@pytest.mark.slow
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
        check(client.get(endpoint, params={"sortBy": sort_by, "cursor": attrs, "count": start}))


bulk_operation = st.fixed_dictionaries(
    {},
    optional={
        "method": st.sampled_from(["POST", "PUT", "PATCH", "DELETE", "post", "GET", ""]) | st.integers(),
        "path": st.sampled_from(["/Users", "/Groups", "/Users/bulkId:a", "/Groups/bulkId:b", "/Widgets", "Users/x"])
        | st.text(max_size=20),
        "bulkId": st.sampled_from(["a", "b", "c", ""]) | st.integers(),
        "version": st.sampled_from(['W/"1"', "*", ""]) | st.integers(),
        "data": st.fixed_dictionaries(
            {},
            optional={
                "schemas": st.sampled_from([[urns.USER], [urns.GROUP], [urns.PATCH_OP], []]),
                "userName": st.sampled_from(["bulk", "BULK", "bulkId:a"]) | st.text(max_size=10),
                "displayName": st.text(max_size=10),
                "members": st.lists(st.fixed_dictionaries({"value": st.sampled_from(["bulkId:a", "bulkId:c", "x"])})),
                "Operations": patch_ops,
            },
        )
        | st.text(max_size=5)
        | st.none(),
    },
)


@SETTINGS
@given(
    operations=st.lists(bulk_operation, max_size=6) | st.text(max_size=5),
    fail_on_errors=st.none() | st.integers(-2, 3) | st.text(max_size=3),
)
def test_generated_bulk_requests(client: httpx.Client, operations: Any, fail_on_errors: Any) -> None:
    """Whatever a Bulk request holds, it is answered without a 5xx, for the whole or for any operation."""
    body: dict[str, Any] = {"schemas": [urns.BULK_REQUEST], "Operations": operations}
    if fail_on_errors is not None:
        body["failOnErrors"] = fail_on_errors
    answer = client.post("/Bulk", json=body)
    check(answer)
    if answer.status_code == 200:
        for op in answer.json()["Operations"]:
            assert isinstance(op["status"], str) and not op["status"].startswith("5"), op
            if not op["status"].startswith("2"):
                assert op["response"]["schemas"] == [urns.ERROR] and op["response"]["status"] == op["status"]


@SETTINGS
# ids stay within latin-1: the WSGI transport itself cannot carry other characters in PATH_INFO
@given(rid=st.text(st.characters(min_codepoint=1, max_codepoint=255), min_size=1, max_size=40))
def test_generated_ids(client: httpx.Client, rid: str) -> None:
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


# -- huge numbers, in every body position ---------------------------------------------------------


class Raw:
    """A literal spliced into the JSON text as it is: json.dumps cannot write 1e400 or a 5,000-digit integer."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Raw({self.text[:30]}{'…' if len(self.text) > 30 else ''} [{len(self.text)} chars])"


def encode(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(key)}:{encode(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encode(item) for item in value) + "]"
    return json.dumps(value)


signs = st.sampled_from(["", "-"])
huge_numbers = st.one_of(
    # beyond Python's int-string conversion limit (4,300 digits)
    st.builds(lambda s, d, n: f"{s}{d}{'0' * n}", signs, st.integers(1, 9), st.integers(4_300, 9_000)),
    # beyond SQLite's signed 64-bit integers, and well beyond
    st.builds(lambda s, n: f"{s}{n}", signs, st.integers(2**63 - 4, 2**63 + 4) | st.integers(2**63, 10**400)),
    # beyond a double's range, either way, with any exponent spelling
    st.builds(
        lambda s, m, e, x: f"{s}{m}{e}{x}",
        signs,
        st.sampled_from(["1", "9.99", "0.5", "123456789"]),
        st.sampled_from(["e", "E", "e+", "E-", "e-"]),
        st.integers(300, 10**6),
    ),
    # long fractions, negative zero, and the NaN-like tokens Python's parser accepts but JSON has not
    st.builds(lambda n: "0." + "3" * n, st.integers(300, 6_000)),
    st.sampled_from(["-0", "-0.0", "0e0", "-0E-0", "NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400"]),
)
numeric_user = st.fixed_dictionaries(
    {
        "schemas": st.just([urns.USER, NUMERIC]),
        "userName": st.text("abcdefgh", min_size=1, max_size=8).map(lambda s: f"n-{s}"),
        NUMERIC: st.fixed_dictionaries(
            {"level": st.integers(), "ratio": st.floats(-1e6, 1e6), "scores": st.lists(st.integers(), max_size=2)}
        ),
    },
    optional={"name": st.fixed_dictionaries({"givenName": st.text(max_size=5)}), "active": st.booleans()},
)
numeric_patch = st.fixed_dictionaries(
    {
        "schemas": st.just([urns.PATCH_OP]),
        "Operations": st.lists(
            st.sampled_from(
                [
                    {"op": "replace", "path": f"{NUMERIC}:level", "value": 1},
                    {"op": "add", "path": f"{NUMERIC}:scores", "value": [1, 2]},
                    {"op": "replace", "value": {f"{NUMERIC}:ratio": 0.5, "active": True}},
                    {"op": "replace", "value": {NUMERIC: {"level": 2}}},
                    {"op": "add", "path": "emails", "value": [{"value": "a@example.com", "primary": True}]},
                ]
            ).map(lambda op: json.loads(json.dumps(op))),
            min_size=1,
            max_size=3,
        ),
    }
)
search = st.fixed_dictionaries(
    {"schemas": st.just([urns.SEARCH_REQUEST]), "startIndex": st.integers(), "count": st.integers()},
    optional={"filter": st.just("userName pr"), "sortBy": st.just("userName")},
)


def _positions(value: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key) holding a value, depth first."""
    if isinstance(value, dict):
        for key in value:
            out.append((value, key))
            _positions(value[key], out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.append((value, index))
            _positions(item, out)
    return out


@pytest.fixture
def numeric_app(store: SqliteStore) -> Flask:
    extension = {
        "resourceType": "User",
        "schema": {
            "id": NUMERIC,
            "attributes": [
                {"name": "level", "type": "integer"},
                {"name": "ratio", "type": "decimal"},
                {"name": "scores", "type": "integer", "multiValued": True},
            ],
        },
    }
    return create_app({"extensions": [extension]}, store=store)


@pytest.fixture
def numeric_client(numeric_app: Flask, token: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": urns.MEDIA_TYPE}
    transport = httpx.WSGITransport(app=numeric_app)
    with httpx.Client(transport=transport, base_url=IN_PROCESS_SCIM_URL, headers=headers) as c:
        yield c


@FEW
@given(kind=st.sampled_from(["POST", "PUT", "PATCH", "SEARCH"]), number=huge_numbers, data=st.data())
def test_huge_numbers_in_every_body_position(
    numeric_client: httpx.Client, kind: str, number: str, data: st.DataObject
) -> None:
    """The number replaces any value, any array element or object member of an otherwise valid body."""
    uid = numeric_client.post("/Users", content=json.dumps({"userName": f"base-{uuid4().hex}"})).json()["id"]
    body = data.draw({"POST": numeric_user, "PUT": numeric_user, "PATCH": numeric_patch, "SEARCH": search}[kind])
    spots = _positions(body, [])
    container, key = data.draw(st.sampled_from(spots)) if spots else (body, "userName")
    container[key] = Raw(number)
    raw = encode(body).encode()
    if kind == "POST":
        responses = [numeric_client.post("/Users", content=raw)]
    elif kind == "PUT":
        responses = [numeric_client.put(f"/Users/{uid}", content=raw)]
    elif kind == "PATCH":
        responses = [numeric_client.patch(f"/Users/{uid}", content=raw)]
    else:
        responses = [numeric_client.post("/Users/.search", content=raw), numeric_client.post("/.search", content=raw)]
    for resp in responses:
        check(resp)
        if resp.status_code < 300 and resp.content:
            resp.json()  # whatever was accepted renders as valid JSON
    check(numeric_client.get("/Users"))  # and every stored resource still renders


# -- out-of-range integers in every integer query parameter ---------------------------------------

big_ints = st.integers() | st.integers(2**62, 2**66) | st.integers(-(2**66), -(2**62)) | st.integers(10**18, 10**400)
int_literals = st.one_of(
    big_ints.map(str),
    st.builds(lambda s, n: f"{s}{'9' * n}", st.sampled_from(["", "-", "+"]), st.integers(4_300, 9_000)),
    # spaces around, a plus sign, leading zeros
    st.builds(
        lambda sp, sign, zeros, n: f"{sp}{sign}{zeros}{abs(n)}{sp}",
        st.sampled_from(["", " "]),
        st.sampled_from(["", "-", "+"]),
        st.sampled_from(["", "0", "000"]),
        big_ints,
    ),
)


def _clamped(literal: str) -> int:
    """The literal's value, or ±10**30 past that (Python will not even convert over 4,300 digits)."""
    text = literal.strip()
    if len(text.lstrip("+-").lstrip("0")) > 30:
        return -(10**30) if text.startswith("-") else 10**30
    return int(text)


@SETTINGS
@given(start=int_literals, count=int_literals, endpoint=st.sampled_from(["/Users", "/Groups"]), sort=st.booleans())
def test_out_of_range_integers_in_query_parameters_are_clamped(
    client: httpx.Client, seeded: dict[str, str], start: str, count: str, endpoint: str, sort: bool
) -> None:
    """RFC 7644 §3.4.2.4 interprets every startIndex and count: a list is answered, never refused."""
    params = {"startIndex": start, "count": count, **({"sortBy": "id"} if sort else {})}
    for resp in (
        client.get(endpoint, params=params),
        client.get(endpoint, params={**params, "filter": 'id eq "x" or id pr'}),
    ):
        check(resp)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        wanted_start, wanted_count = _clamped(start), _clamped(count)
        assert page["startIndex"] == max(wanted_start, 1) or wanted_start > 2**61
        assert page["itemsPerPage"] <= max(0, min(wanted_count, MAX_COUNT))
        assert page["itemsPerPage"] == len(page["Resources"])


@FEW
@given(start=big_ints, count=big_ints, where=st.sampled_from(["/Users/.search", "/Groups/.search", "/.search"]))
def test_out_of_range_integers_in_search_requests_are_clamped(
    client: httpx.Client, seeded: dict[str, str], start: int, count: int, where: str
) -> None:
    body = {"schemas": [urns.SEARCH_REQUEST], "startIndex": start, "count": count}
    resp = client.post(where, content=encode(body), headers={"Content-Type": urns.MEDIA_TYPE})
    check(resp)
    assert resp.status_code == 200, resp.text


# -- lone surrogates and invalid UTF-8 --------------------------------------------------------------

# JSON escapes of UTF-16 surrogates that pair with nothing: a high one not followed by a low one, or a low one alone
lone_surrogates = st.one_of(
    st.builds(
        lambda cp, tail: f"\\u{cp:04x}{tail}",
        st.integers(0xD800, 0xDBFF),
        st.sampled_from(["", "x", "\\u0041", "\\ud800", "\\uDBFF"]),
    ),
    st.builds(
        lambda head, cp: f"{head}\\u{cp:04X}", st.sampled_from(["", "x", "\\u0041"]), st.integers(0xDC00, 0xDFFF)
    ),
)
# byte sequences UTF-8 forbids: stray continuation bytes, overlong forms, encoded surrogates (CESU-8), past U+10FFFF
bad_utf8 = st.sampled_from(
    [b"\xff", b"\xfe\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80"]
) | st.lists(st.integers(0x80, 0xFF), min_size=1, max_size=6).map(bytes).filter(lambda b: not _decodes(b))


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@SETTINGS
@given(
    where=st.sampled_from(["userName", "name.givenName", "emails[0].value", "displayName", "key", "schemas[0]"]),
    junk=lone_surrogates.map(str.encode) | bad_utf8,
    endpoint=st.sampled_from(["/Users", "/Groups", "/Users/.search", "PATCH"]),
)
def test_lone_surrogates_and_invalid_utf8_in_bodies(
    client: httpx.Client, seeded: dict[str, str], where: str, junk: bytes, endpoint: str
) -> None:
    marker = "@@JUNK@@"
    body: dict[str, Any] = {
        "schemas": [urns.USER],
        "userName": "u",
        "name": {"givenName": "g"},
        "emails": [{"value": "e@example.com"}],
        "displayName": "d",
    }
    if where == "key":
        body[marker] = "v"
    elif where == "schemas[0]":
        body["schemas"] = [marker]
    elif where == "name.givenName":
        body["name"]["givenName"] = marker
    elif where == "emails[0].value":
        body["emails"][0]["value"] = marker
    else:
        body[where] = marker
    if endpoint == "PATCH":
        body = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "value": body}]}
    elif endpoint == "/Users/.search":
        body = {"schemas": [urns.SEARCH_REQUEST], "filter": f'userName eq "{marker}"'}
    raw = json.dumps(body).encode().replace(marker.encode(), junk)
    url = f"/Users/{seeded['user']}" if endpoint == "PATCH" else endpoint
    resp = client.request(
        "PATCH" if endpoint == "PATCH" else "POST", url, content=raw, headers={"Content-Type": urns.MEDIA_TYPE}
    )
    check(resp)
    assert resp.status_code == 400, resp.text


@SETTINGS
@given(
    attr=st.sampled_from(["userName", "externalId", "id", "displayName", "emails.value", "title", "emails"]),
    op=st.sampled_from(["eq", "ne", "co", "sw", "gt"]),
    junk=lone_surrogates,
    prefix=st.text("ab", max_size=2),
    endpoint=st.sampled_from(["/Users", "/Groups"]),
)
def test_lone_surrogate_escapes_in_filter_values(
    client: httpx.Client, seeded: dict[str, str], attr: str, op: str, junk: str, prefix: str, endpoint: str
) -> None:
    """An unpaired \\uD800 escape decodes to no Unicode string: 400 invalidFilter, indexed or not."""
    text = f'{attr} {op} "{prefix}{junk}"'
    for resp in (
        client.get(endpoint, params={"filter": text}),
        client.post(f"{endpoint}/.search", json={"schemas": [urns.SEARCH_REQUEST], "filter": text}),
        client.get(endpoint, params={"filter": f'emails[value {op} "{junk}"]'}),
    ):
        check(resp)
        assert resp.status_code == 400
        assert resp.json()["scimType"] in ("invalidFilter", "invalidSyntax")


def _raw_request(
    served: Served, method: str, target: bytes, headers: dict[bytes, bytes], body: bytes = b""
) -> tuple[int, bytes, bytes]:
    """Send bytes httpx would re-encode (invalid UTF-8 in the request target and header values)."""
    parts = urlsplit(served.base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head = [method.encode() + b" " + parts.path.encode() + target + b" HTTP/1.1", b"Host: " + f"{host}:{port}".encode()]
    head += [b"Authorization: Bearer " + served.token.encode(), b"Connection: close"]
    head += [name + b": " + value for name, value in headers.items()]
    head += [b"Content-Length: " + str(len(body)).encode()]
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"\r\n".join(head) + b"\r\n\r\n" + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    status_line, _, rest = answer.partition(b"\r\n")
    header_block, _, payload = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), header_block, payload


def _check_raw(status: int, header_block: bytes, payload: bytes) -> None:
    assert status < 500, payload
    if status >= 400:
        content_type = next(
            line.split(b":", 1)[1].strip()
            for line in header_block.split(b"\r\n")
            if line.lower().startswith(b"content-type:")
        )
        assert content_type.startswith(urns.MEDIA_TYPE.encode())
        body = json.loads(payload)
        assert body["schemas"] == [urns.ERROR]
        assert body["status"] == str(status)


def _pct(raw: bytes) -> bytes:
    return "".join(f"%{byte:02X}" for byte in raw).encode()


@FEW
@given(
    junk=bad_utf8,
    surrogate=lone_surrogates,
    in_path=st.booleans(),
    header=st.sampled_from([b"If-Match", b"If-None-Match", b"Content-Type", b"Accept", b"X-Anything"]),
)
def test_invalid_utf8_in_paths_query_strings_and_headers_over_the_wire(
    served: Served, junk: bytes, surrogate: str, in_path: bool, header: bytes
) -> None:
    """Raw bytes on a real socket: percent-encoded and raw in the target, raw in header values."""
    targets = [
        b"/Users/" + _pct(junk),
        b"/Groups/x" + _pct(junk) + b"y",
        b"/Users?filter=userName%20eq%20%22" + _pct(junk) + b"%22",
        b"/Users?filter=" + quote(f'externalId eq "{surrogate}"').encode(),
        b"/Users?startIndex=" + _pct(junk) + b"&count=" + _pct(junk),
        b"/Users?cursor=" + _pct(junk) + b"&count=" + _pct(junk),
        b"/Users?attributes=" + _pct(junk) + b"&sortBy=" + _pct(junk),
        b"/Users?" + _pct(junk) + b"=1",
    ]
    if in_path:
        targets.append(b"/Users/" + junk)  # raw, not percent-encoded: every byte is >= 0x80
    for target in targets:
        _check_raw(*_raw_request(served, "GET", target, {header: b'"' + junk + b'"'}))
    body = (
        b'{"schemas":["'
        + urns.PATCH_OP.encode()
        + b'"],"Operations":[{"op":"add","path":"x","value":"'
        + junk
        + b'"}]}'
    )
    _check_raw(
        *_raw_request(served, "PATCH", b"/Users/" + _pct(junk), {b"Content-Type": urns.MEDIA_TYPE.encode()}, body)
    )
