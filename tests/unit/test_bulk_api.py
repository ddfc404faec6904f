"""/Bulk over the API (RFC 7644 §3.7): references, ordering, failOnErrors, per-operation errors, limits, tenancy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.store import Store
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL


def _bulk(client: httpx.Client, *ops: dict[str, Any], **extra: Any) -> httpx.Response:
    return client.post("/Bulk", json={"schemas": [urns.BULK_REQUEST], "Operations": list(ops), **extra})


def _user(bulk_id: str, name: str, **attrs: Any) -> dict[str, Any]:
    data = {"schemas": [urns.USER], "userName": name, **attrs}
    return {"method": "POST", "path": "/Users", "bulkId": bulk_id, "data": data}


def _group(bulk_id: str, name: str, members: list[str]) -> dict[str, Any]:
    data = {"schemas": [urns.GROUP], "displayName": name, "members": [{"value": m} for m in members]}
    return {"method": "POST", "path": "/Groups", "bulkId": bulk_id, "data": data}


def _ops(answer: httpx.Response) -> list[dict[str, Any]]:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["schemas"] == [urns.BULK_RESPONSE]
    ops: list[dict[str, Any]] = body["Operations"]
    return ops


def _path(location: str) -> str:
    return location.split("/scim/v2", 1)[1]


def test_a_group_can_name_users_created_before_and_after_it(client: httpx.Client) -> None:
    ops = _ops(
        _bulk(
            client,
            _user("ann", "ann"),
            _group("eng", "eng", ["bulkId:ann", "bulkId:bob"]),  # bob comes later: a forward reference
            _user("bob", "bob"),
        )
    )
    assert [(op["method"], op["bulkId"], op["status"]) for op in ops] == [
        ("POST", "ann", "201"),
        ("POST", "eng", "201"),
        ("POST", "bob", "201"),
    ]  # request order, whatever order they ran in
    assert all(op["location"].startswith("http") and op["version"].startswith('W/"') for op in ops)
    group = client.get(_path(ops[1]["location"])).json()
    assert sorted(m["display"] for m in group["members"]) == ["ann", "bob"]
    assert {m["value"] for m in group["members"]} == {
        _path(ops[0]["location"]).split("/")[-1],
        _path(ops[2]["location"]).split("/")[-1],
    }


def test_each_operation_answers_what_the_single_request_would(client: httpx.Client) -> None:
    existing = client.post("/Users", json={"schemas": [urns.USER], "userName": "taken"}).json()
    patch = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": False}]}
    ops = _ops(
        _bulk(
            client,
            _user("dup", "TAKEN"),
            {"method": "PATCH", "path": f"/Users/{existing['id']}", "version": 'W/"9"', "data": patch},
            {
                "method": "PATCH",
                "path": f"/Users/{existing['id']}",
                "version": existing["meta"]["version"],
                "data": patch,
            },
            {"method": "DELETE", "path": "/Users/no-such-user"},
            {"method": "PUT", "path": f"/Users/{existing['id']}", "data": {"schemas": [urns.USER]}},
            {"method": "POST", "path": "/Users", "data": {"schemas": [urns.USER], "userName": "no-bulk-id"}},
            {"method": "POST", "path": "/Widgets", "bulkId": "w", "data": {}},
        )
    )
    assert [op["status"] for op in ops] == ["409", "412", "200", "404", "400", "400", "404"]
    assert ops[0]["response"]["scimType"] == "uniqueness"
    assert "location" not in ops[0]  # a failed POST has none (RFC 7644 §3.7)
    assert ops[1]["location"].endswith(f"/Users/{existing['id']}")
    for op in ops:
        if op["status"] != "200":
            assert op["response"]["schemas"] == [urns.ERROR] and op["response"]["status"] == op["status"]
    assert client.get(f"/Users/{existing['id']}").json()["active"] is False


def test_without_fail_on_errors_every_operation_runs(client: httpx.Client) -> None:
    ops = _ops(_bulk(client, _user("a", "x"), _user("b", "X"), _user("c", "y"), _user("d", "Y"), _user("e", "z")))
    assert [op["status"] for op in ops] == ["201", "409", "201", "409", "201"]


def test_fail_on_errors_stops_after_that_many_errors(client: httpx.Client) -> None:
    ops = _ops(
        _bulk(
            client, _user("a", "x"), _user("b", "X"), _user("c", "y"), _user("d", "Y"), _user("e", "z"), failOnErrors=2
        )
    )
    assert [op["status"] for op in ops] == ["201", "409", "201", "409"]  # e never ran
    assert client.get("/Users", params={"filter": 'userName eq "z"'}).json()["totalResults"] == 0


def test_circular_and_unresolvable_references_are_409_and_change_nothing(client: httpx.Client) -> None:
    manager = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    ops = _ops(
        _bulk(
            client,
            _user("c1", "c1", **{manager: {"manager": {"value": "bulkId:c2"}}}),
            _user("c2", "c2", **{manager: {"manager": {"value": "bulkId:c1"}}}),
            _user("self", "self", **{manager: {"manager": {"value": "bulkId:self"}}}),
            _group("g", "g", ["bulkId:nobody"]),
            _user("dup", "c1-twin"),
            _user("bad", "C1-TWIN"),
            _group("g2", "g2", ["bulkId:bad"]),
            {"method": "DELETE", "path": "/Users/bulkId:ghost"},
        )
    )
    assert [op["status"] for op in ops] == ["409", "409", "409", "409", "201", "409", "409", "409"]
    assert "circular" in ops[1]["response"]["detail"] and "circular" in ops[0]["response"]["detail"]
    assert "circular" in ops[2]["response"]["detail"]
    assert "names no POST" in ops[3]["response"]["detail"]
    assert "failed" in ops[6]["response"]["detail"]
    listed = client.get("/Users").json()
    assert [u["userName"] for u in listed["Resources"]] == ["c1-twin"]
    assert client.get("/Groups").json()["totalResults"] == 0


@pytest.mark.parametrize(
    ("body", "status", "scim_type"),
    [
        ({"Operations": []}, 400, "invalidSyntax"),  # no BulkRequest schema
        ({"schemas": [urns.BULK_REQUEST]}, 400, "invalidSyntax"),
        ({"schemas": [urns.BULK_REQUEST], "Operations": {}}, 400, "invalidSyntax"),
        ({"schemas": [urns.BULK_REQUEST], "Operations": [], "failOnErrors": 0}, 400, "invalidValue"),
        ({"schemas": [urns.BULK_REQUEST], "Operations": [_user("a", "a"), _user("a", "b")]}, 400, "invalidValue"),
    ],
)
def test_a_request_that_is_not_a_bulk_request_is_refused_whole(
    client: httpx.Client, body: dict[str, Any], status: int, scim_type: str
) -> None:
    answer = client.post("/Bulk", json=body)
    assert answer.status_code == status
    assert answer.json()["scimType"] == scim_type
    assert client.get("/Users").json()["totalResults"] == 0


@pytest.fixture
def small(store: Store, token: str) -> Iterator[httpx.Client]:
    app = create_app({"bulk_max_operations": 3, "max_body_bytes": 2000}, store=store)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": urns.MEDIA_TYPE}
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=IN_PROCESS_SCIM_URL, headers=headers) as c:
        yield c


def test_limits_are_advertised_and_enforced_with_413_naming_the_limit(small: httpx.Client) -> None:
    bulk = small.get("/ServiceProviderConfig").json()["bulk"]
    assert bulk == {"supported": True, "maxOperations": 3, "maxPayloadSize": 2000}
    too_many = _bulk(small, *(_user(f"u{n}", f"u{n}") for n in range(4)))
    assert too_many.status_code == 413
    assert "maxOperations is 3" in too_many.json()["detail"]
    too_big = _bulk(small, _user("u", "u", displayName="x" * 3000))
    assert too_big.status_code == 413
    assert "maxPayloadSize (2000 bytes)" in too_big.json()["detail"]
    assert small.get("/Users").json()["totalResults"] == 0


def test_operations_stay_in_the_callers_tenant(app: Flask, store: Store, client: httpx.Client) -> None:
    mine = client.post("/Users", json={"schemas": [urns.USER], "userName": "mine"}).json()["id"]
    other = issue_token(store, "other", "acme")
    with httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url="http://scim.invalid/scim/acme/v2",
        headers={"Authorization": f"Bearer {other}"},
    ) as acme:
        ops = _ops(_bulk(acme, {"method": "DELETE", "path": f"/Users/{mine}"}, _group("g", "g", [mine])))
    assert [op["status"] for op in ops] == ["404", "400"]  # another tenant's user is not there
    assert client.get(f"/Users/{mine}").status_code == 200


def test_each_operation_spends_the_callers_rate_budget(store: Store, token: str) -> None:
    app = create_app({"rate_limit_per_minute": 4, "rate_limit_burst": 4}, store=store)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=IN_PROCESS_SCIM_URL, headers=headers) as c:
        ops = _ops(_bulk(c, *(_user(f"u{n}", f"u{n}") for n in range(5))))
    # the Bulk request itself took one of the four; three operations ran, the rest were refused
    assert [op["status"] for op in ops] == ["201", "201", "201", "429", "429"]
    assert ops[3]["response"]["status"] == "429"


def test_passwords_sent_in_bulk_are_never_echoed(client: httpx.Client) -> None:
    secret = "Sup3r-s3cret-value"
    answer = _bulk(client, _user("a", "pw", password=secret), _user("b", "PW", password=secret))
    assert secret not in answer.text
    assert [op["status"] for op in _ops(answer)] == ["201", "409"]


def test_a_long_chain_of_forward_references_is_answered_not_a_crash(client: httpx.Client) -> None:
    """Each operation names the next one's bulkId: followed up to the depth limit, refused (409) beyond it."""
    count = 300
    operations = [
        _user(f"c{n}", f"chain{n}", **{urns.ENTERPRISE_USER: {"manager": {"value": f"bulkId:c{n + 1}"}}})
        for n in range(count - 1)
    ] + [_user(f"c{count - 1}", f"chain{count - 1}")]
    ops = _ops(_bulk(client, *operations))
    statuses = [op["status"] for op in ops]
    assert len(ops) == count and set(statuses) <= {"201", "409"} and "201" in statuses
    assert any("chain of more than" in op["response"]["detail"] for op in ops if op["status"] == "409")
