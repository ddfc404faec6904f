"""``aup conformance`` reports and options at the edge: ``-`` is standard output, report folders are made (or the run
refused) before any check, ``--jobs``, and OAuth 2.0 client credentials against a token endpoint on loopback."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner

from aup.cli import main
from tests.conformance.served import served

FEW = ("--check", "rfc7644-3.4.2.2-filter-e*")  # filter-eq, -eq-case-insensitive, -ew, -external-id


def _cli(*args: str) -> Any:
    return CliRunner().invoke(main, ["conformance", *args])


def test_json_to_standard_output_is_the_pure_report(tmp_path: Path) -> None:
    result = _cli(*FEW, "--json", "-", "--junit", str(tmp_path / "out" / "deep" / "r.xml"))
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)  # nothing but the report on stdout
    assert report["verdict"] == "CONFORMANT" and report["summary"]["total"] == 4
    assert "CONFORMANT" in result.stderr and "wrote" in result.stderr  # the console went to stderr
    assert ET.parse(tmp_path / "out" / "deep" / "r.xml").getroot().get("tests") == "4"  # the folder was made


def test_two_reports_to_standard_output_are_refused() -> None:
    result = _cli(*FEW, "--json", "-", "--html", "-")
    assert result.exit_code == 2 and "only one of --json, --junit and --html can be -" in result.output


def test_an_unwritable_report_path_is_refused_before_the_run(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    # an unreachable target: had the run started, the error would be about the connection
    result = _cli("--target", "http://127.0.0.1:9/scim/v2", "--token", "t", "--html", str(blocker / "r.html"))
    assert result.exit_code == 2 and "cannot create the folder of" in result.output
    assert "cannot connect" not in result.output
    folder = _cli("--target", "http://127.0.0.1:9/scim/v2", "--token", "t", "--json", str(tmp_path))
    assert folder.exit_code == 2 and "it is a folder" in folder.output


@pytest.mark.parametrize("jobs", ["1", "3"])
def test_jobs_choose_how_many_checks_run_at_once(jobs: str) -> None:
    result = _cli(*FEW, "--jobs", jobs)
    assert result.exit_code == 0 and "4 checks: 4 passed" in result.output


def test_jobs_below_one_is_a_usage_error() -> None:
    result = _cli(*FEW, "--jobs", "0")
    assert result.exit_code == 2 and "--jobs" in result.output


# -- OAuth 2.0 client credentials (RFC 6749 §4.4) ---------------------------------------------------------------


class TokenEndpoint:
    """The reference server behind a client-credentials token endpoint at /oauth/token: a good client gets the
    server's bearer token; ``broken`` answers 404 instead."""

    def __init__(self, app: Any, token: str, *, broken: bool = False) -> None:
        self.app, self.token, self.broken = app, token, broken
        self.issued = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["PATH_INFO"] != "/oauth/token":
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        if self.broken:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such endpoint"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = parse_qs(environ["wsgi.input"].read(length).decode())
        basic = base64.b64encode(b"aup-client:s3cret").decode()
        if form.get("grant_type") != ["client_credentials"] or environ.get("HTTP_AUTHORIZATION") != f"Basic {basic}":
            start_response("401 Unauthorized", [("Content-Type", "application/json")])
            return [b'{"error": "invalid_client"}']
        self.issued += 1
        body = json.dumps({"access_token": self.token, "token_type": "Bearer", "expires_in": 3600}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]


@pytest.fixture
def oauth_server(reference: tuple[Any, str]) -> Iterator[tuple[str, TokenEndpoint]]:
    app, token = reference
    endpoint = TokenEndpoint(app, token)
    with served(endpoint) as base:
        yield base, endpoint


def test_client_credentials_get_the_token_the_checks_use(oauth_server: tuple[str, TokenEndpoint]) -> None:
    base, endpoint = oauth_server
    creds = ("--token-url", f"{base}/oauth/token", "--client-id", "aup-client", "--client-secret", "s3cret")
    result = _cli("--target", f"{base}/scim/v2", *creds, *FEW)
    assert result.exit_code == 0, result.output
    assert "CONFORMANT" in result.output and endpoint.issued >= 1


@pytest.mark.parametrize(
    ("secret", "broken", "message"),
    [
        ("wrong", False, "the OAuth token endpoint failed"),
        ("s3cret", True, "the OAuth token endpoint failed"),
    ],
)
def test_a_failing_token_endpoint_is_exit_two_before_any_check(
    reference: tuple[Any, str], secret: str, broken: bool, message: str
) -> None:
    app, token = reference
    with served(TokenEndpoint(app, token, broken=broken)) as base:
        creds = ("--token-url", f"{base}/oauth/token", "--client-id", "aup-client", "--client-secret", secret)
        result = _cli("--target", f"{base}/scim/v2", *creds, *FEW)
    assert result.exit_code == 2 and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token-url", "http://127.0.0.1:9/t"], "needs --client-id and --client-secret"),
        (["--client-id", "x"], "need --token-url"),
        (["--target", "http://127.0.0.1:9/scim/v2", "--token", "t", "--token-url", "http://127.0.0.1:9/t",
          "--client-id", "a", "--client-secret", "b"], "not both"),
        (["--token-url", "http://127.0.0.1:9/t", "--client-id", "a", "--client-secret", "b"], "need --target"),
    ],
)  # fmt: skip
def test_oauth_option_mistakes_are_one_line(args: list[str], message: str) -> None:
    result = _cli(*args)
    assert result.exit_code == 2 and message in result.output, result.output
