from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from scimcore.client import (
    IN_PROCESS_SCIM_URL,
    BearerAuth,
    ScimClient,
    Wiretap,
    encode_query,
    eq_filter,
    make_http,
)


def recording_transport(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True}, headers={"Set-Cookie": "a=b"})

    return httpx.MockTransport(handle)


def test_explicit_headers_replace_httpx_defaults() -> None:
    seen: list[httpx.Request] = []
    http = make_http(recording_transport(seen), headers=[("Accept", "application/scim+json")])
    http.get("/Users")
    assert set(seen[0].headers) == {"host", "accept"}


def test_default_headers_are_httpx_ones_when_not_replaced() -> None:
    seen: list[httpx.Request] = []
    make_http(recording_transport(seen)).get("/Users")
    assert seen[0].headers["User-Agent"].startswith("python-httpx")


def test_base_url_path_is_kept_for_in_process_targets() -> None:
    seen: list[httpx.Request] = []
    make_http(recording_transport(seen), base_url=IN_PROCESS_SCIM_URL).get("/Users")
    assert str(seen[0].url) == "http://scim.test/scim/v2/Users"


def test_a_wsgi_callable_is_served_in_process() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "application/scim+json")])
        return [json.dumps({"path": environ["PATH_INFO"], "query": environ["QUERY_STRING"]}).encode()]

    response = make_http(app, base_url=IN_PROCESS_SCIM_URL).get("/Users?count=2")
    assert response.json() == {"path": "/scim/v2/Users", "query": "count=2"}


def test_a_target_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(TypeError, match="base URL, a WSGI app or an httpx transport"):
        make_http(42)  # type: ignore[arg-type]


def test_wiretap_records_requests_as_sent_with_timing() -> None:
    moments = iter([datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC) + timedelta(milliseconds=7)])
    tap = Wiretap("okta-oin", now=lambda: next(moments))
    sunk: list[Any] = []
    tap._sink = sunk.append
    http = make_http(recording_transport([]), BearerAuth("tok"), hooks=tap.hooks)
    ScimClient(http).post("/Users", {"userName": "ü@x", "password": "pw"})
    [ex] = tap.exchanges
    assert ex.method == "POST" and ex.url == "/Users" and ex.status == 200
    assert ex.request_header("Authorization") == "Bearer tok"  # unredacted in memory
    assert ex.request_body == {"userName": "ü@x", "password": "pw"}
    assert ex.response_body == {"ok": True}
    assert ex.started == "2025-01-01T00:00:00.000000Z" and ex.elapsed_ms == 7.0
    assert ex.source == "okta-oin" and sunk == [ex]


def test_scim_client_sends_compact_json_and_content_type_only_with_a_body() -> None:
    seen: list[httpx.Request] = []
    client = ScimClient(make_http(recording_transport(seen)), body_headers=[("Content-Type", "x/y")])
    client.get("/Users")
    client.patch("/Users/1", {"a": "é", "b": [1, 2]})
    assert "content-type" not in seen[0].headers
    assert seen[1].headers["Content-Type"] == "x/y"
    assert seen[1].content == '{"a":"é","b":[1,2]}'.encode()


def test_query_encoding_spaces_as_percent_twenty_or_plus() -> None:
    params = [("filter", eq_filter("userName", "a b@c")), ("startIndex", 1)]
    assert encode_query(params) == "filter=userName%20eq%20%22a%20b%40c%22&startIndex=1"
    assert encode_query(params, space="+") == "filter=userName+eq+%22a+b%40c%22&startIndex=1"
    with pytest.raises(ValueError, match="space must be"):
        encode_query(params, space="_")


def test_eq_filter_escapes_quotes_and_backslashes() -> None:
    assert eq_filter("displayName", 'a "b" \\c') == 'displayName eq "a \\"b\\" \\\\c"'
