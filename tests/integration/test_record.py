"""``aup record``: a real mitmdump process between an emulator and a real ``aup serve`` process, on loopback.

The mitmdump comes from mitmproxy's own virtualenv: ``AUP_MITMDUMP`` (tox provisions it), else a local
``.mitm-venv``, else ``mitmdump`` on PATH; only a developer run with none of them skips.
"""

from __future__ import annotations

import codecs
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from aup.cli import main
from emulators.core.clock import FakeClock
from emulators.okta import OKTA_OIN, OktaEmulator, OktaSettings
from scimcore.client import BearerAuth, Wiretap, make_http
from scimcore.process import Process
from scimcore.wire import REDACTED, read_cassette
from tests.golden.flows import ANN, BEN, TEAM, okta_people
from tests.integration.conftest import Served, stop_server, wait_for

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Rec-Pw-8812"
API_KEY = "tenant-key-4471"


def mitmdump_path() -> str:
    configured = os.environ.get("AUP_MITMDUMP")
    if configured:
        if not Path(configured).is_file():
            pytest.fail(f"AUP_MITMDUMP={configured} does not exist")
        return configured
    local = ROOT / ".mitm-venv" / "bin" / "mitmdump"
    found = str(local) if local.is_file() else shutil.which("mitmdump")
    if not found:
        pytest.skip("no mitmdump: set AUP_MITMDUMP to mitmproxy 11's (python3 -m tox provisions one)")
    return found


@pytest.fixture(scope="session")
def confdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mitmproxy CA for the session, outside the home directory."""
    return tmp_path_factory.mktemp("mitmconf")


@pytest.fixture
def recorder(served: Served, tmp_path: Path, confdir: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """``aup record`` in front of the served process; yields where to point the IdP, the cassette, its output."""
    cassette = tmp_path / "real.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "aup",
        "record",
        "--upstream",
        served.base_url,
        "--listen",
        "127.0.0.1:0",
        "--out",
        str(cassette),
        "--confdir",
        str(confdir),
        "--mitmdump",
        mitmdump_path(),
        "--redact",
        "X-Tenant-Key",
        "--redact",
        "title",
    ]
    proc = Process.start(cmd)
    try:
        url = wait_for(proc, r"point the IdP at (\S+)").group(1)
        yield url, cassette, proc.output
        os.kill(proc.pid, signal.SIGINT)  # what Ctrl-C sends
        assert proc.wait(timeout=30) == 0
        wait_for(proc, r"stopped; .* holds \d+ exchange")
    finally:
        stop_server(proc)


@pytest.mark.network
def test_record_writes_every_exchange_through_the_proxy_redacted_and_labelled(
    recorder: tuple[str, Path, list[str]], served: Served
) -> None:
    url, cassette, output = recorder
    assert url.endswith("/scim/v2") and "127.0.0.1:" in url
    tap = Wiretap("okta-oin")
    http = make_http(url, BearerAuth(served.token), hooks=tap.hooks)
    try:
        okta = OktaEmulator(okta_people(), http, OKTA_OIN, settings=OktaSettings(sync_password=True), clock=FakeClock())
        okta.assign_user(ANN)
        okta.assign_user(BEN)
        okta.sync_password(ANN, PASSWORD)
        okta.push_group(TEAM)
        okta.update_profile(ANN, {"title": "Staff Engineer"})
        okta.deactivate_user(BEN)
        extra = http.get("/Users", params={"count": 1}, headers={"X-Tenant-Key": API_KEY, "User-Agent": "curl/8"})
        assert extra.status_code == 200
        assert len(cassette.read_text().splitlines()) == len(tap.exchanges)  # written as they happen
    finally:
        http.close()
    sent = tap.exchanges
    assert all(ex.status < 400 for ex in sent), [(ex.method, ex.url, ex.status) for ex in sent]
    assert any(PASSWORD in json.dumps(ex.request_body) for ex in sent if ex.request_body)  # it did go out

    recorded = read_cassette(cassette)
    assert [(ex.method, ex.url, ex.status) for ex in recorded] == [(ex.method, ex.url, ex.status) for ex in sent]
    assert [ex.source for ex in recorded] == ["okta"] * (len(sent) - 1) + ["other"]
    assert recorded[-1].request_header("X-Tenant-Key") == REDACTED
    assert all(ex.request_header("Authorization") == f"Bearer {REDACTED}" for ex in recorded)
    text = cassette.read_text()
    for secret in (served.token, PASSWORD, API_KEY, "Staff Engineer"):
        assert secret not in text, f"{secret!r} leaked into the cassette"
    assert any("point the IdP at" in line for line in output)


@pytest.mark.network
def test_record_from_saved_har_and_flow_files_and_refuses_a_corrupt_one(tmp_path: Path, confdir: Path) -> None:
    mitmdump = mitmdump_path()
    har = tmp_path / "capture.har"
    har.write_text(json.dumps(har_document()))
    base = ["--confdir", str(confdir), "--mitmdump", mitmdump]
    runner = CliRunner()
    from_har = runner.invoke(main, ["record", "--from", str(har), "--out", str(tmp_path / "a.jsonl"), *base])
    assert from_har.exit_code == 0, from_har.output
    (exchange,) = read_cassette(tmp_path / "a.jsonl")
    assert (exchange.method, exchange.url, exchange.status, exchange.source) == ("POST", "/scim/v2/Users", 201, "okta")
    assert exchange.request_body == {"userName": "ann@example.com", "password": REDACTED}
    assert "har-secret" not in (tmp_path / "a.jsonl").read_text()

    flows = tmp_path / "capture.mitm"  # written by mitmproxy itself, in its own environment
    python = Path(mitmdump).with_name("python")
    script = (
        "import sys\nfrom mitmproxy import io\n"
        "with open(sys.argv[2], 'wb') as fh:\n"
        "    w = io.FlowWriter(fh)\n"
        "    [w.add(f) for f in io.read_flows_from_paths([sys.argv[1]])]\n"
    )
    subprocess.run([str(python), "-c", script, str(har), str(flows)], check=True, timeout=60)
    from_flows = runner.invoke(main, ["record", "--from", str(flows), "--out", str(tmp_path / "b.jsonl"), *base])
    assert from_flows.exit_code == 0, from_flows.output
    assert read_cassette(tmp_path / "b.jsonl") == read_cassette(tmp_path / "a.jsonl")

    corrupt = tmp_path / "broken.mitm"
    corrupt.write_bytes(b"not a flow file")
    failed = runner.invoke(main, ["record", "--from", str(corrupt), "--out", str(tmp_path / "c.jsonl"), *base])
    assert failed.exit_code == 2 and "cannot convert" in failed.output and len(failed.output.splitlines()) == 1
    assert not (tmp_path / "c.jsonl").exists()  # whole or nothing
    assert not list(tmp_path.glob("*.partial"))


def har_document() -> dict[str, object]:
    """A one-entry HAR 1.2 file as a browser or proxy saves it."""
    request_body = json.dumps({"userName": "ann@example.com", "password": "har-secret"})
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "test", "version": "1"},
            "entries": [
                {
                    "startedDateTime": "2025-06-01T12:00:00.000Z",
                    "time": 12,
                    "request": {
                        "method": "POST",
                        "url": "https://scim.example.com/scim/v2/Users",
                        "httpVersion": "HTTP/1.1",
                        "headers": [
                            {"name": "Authorization", "value": "Bearer har-secret-token"},
                            {"name": "User-Agent", "value": "Okta SCIM Client 1.0.0"},
                            {"name": "Content-Type", "value": "application/scim+json"},
                        ],
                        "queryString": [],
                        "cookies": [],
                        "headersSize": -1,
                        "bodySize": len(request_body),
                        "postData": {"mimeType": "application/scim+json", "text": request_body},
                    },
                    "response": {
                        "status": 201,
                        "statusText": "Created",
                        "httpVersion": "HTTP/1.1",
                        "headers": [{"name": "Content-Type", "value": "application/scim+json"}],
                        "cookies": [],
                        "content": {"size": 9, "mimeType": "application/scim+json", "text": '{"id":"1"}'},
                        "redirectURL": "",
                        "headersSize": -1,
                        "bodySize": 9,
                    },
                    "cache": {},
                    "timings": {"send": 0, "wait": 10, "receive": 2},
                }
            ],
        }
    }


def test_record_usage_errors_are_one_line_with_exit_2_or_1(tmp_path: Path) -> None:
    runner = CliRunner()
    out = str(tmp_path / "x.jsonl")
    neither = runner.invoke(main, ["record", "--out", out])
    assert neither.exit_code == 2 and "either --upstream" in neither.output
    bad_listen = runner.invoke(main, ["record", "--upstream", "http://127.0.0.1:1", "--listen", "nope", "--out", out])
    assert bad_listen.exit_code == 2 and "HOST:PORT" in bad_listen.output
    bad_url = runner.invoke(main, ["record", "--upstream", "ftp://x", "--out", out, "--mitmdump", sys.executable])
    assert bad_url.exit_code == 2 and "http(s) base URL" in bad_url.output
    missing = runner.invoke(
        main, ["record", "--upstream", "http://127.0.0.1:1", "--out", out, "--mitmdump", str(tmp_path / "nope")]
    )
    assert missing.exit_code == 2 and "mitmproxy 11.0.2" in missing.output
    (tmp_path / "x.jsonl").write_text("")
    exists = runner.invoke(main, ["record", "--upstream", "http://127.0.0.1:1", "--out", out])
    assert exists.exit_code == 2 and "--append" in exists.output


@pytest.mark.network
def test_record_reports_why_mitmdump_could_not_start(served: Served, tmp_path: Path, confdir: Path) -> None:
    taken = served.base_url.split("//", 1)[1].split("/", 1)[0]  # the served process holds this port
    args = ["record", "--upstream", served.base_url, "--listen", taken, "--out", str(tmp_path / "x.jsonl")]
    result = CliRunner().invoke(main, [*args, "--confdir", str(confdir), "--mitmdump", mitmdump_path()])
    assert result.exit_code == 2
    assert result.output.startswith("Error: mitmdump did not start:") and len(result.output.splitlines()) == 1
    assert not (tmp_path / "x.jsonl").exists()


NASTY = "Nasty-Pw-5530"


@pytest.mark.network
def test_record_hides_passwords_in_every_form_the_server_accepts(
    recorder: tuple[str, Path, list[str]], served: Served
) -> None:
    """Issue #17: the forms that used to leak, sent through the proxy to a real server that accepts each of them."""
    url, cassette, _ = recorder
    core = "urn:ietf:params:scim:schemas:core:2.0:User"
    patch_op = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    scim = "application/scim+json"
    http = make_http(url, BearerAuth(served.token))
    try:
        user = {"schemas": [core], "userName": "nasty@example.com", f"{core}:password": NASTY + "-1"}
        created = http.post(
            "/Users", content=codecs.BOM_UTF16_BE + json.dumps(user).encode("utf-16-be"), headers={"Content-Type": scim}
        )
        assert created.status_code == 201, created.text
        uid = created.json()["id"]
        patches = [
            ({"op": "replace", "path": " password ", "value": NASTY + "-2"}, "utf-8-sig"),
            ({"Op": "replace", "Path": "PASSWORD", "Value": NASTY + "-3"}, "utf-32-be"),
            ({"op": "add", "path": f"{core}:password", "value": NASTY + "-4"}, "utf-8"),
            ({"op": "replace", "value": {f"{core}:PassWord": NASTY + "-5"}}, "utf-16-le"),
        ]
        for operation, encoding in patches:
            body = json.dumps({"schemas": [patch_op], "Operations": [operation]}).encode(encoding)
            answer = http.patch(f"/Users/{uid}", content=body, headers={"Content-Type": scim})
            assert answer.status_code in (200, 204), (operation, encoding, answer.text)
        search = http.get("/Users", params={"filter": f'password eq "{NASTY}-6"', "access_token": NASTY + "-7"})
        assert search.status_code == 200, search.text
    finally:
        http.close()
    recorded = read_cassette(cassette)
    assert [ex.status for ex in recorded][:1] == [201] and len(recorded) == 6
    assert [ex.request_encoding for ex in recorded[:5]] == ["UTF-16BE BOM", "UTF-8 BOM", "UTF-32BE", "", "UTF-16LE"]
    text = cassette.read_text()
    assert NASTY not in text, "a password reached the cassette"
    assert served.token not in text
