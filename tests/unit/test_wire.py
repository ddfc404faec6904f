from __future__ import annotations

import json

import pytest

from scimcore.wire import (
    REDACTED,
    CassetteError,
    CassetteWriter,
    Exchange,
    decode_body,
    decode_body_encoded,
    from_line,
    read_cassette,
    redact,
    redact_body,
    redact_headers,
    redact_url,
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


# -- issue #17: what the server reads is what gets redacted --------------------------------------------------

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": " password ", "value": "pw-leak"},  # the server strips the path
        {"Op": "replace", "Path": "password", "Value": "pw-leak"},  # op members in any case
        {"op": "replace", "PATH": "PASSWORD", "VALUE": "pw-leak"},
        {"op": "add", "path": f"{CORE_USER}:password", "value": "pw-leak"},  # URN-qualified path
        {"op": "replace", "value": {f"{CORE_USER}:password": "pw-leak"}},  # URN-qualified member, no path
        {"op": "replace", "Value": {"PassWord": "pw-leak"}},
    ],
)
def test_every_patch_form_the_server_accepts_for_a_password_is_redacted(operation: dict[str, object]) -> None:
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [operation]}
    assert "pw-leak" not in to_line(exchange(method="PATCH", request_body=body))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be"])
def test_a_body_with_a_bom_or_in_utf16_or_utf32_is_read_as_json_and_its_encoding_kept(encoding: str) -> None:
    raw = json.dumps({"userName": "ann", f"{CORE_USER}:password": "pw-leak"}).encode(encoding)
    body, name = decode_body_encoded(raw)
    assert body == json.loads(raw)  # what the server reads (json.loads on the bytes)
    line = to_line(exchange(request_body=body, request_encoding=name))
    assert "pw-leak" not in line and "p\x00w" not in line
    back = from_line(line)
    assert back.request_encoding == name and name.startswith("UTF-") and back.request_body["userName"] == "ann"
    assert ("BOM" in name) == (encoding in ("utf-8-sig", "utf-16", "utf-32"))


def test_plain_utf8_has_no_encoding_field_so_old_lines_are_unchanged() -> None:
    assert decode_body_encoded(b'{"a":1}') == ({"a": 1}, "")
    record = json.loads(to_line(exchange()))
    assert "encoding" not in record["request"] and "encoding" not in record["response"]


def test_form_bodies_queries_and_filters_hide_passwords_tokens_and_client_secrets() -> None:
    form = "grant_type=client_credentials&client_id=aup&Client_Secret=cs-leak&scope=scim"
    assert redact_body(form) == "grant_type=client_credentials&client_id=aup&Client_Secret=%5BREDACTED%5D&scope=scim"
    url = "/scim/v2/Users?access_token=at-leak&filter=password+eq+%22pw-leak%22&count=2"
    hidden = redact_url(url)
    assert "at-leak" not in hidden and "pw-leak" not in hidden and hidden.endswith("&count=2")
    assert (
        redact_url("/scim/v2/Users?count=2&filter=userName+eq+%22a%22")
        == "/scim/v2/Users?count=2&filter=userName+eq+%22a%22"
    )
    tokens = {"access_token": "at-leak", "refresh_token": "rt-leak", "token_type": "Bearer", "expires_in": 3600}
    assert redact_body(tokens) == {**tokens, "access_token": REDACTED, "refresh_token": REDACTED}


def test_malformed_json_that_mentions_a_secret_is_hidden_whole_and_other_text_kept() -> None:
    assert redact_body('{"password": "pw-leak",}') == REDACTED
    assert redact_body("<html>502 Bad Gateway</html>") == "<html>502 Bad Gateway</html>"


def test_only_registered_auth_schemes_keep_their_word() -> None:
    headers = (("Authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l"), ("Proxy-Authorization", "k3y-leak other"))
    assert redact_headers(headers) == (("Authorization", f"Basic {REDACTED}"), ("Proxy-Authorization", REDACTED))


def test_redact_names_follow_the_same_rules() -> None:
    ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    body = {
        "Operations": [
            {"op": "replace", "Path": f" {ext}:EMPLOYEENUMBER ", "Value": "E-1"},
            {"op": "replace", "value": {ext: {"employeenumber": "E-2"}, f"{ext}:employeeNumber": "E-3"}},
        ]
    }
    line = to_line(exchange(request_body=body, url="/Users?EmployeeNumber=E-4"), redact_names=["employeeNumber"])
    assert not any(f"E-{n}" in line for n in range(1, 5))


def test_a_lone_surrogate_escape_is_written_escaped_not_lost() -> None:
    line = to_line(exchange(request_body={"displayName": "\ud800"}))
    line.encode("utf-8")  # writable as UTF-8
    assert from_line(line).request_body == {"displayName": "\ud800"}
