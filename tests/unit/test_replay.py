"""Replay: recorded ids mapped to the target's everywhere they appear, responses compared by status and shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from flask import Flask

from aup.cli import main
from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL, BearerAuth, ScimClient, Wiretap, make_http
from scimcore.replay import Replayer, ReplayError
from scimcore.wire import Exchange, read_cassette, write_cassette

BASE = IN_PROCESS_SCIM_URL
GOLDEN = Path(__file__).resolve().parents[1] / "golden"


@contextmanager
def server() -> Iterator[tuple[Flask, str]]:
    store = open_store(ServerConfig())
    try:
        yield create_app(store=store), issue_token(store, "t")
    finally:
        store.close()


@contextmanager
def client_of(app: Flask, token: str, tap: Wiretap | None = None) -> Iterator[httpx.Client]:
    http = make_http(app, BearerAuth(token), base_url=BASE, hooks=tap.hooks if tap else None)
    try:
        yield http
    finally:
        http.close()


def recorded_session(app: Flask, token: str) -> list[Exchange]:
    """Users, a group with members, id filters, a member removed by filter, a user deleted."""
    tap = Wiretap("test")
    with client_of(app, token, tap) as http:
        scim = ScimClient(http, space="+")
        ann = scim.post("/Users", {"schemas": [urns.USER], "userName": "ann@example.com", "password": "Pw-91x"}).json()
        ben = scim.post("/Users", {"schemas": [urns.USER], "userName": "ben@example.com"}).json()
        group = scim.post(
            "/Groups", {"schemas": [urns.GROUP], "displayName": "Team", "members": [{"value": ann["id"]}]}
        ).json()
        add = {"op": "add", "path": "members", "value": [{"value": ben["id"]}]}
        scim.patch(f"/Groups/{group['id']}", {"schemas": [urns.PATCH_OP], "Operations": [add]})
        scim.get("/Users", [("filter", f'id eq "{ann["id"]}"')])
        remove = {"op": "remove", "path": f'members[value eq "{ben["id"]}"]'}
        scim.patch(f"/Groups/{group['id']}", {"schemas": [urns.PATCH_OP], "Operations": [remove]})
        scim.delete(f"/Users/{ben['id']}")
        scim.get(f"/Groups/{group['id']}")
    return tap.exchanges


def state(app: Flask, token: str) -> dict[str, Any]:
    """Users and groups without server-assigned values; members by userName."""
    with client_of(app, token) as http:
        users = http.get("/Users").json()["Resources"]
        groups = http.get("/Groups").json()["Resources"]
    names = {user["id"]: user["userName"] for user in users}
    return {
        "users": sorted((u["userName"], u.get("active")) for u in users),
        "groups": sorted((g["displayName"], sorted(names[m["value"]] for m in g.get("members", []))) for g in groups),
    }


def test_a_faithful_replay_maps_ids_in_paths_filters_and_bodies_and_reports_nothing() -> None:
    with server() as (recorded_app, recorded_token), server() as (target_app, target_token):
        # the target already holds a user, so its ids and positions differ from the recorded server's
        with client_of(target_app, target_token) as http:
            http.post("/Users", json={"schemas": [urns.USER], "userName": "zed@example.com"})
        exchanges = recorded_session(recorded_app, recorded_token)
        with client_of(target_app, target_token) as http:
            report = Replayer(http).replay(exchanges)  # shape only: server-assigned numbers differ here
        assert report.ok, report.render()
        assert [ex.status for ex in report.exchanges] == [201, 201, 201, 204, 200, 204, 204, 200]
        expected = state(recorded_app, recorded_token)
        expected["users"] = sorted([*expected["users"], ("zed@example.com", None)])
        assert state(target_app, target_token) == expected
        sent = report.exchanges[4].url
        assert sent.startswith("Users?filter=id+eq+%22") and exchanges[4].url.split("%22")[1] not in sent


def test_a_different_status_or_shape_is_reported_per_exchange() -> None:
    with server() as (recorded_app, recorded_token), server() as (target_app, target_token):
        exchanges = recorded_session(recorded_app, recorded_token)
        with client_of(target_app, target_token) as http:
            http.post("/Users", json={"schemas": [urns.USER], "userName": "ann@example.com"})
            report = Replayer(http).replay(exchanges[:1])
    (result,) = report.differing
    where = [d.where for d in result.differences]
    assert where[0] == "status" and (result.recorded_status, result.status) == (201, 409)
    assert "body.userName" in where  # a SCIM error has another shape than a user
    assert report.render().startswith("#1 POST Users: 201 -> 409, differs")


def test_values_are_compared_only_when_asked_and_never_ids_or_timestamps() -> None:
    with server() as (recorded_app, recorded_token), server() as (target_app, target_token):
        exchanges = recorded_session(recorded_app, recorded_token)[:1]
        tampered = replace(exchanges[0], response_body={**exchanges[0].response_body, "userName": "ANN@example.com"})
        with client_of(target_app, target_token) as http:
            assert Replayer(http).replay([tampered]).ok
        with server() as (other_app, other_token), client_of(other_app, other_token) as http:
            report = Replayer(http, values=True).replay([tampered])
    assert [(d.where, d.recorded) for d in report.differing[0].differences] == [("body.userName", "ANN@example.com")]


def test_query_encoding_is_kept_unless_an_id_in_it_is_mapped() -> None:
    replayer = Replayer(httpx.Client())
    replayer.ids.add("abc-1", "xyz-2")
    assert replayer.target_url("/scim/v2/Users?filter=userName%20eq%20%22a%40b%22") == (
        "Users?filter=userName%20eq%20%22a%40b%22"
    )
    assert replayer.target_url("/api/scim/Groups/abc-1?filter=members%5Bvalue+eq+%22abc-1%22%5D&x=1") == (
        "Groups/xyz-2?filter=members%5Bvalue+eq+%22xyz-2%22%5D&x=1"
    )
    assert replayer.target_url("/scim/v2/Users/abc-10") == "Users/abc-10"


def test_an_exchange_recorded_without_response_is_skipped_not_sent() -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200))
    lost = Exchange("POST", "/Users", (), {"userName": "a"}, 0, (), None, "", 0.0, error="upstream down")
    report = Replayer(httpx.Client(transport=transport, base_url=BASE)).replay([lost])
    assert sent == [] and report.ok and "skipped: upstream down" in report.render()


def test_an_unreachable_target_stops_the_replay_with_a_reason() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    exchange = Exchange("GET", "/Users", (), None, 200, (), None, "", 0.0)
    with pytest.raises(ReplayError, match="#1 GET Users: connection refused"):
        Replayer(httpx.Client(transport=httpx.MockTransport(refuse), base_url=BASE)).replay([exchange])


@pytest.mark.parametrize("golden", ["okta-group-push", "entra-incremental-update"])
def test_aup_replay_embedded_reproduces_a_golden_session(golden: str) -> None:
    result = CliRunner().invoke(main, ["replay", str(GOLDEN / f"{golden}.jsonl"), "--embedded", "--values"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("different")
    assert " 0 different" in result.output


def test_aup_replay_exits_1_on_differences_and_2_on_usage_errors(tmp_path: Path) -> None:
    cassette = tmp_path / "c.jsonl"
    (first, *_) = read_cassette(GOLDEN / "okta-create-user.jsonl")
    write_cassette(cassette, [replace(first, status=404)])
    runner = CliRunner()
    differs = runner.invoke(main, ["replay", str(cassette), "--embedded"])
    assert differs.exit_code == 1 and "status: recorded 404, replayed 200" in differs.output
    assert runner.invoke(main, ["replay", str(cassette)]).exit_code == 2
    both = runner.invoke(main, ["replay", str(cassette), "--embedded", "--target", "http://127.0.0.1:9"])
    assert both.exit_code == 2 and "either --target" in both.output
    no_token = runner.invoke(main, ["replay", str(cassette), "--target", "http://127.0.0.1:9"], env={})
    assert no_token.exit_code == 2 and "--token is required" in no_token.output
    cassette.write_text(json.dumps({"v": 1}) + "\n")
    assert "cannot read cassette" in runner.invoke(main, ["replay", str(cassette), "--embedded"]).output
