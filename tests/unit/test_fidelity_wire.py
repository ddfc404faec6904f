"""The cassette format extensions recording, replay and fidelity rely on (scimcore.wire)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scimcore.wire import REDACTED, CassetteWriter, Exchange, from_line, redact, resource_path, to_line


def exchange(**changes: object) -> Exchange:
    base: dict[str, object] = {
        "method": "PATCH",
        "url": "/scim/v2/Users/7?access_token=qs-secret&filter=userName+eq+%22a%22",
        "request_headers": (("X-Api-Key", "hdr-secret"), ("Accept", "application/scim+json")),
        "request_body": {
            "Operations": [
                {
                    "op": "replace",
                    "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                    "value": "E-1",
                },
                {"op": "replace", "value": {"name": {"givenName": "Ann"}, "employeeNumber": "E-2"}},
                {"op": "replace", "path": "name.givenName", "value": "kept"},
            ]
        },
        "status": 200,
        "response_headers": (),
        "response_body": {"id": "7", "urn:x:Ext": {"EmployeeNumber": "E-3"}},
        "started": "2025-01-01T00:00:00.000000Z",
        "elapsed_ms": 1.0,
    }
    base.update(changes)
    return Exchange(**base)  # type: ignore[arg-type]


def test_extra_names_hide_headers_fields_at_any_depth_patch_paths_and_query_parameters() -> None:
    line = to_line(exchange(), redact_names=["x-api-key", "employeeNumber", "ACCESS_TOKEN"])
    for secret in ("hdr-secret", "E-1", "E-2", "E-3", "qs-secret"):
        assert secret not in line
    back = from_line(line)
    assert back.request_header("X-Api-Key") == REDACTED
    assert back.request_body["Operations"][2]["value"] == "kept"
    assert back.url == "/scim/v2/Users/7?access_token=%5BREDACTED%5D&filter=userName+eq+%22a%22"  # rest verbatim
    plain = exchange(url="/scim/v2/Users/7?count=1&filter=userName+eq+%22a%22")
    assert redact(plain).url == plain.url  # no secret parameter, nothing extra named: the URL is untouched
    assert "qs-secret" not in redact(exchange()).url  # access_token is always a secret


def test_a_writer_applies_its_names_to_every_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with CassetteWriter(path, redact_names=("X-Api-Key",)) as writer:
        writer.write(exchange())
        writer.write(exchange())
    assert path.read_text().count(REDACTED) >= 2 and "hdr-secret" not in path.read_text()


def test_an_exchange_without_response_keeps_its_error_and_old_lines_read_unchanged() -> None:
    lost = exchange(status=0, response_body=None, error="upstream unreachable")
    line = to_line(lost)
    assert json.loads(line)["error"] == "upstream unreachable"
    assert from_line(line).error == "upstream unreachable"
    answered = to_line(exchange())
    assert "error" not in json.loads(answered) and from_line(answered).error == ""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/scim/v2/Users/7", "/Users/7"),
        ("/scim/acme/v2/Groups", "/Groups"),
        ("/api/Users/.search", "/Users/.search"),
        ("/scim/v2/.search", "/.search"),
        ("/scim/v2/ServiceProviderConfig", "/ServiceProviderConfig"),
        ("/health", "/health"),
    ],
)
def test_resource_path_is_the_path_below_any_scim_base(path: str, expected: str) -> None:
    assert resource_path(path) == expected
