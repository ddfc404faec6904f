"""The recorder addon, driven through mitmproxy's own test helpers (no proxy process).

Runs in mitmproxy's environment (tox env ``mitm``); see conftest.py for why it is not collected elsewhere.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from mitmproxy import exceptions, http, io
from mitmproxy.addons.savehar import SaveHar
from mitmproxy.test import taddons, tflow

from recording.flows import DEFAULT_MARKS, flow_to_exchange, parse_marks, source_label
from recording.recorder import ScimRecorder
from scimcore.wire import REDACTED, read_cassette

TOKEN = "tok-7f3a9c"
PASSWORD = "pw-Zq81vX"
RECORDER = Path(__file__).resolve().parents[2] / "recording" / "recorder.py"


def scim_flow(
    method: str = "POST",
    url: str = "http://127.0.0.1:5001/scim/v2/Users?filter=userName+eq+%22ann%40example.com%22",
    body: object = None,
    *,
    agent: str = "Okta SCIM Client 1.0.0",
    status: int | None = 201,
    response_body: object = None,
    extra_headers: dict[str, str] | None = None,
) -> http.HTTPFlow:
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "User-Agent": agent,
        "Content-Type": "application/scim+json; charset=utf-8",
        "Cookie": "sid=c00kie",
        **(extra_headers or {}),
    }
    content = json.dumps(body).encode() if body is not None else b""
    request = http.Request.make(method, url, content=content, headers=headers)
    request.timestamp_start = 1_700_000_000.0
    if status is None:
        return tflow.tflow(req=request, err=True)
    payload = json.dumps(response_body if response_body is not None else {"id": "2819c223"}).encode()
    response = http.Response.make(status, payload, {"Content-Type": "application/scim+json", "Set-Cookie": "s=1"})
    response.timestamp_end = 1_700_000_000.25
    return tflow.tflow(req=request, resp=response)


@pytest.fixture
def context() -> Iterator[taddons.context]:
    """A test context; its event loop is closed afterwards (mitmproxy 11's taddons leaves it open)."""
    tctx = taddons.context()
    try:
        yield tctx
    finally:
        tctx.master.event_loop.close()


@pytest.fixture
def recorder(context: taddons.context, tmp_path: Path) -> Iterator[ScimRecorder]:
    addon = ScimRecorder()
    context.master.addons.add(addon)
    context.configure(addon, aup_cassette=str(tmp_path / "run.jsonl"))
    yield addon
    addon.done()


def test_a_flow_becomes_an_exchange_with_the_raw_url_headers_in_order_and_json_bodies() -> None:
    flow = scim_flow(body={"userName": "ann@example.com"}, response_body={"id": "42", "userName": "ann@example.com"})
    exchange = flow_to_exchange(flow)
    assert exchange.method == "POST"
    assert exchange.url == "/scim/v2/Users?filter=userName+eq+%22ann%40example.com%22"  # encoding kept
    assert [name for name, _ in exchange.request_headers][:3] == ["Authorization", "User-Agent", "Content-Type"]
    assert exchange.request_body == {"userName": "ann@example.com"}
    assert (exchange.status, exchange.response_body) == (201, {"id": "42", "userName": "ann@example.com"})
    assert exchange.started == "2023-11-14T22:13:20.000000Z" and exchange.elapsed_ms == 250.0
    assert exchange.source == "okta" and exchange.error == ""


def test_compressed_bodies_are_stored_decoded() -> None:
    flow = scim_flow(response_body={"id": "1"})
    assert flow.response is not None
    flow.response.content = gzip.compress(b'{"id":"1","userName":"zed"}')
    flow.response.headers["Content-Encoding"] = "gzip"
    assert flow_to_exchange(flow).response_body == {"id": "1", "userName": "zed"}


@pytest.mark.parametrize(
    ("agent", "label"),
    [
        ("Okta SCIM Client 1.0.0", "okta"),
        ("OKTA SCIM Integration", "okta"),
        ("Microsoft.Azure.ActiveDirectory.Provisioning", "entra"),
        ("python-httpx/0.28.1", "other"),
        ("", "other"),
    ],
)
def test_the_source_is_labelled_from_the_user_agent(agent: str, label: str) -> None:
    assert source_label(agent) == label
    assert flow_to_exchange(scim_flow(agent=agent)).source == label


def test_each_response_is_on_disk_before_the_next_and_secrets_never_are(recorder: ScimRecorder, tmp_path: Path) -> None:
    cassette = tmp_path / "run.jsonl"
    recorder.response(scim_flow(body={"userName": "ann@example.com", "password": PASSWORD}))
    assert len(cassette.read_text().splitlines()) == 1  # flushed as it happened, nothing buffered
    patch = {"Operations": [{"op": "replace", "path": "password", "value": PASSWORD}]}
    recorder.response(scim_flow("PATCH", "http://127.0.0.1:5001/scim/v2/Users/42", patch, status=204))
    text = cassette.read_text()
    assert len(text.splitlines()) == 2
    for secret in (TOKEN, PASSWORD, "c00kie", "s=1"):
        assert secret not in text
    first, second = read_cassette(cassette)
    assert first.request_header("Authorization") == f"Bearer {REDACTED}"
    assert first.request_body["password"] == REDACTED and second.request_body["Operations"][0]["value"] == REDACTED


def test_names_given_to_aup_redact_are_hidden_in_headers_bodies_and_queries(
    context: taddons.context, recorder: ScimRecorder, tmp_path: Path
) -> None:
    context.configure(recorder, aup_redact=["X-Api-Key", "employeeNumber", "access_token"])
    body = {
        "userName": "ann",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "E-991"},
    }
    url = "http://127.0.0.1:5001/scim/v2/Users?access_token=qs-55z"
    recorder.response(scim_flow(url=url, body=body, extra_headers={"X-Api-Key": "key-81k"}))
    text = (tmp_path / "run.jsonl").read_text()
    assert "E-991" not in text and "key-81k" not in text and "qs-55z" not in text
    (exchange,) = read_cassette(tmp_path / "run.jsonl")
    assert exchange.request_header("X-Api-Key") == REDACTED
    assert exchange.request_body["userName"] == "ann"


def test_an_exchange_without_response_is_kept_with_status_zero_and_its_error(
    recorder: ScimRecorder, tmp_path: Path
) -> None:
    recorder.error(scim_flow(status=None))
    answered = scim_flow()
    recorder.response(answered)
    answered.error = tflow.terr()
    recorder.error(answered)  # an error after the response: already written once
    failed, ok = read_cassette(tmp_path / "run.jsonl")
    assert failed.status == 0 and failed.error and failed.response_body is None
    assert ok.status == 201 and ok.error == ""


def test_the_source_option_overrides_the_user_agent(
    context: taddons.context, recorder: ScimRecorder, tmp_path: Path
) -> None:
    context.configure(recorder, aup_source="okta-prod-tenant")
    recorder.response(scim_flow(agent="curl/8"))
    assert read_cassette(tmp_path / "run.jsonl")[0].source == "okta-prod-tenant"


def test_every_hook_of_a_full_flow_cycle_records_it_once(
    context: taddons.context, recorder: ScimRecorder, tmp_path: Path
) -> None:
    context.master.event_loop.run_until_complete(context.cycle(recorder, scim_flow()))
    assert len(read_cassette(tmp_path / "run.jsonl")) == 1 and recorder.written == 1


def test_an_unwritable_cassette_is_an_option_error(context: taddons.context, tmp_path: Path) -> None:
    addon = ScimRecorder()
    context.master.addons.add(addon)
    with pytest.raises(exceptions.OptionsError, match="cannot open"):
        context.configure(addon, aup_cassette=str(tmp_path / "missing-dir" / "run.jsonl"))


def test_mitmdump_can_load_the_addon_file_as_a_script(context: taddons.context) -> None:
    module = context.script(str(RECORDER))  # the module, as mitmdump -s loads it
    assert [type(addon).__name__ for addon in module.addons] == ["ScimRecorder"]


@pytest.mark.parametrize("kind", ["mitm", "har"])
def test_saved_flow_and_har_files_read_back_into_the_same_exchanges(
    recorder: ScimRecorder, tmp_path: Path, kind: str
) -> None:
    """What ``aup record --from`` relies on: flows read back from either file kind give the same exchanges."""
    flows = [
        scim_flow(body={"userName": "ann@example.com", "password": PASSWORD}, response_body={"id": "7"}),
        scim_flow("GET", status=200, response_body={"totalResults": 0, "Resources": []}),
    ]
    saved = tmp_path / f"flows.{kind}"
    if kind == "har":
        saved.write_text(json.dumps(SaveHar().make_har(flows)))
    else:
        with saved.open("wb") as fh:
            writer = io.FlowWriter(fh)
            for flow in flows:
                writer.add(flow)
    for flow in io.read_flows_from_paths([str(saved)]):
        assert isinstance(flow, http.HTTPFlow)
        recorder.response(flow)
    recorded = read_cassette(tmp_path / "run.jsonl")
    expected = [flow_to_exchange(flow) for flow in flows]
    assert [(ex.method, ex.url, ex.status, ex.response_body) for ex in recorded] == [
        (ex.method, ex.url, ex.status, ex.response_body) for ex in expected
    ]
    assert recorded[0].request_body == {"userName": "ann@example.com", "password": REDACTED}
    assert TOKEN not in (tmp_path / "run.jsonl").read_text()


@pytest.mark.parametrize(
    ("encoding", "label"), [("utf-8-sig", "UTF-8 BOM"), ("utf-16-le", "UTF-16LE"), ("utf-32-be", "UTF-32BE")]
)
def test_bodies_are_read_as_the_server_reads_them_whatever_their_json_encoding(
    recorder: ScimRecorder, tmp_path: Path, encoding: str, label: str
) -> None:
    """A BOM, UTF-16 or UTF-32 body is JSON to the server (RFC 8259 §8.1 detection), so it is redacted as JSON."""
    body = {"userName": "ann", "urn:ietf:params:scim:schemas:core:2.0:User:Password": PASSWORD}
    flow = scim_flow(body={})
    flow.request.content = json.dumps(body).encode(encoding)
    exchange = flow_to_exchange(flow)
    assert exchange.request_body == body and exchange.request_encoding == label
    recorder.response(flow)
    text = (tmp_path / "run.jsonl").read_text()
    assert PASSWORD not in text and f'"encoding":"{label}"' in text


def test_form_bodies_and_patch_operations_in_any_spelling_are_redacted(recorder: ScimRecorder, tmp_path: Path) -> None:
    token_request = scim_flow("POST", "http://127.0.0.1:5001/oauth2/token", body={})
    token_request.request.content = f"grant_type=client_credentials&client_secret={PASSWORD}".encode()
    token_request.request.headers["Content-Type"] = "application/x-www-form-urlencoded"
    recorder.response(token_request)
    patch = {"Operations": [{"Op": "replace", "Path": " PASSWORD ", "Value": PASSWORD}]}
    recorder.response(scim_flow("PATCH", "http://127.0.0.1:5001/scim/v2/Users/42", patch, status=204))
    text = (tmp_path / "run.jsonl").read_text()
    assert PASSWORD not in text and len(text.splitlines()) == 2
    form, patched = read_cassette(tmp_path / "run.jsonl")
    assert form.request_body == "grant_type=client_credentials&client_secret=%5BREDACTED%5D"
    assert patched.request_body["Operations"][0]["Value"] == REDACTED


def test_labels_come_from_the_marks_aup_record_passes() -> None:
    """``aup record`` passes its IdP registry's User-Agent words; an IdP it registered gets its own label."""
    marks = parse_marks("okta=okta;toy=toy idp")
    assert source_label("Toy IdP/1.0", marks) == "toy"
    assert source_label("Okta SCIM Client 1.0.0", marks) == "okta"
    assert source_label("Microsoft Azure AD SCIM", marks) == "other", "only the IdPs passed are known"
    assert parse_marks("") == DEFAULT_MARKS
