"""The fidelity diff: what it normalises away, and every kind of difference it must still show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from aup.cli import main
from scimcore.fidelity import MISSING, IdTable, diff_cassettes, normalise
from scimcore.wire import Exchange, write_cassette

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
OKTA_HEADERS = (
    ("Host", "scim.test"),
    ("Accept", "application/scim+json"),
    ("User-Agent", "Okta SCIM Client 1.0.0"),
    ("Accept-Encoding", "gzip,deflate"),
    ("Authorization", "Bearer [REDACTED]"),
)


def ex(method: str, url: str, body: Any = None, *, response: Any = None, status: int = 200, **kw: Any) -> Exchange:
    headers = kw.pop("headers", OKTA_HEADERS)
    return Exchange(method, url, headers, body, status, (), response, "2025-01-01T00:00:00Z", 1.0, "t", **kw)


def okta_session(server_id: str, password: str, *, space: str = "%20", active: Any = False) -> list[Exchange]:
    """Lookup, create (random password), deactivate: the ids are whatever the server assigned."""
    created = {"id": server_id, "userName": "ann@example.com", "meta": {"created": "2025-06-01T12:00:00.123Z"}}
    return [
        ex(
            "GET",
            f"/scim/v2/Users?filter=userName{space}eq{space}%22ann%40example.com%22&count=100",
            response={"totalResults": 0, "Resources": []},
        ),
        ex(
            "POST",
            "/scim/v2/Users",
            {"schemas": [USER], "userName": "ann@example.com", "password": password, "active": True},
            response=created,
            status=201,
        ),
        ex(
            "PATCH",
            f"/scim/v2/Users/{server_id}",
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "value": {"active": active}}],
            },
        ),
    ]


def test_ids_passwords_timestamps_encodings_key_order_and_transport_headers_are_normalised() -> None:
    a = okta_session("2819c223-7f76-453a-919d-413861904646", "k2j4h5g6")
    b = okta_session("17", "zz99yy88", space="+")
    b[1] = ex(
        "POST",
        "/scim/acme/v2/Users",  # another base path, another key order, another Host
        {"active": True, "password": "zz99yy88", "userName": "ann@example.com", "schemas": [USER]},
        response={"id": "17"},
        status=201,
        headers=(("Host", "other"), *OKTA_HEADERS[1:3], OKTA_HEADERS[4]),
    )
    result = diff_cassettes(a, b)
    assert result.same, result.render()
    assert [r.path for r in normalise(a)] == ["/Users", "/Users", "/Users/<id1>"]


def test_a_changed_value_type_is_a_difference_with_its_field_named() -> None:
    result = diff_cassettes(okta_session("1", "p"), okta_session("1", "p", active="False"))
    assert not result.same
    (changed,) = [row for row in result.rows if row.kind == "changed"]
    assert [(d.where, d.a, d.b) for d in changed.fields] == [("body.Operations[0].value.active", False, "False")]


def test_a_request_aimed_at_another_resource_shows_its_numbered_id() -> None:
    listing = ex("GET", "/scim/v2/Users?count=2", response={"Resources": [{"id": "u9"}]})
    a = [*okta_session("u1", "p"), listing, ex("DELETE", "/scim/v2/Users/u1", status=204)]
    b = [*okta_session("u1", "p"), listing, ex("DELETE", "/scim/v2/Users/u9", status=204)]
    (changed,) = [row for row in diff_cassettes(a, b).rows if row.kind == "changed"]
    assert [(d.where, d.a, d.b) for d in changed.fields] == [("path", "/Users/<id1>", "/Users/<id2>")]


def test_header_values_and_missing_headers_are_differences() -> None:
    b = okta_session("1", "p")
    b[0] = ex(
        b[0].method,
        b[0].url,
        response=b[0].response_body,
        headers=(("Accept", "application/json"), ("Authorization", "Basic [REDACTED]")),
    )
    (changed,) = [row for row in diff_cassettes(okta_session("1", "p"), b).rows if row.kind == "changed"]
    assert {d.where: (d.a, d.b) for d in changed.fields} == {
        "header accept": ("application/scim+json", "application/json"),
        "header authorization": ("Bearer", "Basic"),
        "header user-agent": ("Okta SCIM Client 1.0.0", MISSING),
    }


def test_extra_and_missing_requests_are_aligned_around_the_common_ones() -> None:
    a = okta_session("1", "p")
    b = [a[0], ex("GET", "/scim/v2/Groups?count=1", response={"Resources": []}), *okta_session("1", "p")[1:]]
    b = b[:3]  # no deactivation
    result = diff_cassettes(a, b)
    assert [row.kind for row in result.rows] == ["same", "only-b", "same", "only-a"]
    text = result.render("real", "emulated")
    assert "+          #2  GET /Groups?count=1" in text and "-    #3" in text
    assert text.endswith("2 same, 0 changed, 1 only in real, 1 only in emulated")


def test_ignored_fields_headers_and_query_parameters_are_not_compared() -> None:
    a = [ex("POST", "/Users?tenant=x", {"userName": "a", "externalId": "00u1"}, headers=(("X-Req", "1"),))]
    b = [ex("POST", "/Users?tenant=y", {"userName": "a", "externalId": "d3b07384"}, headers=(("X-Req", "2"),))]
    assert not diff_cassettes(a, b).same
    assert diff_cassettes(a, b, ignore=["externalId", "x-req", "tenant"]).same


def test_random_guids_in_filters_are_normalised_but_fixed_values_are_not() -> None:
    probe = "/Users?filter=userName+eq+%22{}%22"
    a = [ex("GET", probe.format("6f1c3a52-93d4-4d7b-8a47-0e9d2b1c5a11"))]
    b = [ex("GET", probe.format("0b8e6a1f-2c3d-4e5f-8a9b-1c2d3e4f5a6b"))]
    assert diff_cassettes(a, b).same
    assert not diff_cassettes(a, [ex("GET", probe.format("ann@example.com"))]).same


def test_aup_diff_prints_the_aligned_diff_and_exits_1_only_on_differences(tmp_path: Path) -> None:
    same_a, same_b, other = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    write_cassette(same_a, okta_session("1", "p1"))
    write_cassette(same_b, okta_session("2", "p2", space="+"))
    write_cassette(other, okta_session("3", "p3", active="False"))
    runner = CliRunner()
    ok = runner.invoke(main, ["diff", str(same_a), str(same_b)])
    assert ok.exit_code == 0 and "3 same, 0 changed" in ok.output
    bad = runner.invoke(main, ["diff", str(same_a), str(other), "--changes-only"])
    assert bad.exit_code == 1
    assert "~    #3    #3  PATCH /Users/{id}" in bad.output and 'active: false | "False"' in bad.output
    assert "GET /Users" not in bad.output  # same requests left out


def test_aup_diff_rejects_a_file_that_is_not_a_cassette(tmp_path: Path) -> None:
    good, bad = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_cassette(good, okta_session("1", "p"))
    bad.write_text(json.dumps({"v": 7}) + "\n")
    result = CliRunner().invoke(main, ["diff", str(good), str(bad)])
    assert result.exit_code == 2 and "cannot read cassette" in result.output and "version 7" in result.output


def test_ids_are_replaced_only_as_whole_tokens() -> None:
    table = IdTable()
    table.add("7", "<id1>")
    table.add("ann@x", "<id2>")  # an id with characters outside a token still maps
    text = 'members[value eq "7"] /Users/7 17 7.1 urn:v2.0:7 ann@x'
    assert table.text(text) == 'members[value eq "<id1>"] /Users/<id1> 17 7.1 urn:v2.0:7 <id2>'
