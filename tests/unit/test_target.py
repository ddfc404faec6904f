"""The one Target: every kind of credentials as it goes on the wire, and no secret in any repr."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import httpx
import pytest

from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.target import (
    Basic,
    Bearer,
    ClientCredentials,
    ClientCredentialsAuth,
    Credentials,
    HeaderValue,
    Target,
    TokenEndpointError,
)

SECRET = "s3cr3t-value"


def _scim(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"Resources": []})

    return httpx.MockTransport(handle)


def _token_endpoint(seen: list[httpx.Request], *, expires_in: int = 3600, status: int = 200) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if status != 200:
            return httpx.Response(status, json={"error": "invalid_client"})
        return httpx.Response(200, json={"access_token": f"tok{len(seen)}", "expires_in": expires_in})

    return httpx.Client(transport=httpx.MockTransport(handle))


@pytest.mark.parametrize(
    ("credentials", "header", "expected"),
    [
        (Bearer(SECRET), "Authorization", f"Bearer {SECRET}"),
        (HeaderValue(f"SSWS {SECRET}"), "Authorization", f"SSWS {SECRET}"),
        (HeaderValue(SECRET, header="X-Api-Key"), "X-Api-Key", SECRET),
        (Basic("ann", SECRET), "Authorization", "Basic " + base64.b64encode(f"ann:{SECRET}".encode()).decode()),
    ],
)
def test_each_kind_of_credentials_sets_its_header(credentials: Credentials, header: str, expected: str) -> None:
    seen: list[httpx.Request] = []
    with Target(IN_PROCESS_SCIM_URL, credentials, app=_scim(seen)).http() as http:
        http.get("/Users")
    assert seen[0].headers[header] == expected
    assert str(seen[0].url) == f"{IN_PROCESS_SCIM_URL}/Users"


def test_a_target_without_credentials_sends_no_authorization() -> None:
    seen: list[httpx.Request] = []
    target = Target(app=_scim(seen))
    with target.http() as http:
        http.get("/Users")
    assert "Authorization" not in seen[0].headers and target.auth_kind == "none" and target.auth() is None


@pytest.mark.parametrize("credentials_in", ["basic", "post", "both"])
def test_client_credentials_fetch_a_token_where_the_admin_said_and_send_it_as_bearer(credentials_in: str) -> None:
    token_requests: list[httpx.Request] = []
    seen: list[httpx.Request] = []
    grant = ClientCredentials("https://login.test/token", "app 1", "se:cret", ("scim", "read"), credentials_in)  # type: ignore[arg-type]
    target = Target(IN_PROCESS_SCIM_URL, grant, app=_scim(seen))
    auth = target.auth(token_http=_token_endpoint(token_requests))
    with target.http(auth) as http:
        http.get("/Users")
    form = parse_qs(token_requests[0].content.decode())
    assert form["grant_type"] == ["client_credentials"] and form["scope"] == ["scim read"]
    assert ("client_secret" in form) == (credentials_in != "basic")
    # RFC 6749 §2.3.1: id and secret are percent-encoded before base64
    basic = "Basic " + base64.b64encode(b"app%201:se%3Acret").decode()
    assert (token_requests[0].headers.get("Authorization") == basic) == (credentials_in != "post")
    assert seen[0].headers["Authorization"] == "Bearer tok1" and target.auth_kind == "oauth"


def test_one_oauth_auth_shared_by_two_clients_fetches_once_and_again_near_expiry() -> None:
    token_requests: list[httpx.Request] = []
    now = [0.0]
    target = Target(credentials=ClientCredentials("https://login.test/token", "app", SECRET), app=_scim([]))
    auth = target.auth(token_http=_token_endpoint(token_requests, expires_in=600), now=lambda: now[0])
    for _ in range(2):
        with target.http(auth) as http:
            http.get("/Users")
    assert len(token_requests) == 1
    now[0] = 541.0  # within a minute of expiry
    with target.http(auth) as http:
        http.get("/Users")
    assert len(token_requests) == 2


def test_a_refusing_token_endpoint_raises_the_auths_error() -> None:
    target = Target(credentials=ClientCredentials("https://login.test/token", "app", SECRET), app=_scim([]))
    auth = target.auth(token_http=_token_endpoint([], status=401))
    assert isinstance(auth, ClientCredentialsAuth)
    with pytest.raises(TokenEndpointError, match="answered 401: invalid_client"):
        auth.ensure_token()


@pytest.mark.parametrize(
    "credentials",
    [
        Bearer(SECRET),
        HeaderValue(SECRET),
        Basic("ann", SECRET),
        ClientCredentials("https://login.test/token", "app", SECRET),
    ],
)
def test_no_secret_appears_in_a_repr(credentials: Credentials) -> None:
    target = Target("https://scim.example.com/v2", credentials)
    auth = target.auth(token_http=_token_endpoint([]))
    assert SECRET not in repr(target) and SECRET not in repr(credentials) and SECRET not in repr(auth)


def test_the_description_is_the_label_else_the_url_and_where_it_runs() -> None:
    assert Target("https://scim.example.com/v2").description == "https://scim.example.com/v2"
    assert Target(app=_scim([])).description == f"{IN_PROCESS_SCIM_URL} (in process)"
    assert Target(app=_scim([]), label="the embedded server").description == "the embedded server"


def test_timeout_and_tls_setting_reach_the_client() -> None:
    with Target("https://scim.example.com/v2", timeout=7.5, verify=False).http(timeout=None) as http:
        assert http.timeout.read == 7.5 and str(http.base_url) == "https://scim.example.com/v2/"
    with Target("https://scim.example.com/v2", timeout=7.5).http(timeout=2.0) as http:
        assert http.timeout.read == 2.0
