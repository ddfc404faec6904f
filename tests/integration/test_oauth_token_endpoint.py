"""``aup serve --oauth-client``: an OAuth 2.0 client credentials token endpoint (RFC 6749 §4.4) whose tokens the SCIM
endpoints of the client's tenant accept; ``aup conformance`` and ``aup entra-sync`` fetch their token from it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from aup.cli import main
from aup_server.oauth import OAuthError, TokenIssuer, parse_client
from emulators.core.directory import save_directory
from emulators.core.generator import generate_directory
from scimcore.process import Process
from tests.integration.conftest import start_server, stop_server, wait_for

pytestmark = pytest.mark.network

CLIENT, SECRET = "aup-client", "s3cret"


@pytest.fixture
def server(server_db: str) -> Iterator[tuple[str, str]]:
    """``aup serve`` with one OAuth client for the default tenant and a second tenant: (origin, token URL)."""
    proc: Process = start_server(
        server_db, "--tenant", "default", "--tenant", "other", "--oauth-client", f"{CLIENT}:{SECRET}"
    )
    try:
        base = wait_for(proc, r"SCIM base URL \(default\): (\S+)").group(1)
        token_url = wait_for(proc, r"OAuth token URL \(client credentials\): (\S+)").group(1)
        wait_for(proc, r"aup serving on")
        yield base.removesuffix("/scim/v2"), token_url
    finally:
        assert stop_server(proc) == 0


def _token(token_url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(token_url, timeout=10.0, **kwargs)


def test_a_client_gets_a_bearer_token_the_scim_endpoints_of_its_tenant_accept(server: tuple[str, str]) -> None:
    origin, token_url = server
    answer = _token(token_url, data={"grant_type": "client_credentials"}, auth=(CLIENT, SECRET))
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["access_token"]
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert httpx.get(f"{origin}/scim/v2/Users", headers=bearer, timeout=10.0).status_code == 200
    assert httpx.get(f"{origin}/scim/other/v2/Users", headers=bearer, timeout=10.0).status_code == 401
    in_form = _token(token_url, data={"grant_type": "client_credentials", "client_id": CLIENT, "client_secret": SECRET})
    assert in_form.status_code == 200  # client_secret_post works too (RFC 6749 §2.3.1)


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"data": {"grant_type": "client_credentials"}, "auth": (CLIENT, "wrong")}, 401, "invalid_client"),
        ({"data": {"grant_type": "client_credentials"}, "auth": ("nobody", SECRET)}, 401, "invalid_client"),
        ({"data": {"grant_type": "client_credentials"}}, 401, "invalid_client"),
        ({"data": {"grant_type": "password"}, "auth": (CLIENT, SECRET)}, 400, "unsupported_grant_type"),
        ({"data": {}, "auth": (CLIENT, SECRET)}, 400, "invalid_request"),
        (
            {"data": {"grant_type": "client_credentials", "client_id": CLIENT}, "auth": (CLIENT, SECRET)},
            400,
            "invalid_request",
        ),
        ({"json": {"grant_type": "client_credentials"}, "auth": (CLIENT, SECRET)}, 400, "invalid_request"),
    ],
)
def test_token_errors_follow_rfc_6749_section_5_2(
    server: tuple[str, str], kwargs: dict[str, Any], status: int, error: str
) -> None:
    _, token_url = server
    answer = _token(token_url, **kwargs)
    assert answer.status_code == status and answer.json()["error"] == error
    assert answer.headers["cache-control"] == "no-store"
    if "auth" in kwargs and status == 401:
        assert answer.headers["www-authenticate"].startswith("Basic")


def test_aup_conformance_and_entra_sync_authenticate_through_it(server: tuple[str, str], tmp_path: Path) -> None:
    origin, token_url = server
    creds = ["--token-url", token_url, "--client-id", CLIENT, "--client-secret", SECRET]
    checks = ["--check", "rfc7644-3.3-*"]
    result = CliRunner().invoke(main, ["conformance", "--target", f"{origin}/scim/v2", *creds, *checks])
    assert result.exit_code == 0, result.output
    people = tmp_path / "people.yaml"
    save_directory(generate_directory(4, 1, 3), people)
    synced = CliRunner().invoke(
        main, ["entra-sync", "--directory", str(people), "--target", f"{origin}/scim/v2", *creds]
    )
    assert synced.exit_code == 0, synced.output
    listed = CliRunner().invoke(
        main, ["conformance", "--target", f"{origin}/scim/v2", *creds[:4], "--client-secret", "x"]
    )
    assert listed.exit_code == 2 and "the OAuth token endpoint failed" in listed.output


def test_a_malformed_client_setting_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "x.db"), "--oauth-client", "no-secret"])
    assert result.exit_code == 2 and "CLIENT_ID:SECRET" in result.output


def test_issued_tokens_expire_and_belong_to_one_tenant() -> None:
    clock = [0.0]
    issuer = TokenIssuer([parse_client("c:s@acme")], lifetime=60, now=lambda: clock[0])
    token = issuer.issue({"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"}, None)
    secret = token["access_token"]
    assert issuer.holder(secret, "acme") == "c" and issuer.holder(secret, "default") is None
    clock[0] = 60.0
    assert issuer.holder(secret, "acme") is None
    with pytest.raises(OAuthError, match="client authentication failed"):
        issuer.issue({"grant_type": "client_credentials", "client_id": "c", "client_secret": "nope"}, None)
