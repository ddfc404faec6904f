from __future__ import annotations

import json

import pytest

from scimcore.wire import (
    REDACTED,
    CassetteError,
    CassetteWriter,
    Exchange,
    decode_body,
    from_line,
    read_cassette,
    redact,
    to_line,
    write_cassette,
)


def exchange(**changes: object) -> Exchange:
    base: dict[str, object] = {
        "method": "POST",
        "url": "/scim/v2/Users?filter=userName%20eq%20%22a%40b.c%22&startIndex=1",
        "request_headers": (
            ("Authorization", "Bearer s3cret-token"),
            ("Cookie", "session=abc"),
            ("User-Agent", "Okta SCIM Client 1.0.0"),
        ),
        "request_body": {"userName": "a@b.c", "password": "1mz050nq", "name": {"givenName": "Ä"}},
        "status": 201,
        "response_headers": (("Set-Cookie", "sid=xyz; HttpOnly"), ("Content-Type", "application/scim+json")),
        "response_body": {"id": "42", "userName": "a@b.c"},
        "started": "2025-01-02T03:04:05.000006Z",
        "elapsed_ms": 1.5,
        "source": "okta-oin",
    }
    base.update(changes)
    return Exchange(**base)  # type: ignore[arg-type]


def test_redaction_hides_tokens_cookies_and_passwords_but_keeps_the_auth_scheme() -> None:
    safe = redact(exchange())
    assert safe.request_header("Authorization") == f"Bearer {REDACTED}"
    assert safe.request_header("Cookie") == REDACTED
    assert safe.response_header("Set-Cookie") == REDACTED
    assert safe.request_body["password"] == REDACTED
    assert safe.request_body["name"] == {"givenName": "Ä"}
    assert safe.request_header("User-Agent") == "Okta SCIM Client 1.0.0"


def test_a_bare_header_token_is_redacted_whole() -> None:
    safe = redact(exchange(request_headers=(("Authorization", "rawtoken"),)))
    assert safe.request_header("Authorization") == REDACTED


def test_password_values_in_patch_operations_are_redacted() -> None:
    body = {
        "Operations": [
            {"op": "replace", "value": {"password": "p1"}},
            {"op": "replace", "path": "password", "value": "p2"},
            {"op": "replace", "path": "displayName", "value": "kept"},
        ]
    }
    ops = redact(exchange(request_body=body)).request_body["Operations"]
    assert ops[0]["value"]["password"] == REDACTED
    assert ops[1]["value"] == REDACTED
    assert ops[2]["value"] == "kept"


def test_to_line_always_redacts_and_round_trips_everything_else() -> None:
    original = exchange()
    line = to_line(original)
    assert "s3cret-token" not in line and "1mz050nq" not in line and "session=abc" not in line
    assert "\n" not in line
    back = from_line(line)
    assert back == redact(original)
    assert back.url == original.url  # percent-encoding kept verbatim


def test_query_decodes_plus_and_percent_twenty_alike() -> None:
    plus = exchange(url="/Users?filter=userName+eq+%22a%40b.c%22")
    pct = exchange(url="/Users?filter=userName%20eq%20%22a%40b.c%22")
    assert plus.query == pct.query == [("filter", 'userName eq "a@b.c"')]
    assert plus.path == "/Users"


def test_cassette_file_round_trip_and_append(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "run.jsonl"  # type: ignore[operator]
    assert write_cassette(path, [exchange(), exchange(status=200)]) == 2
    with CassetteWriter(path) as writer:
        writer.write(exchange(status=204, response_body=None))
    read = read_cassette(path)
    assert [ex.status for ex in read] == [201, 200, 204]
    assert all(json.loads(line)["v"] == 1 for line in path.read_text().splitlines())


def test_unknown_version_and_malformed_lines_name_the_line(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "bad.jsonl"  # type: ignore[operator]
    good = to_line(exchange())
    path.write_text(good + "\n\n" + good.replace('"v":1', '"v":99') + "\n")
    with pytest.raises(CassetteError, match=r"bad.jsonl:3: cassette version 99"):
        read_cassette(path)
    with pytest.raises(CassetteError, match="not JSON"):
        from_line("{nope")
    with pytest.raises(CassetteError, match="missing or malformed"):
        from_line('{"v":1,"request":{}}')


def test_decode_body_keeps_json_text_or_nothing() -> None:
    assert decode_body(b"") is None
    assert decode_body(b'{"a":1}') == {"a": 1}
    assert decode_body(b"<html>404</html>") == "<html>404</html>"
