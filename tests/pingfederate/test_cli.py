"""``aup sync --idp pingfederate`` against a real ``aup serve`` on loopback: each run is a synchronization cycle
that sends only what changed since the state the last run saved, as PingFederate does from its provisioning
database (docs/pingfederate-idp.md §1); exit codes and the server's end state are asserted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from aup.cli import main
from emulators.core.directory import AppAssignments, Directory, Group, Status, User, save_directory
from tests.integration.conftest import Served, served, server_db  # noqa: F401 - the real `aup serve` fixture
from tests.integration.test_load_cli import aup_load, finished, serving


def _people(path: Path, *, ben: Status = Status.ACTIVE, cat_last: str = "Zoë", big: bool = False) -> None:
    users = {
        "ann": User(
            "ann", {"login": "ann@example.test", "firstName": "Ann", "lastName": "Lee", "email": "ann@example.test"}
        ),
        "ben": User("ben", {"login": "ben@example.test", "firstName": "Ben", "lastName": "Ng"}, ben),
        "cat": User("cat", {"login": "cat@example.test", "firstName": "Cat", "lastName": cat_last}),
    }
    if big:
        users["big"] = User("big", {"login": "big@example.test", "firstName": "Big", "lastName": "x" * 300_000})
    app = AppAssignments(users=list(users), push_groups={"eng": True})
    groups = {"eng": Group("eng", "Engineering", members=["ann", "ben", "cat"])}
    save_directory(Directory(users=users, groups=groups, app=app), path)


def _sync(directory: Path, target: Served, *extra: str) -> tuple[int, str]:
    args = ["sync", "--idp", "pingfederate", "--directory", str(directory), "--target", target.base_url]
    result = CliRunner().invoke(main, [*args, "--token", target.token, *extra])
    return result.exit_code, result.output


def _state(target: Served) -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
    with httpx.Client(base_url=target.base_url, headers={"Authorization": f"Bearer {target.token}"}) as http:
        users = {u["userName"]: u for u in http.get("/Users").json().get("Resources", [])}
        groups = {
            g["displayName"]: {m["value"] for m in g.get("members", [])}
            for g in http.get("/Groups").json().get("Resources", [])
        }
    return users, groups


def test_runs_are_cycles_that_send_only_what_changed(tmp_path: Path, served: Served) -> None:  # noqa: F811
    people = tmp_path / "people.yaml"
    _people(people)
    code, output = _sync(people, served)
    assert code == 0, output
    # three lookups, three creates, one page of /Groups, one group create
    assert "PingFederate: 8 request(s) sent (4 GET, 4 POST); 0 failure(s)" in output
    users, groups = _state(served)
    ids = {name: doc["id"] for name, doc in users.items()}
    assert all(doc["active"] is True for doc in users.values())
    assert groups == {"Engineering": set(ids.values())}
    state = json.loads((tmp_path / "people.pingfederate-state.json").read_text(encoding="utf-8"))
    assert sorted(state["users"]) == ["ann", "ben", "cat"] and state["groups"]["eng"]["name"] == "Engineering"

    code, output = _sync(people, served)
    assert code == 0, output
    assert "PingFederate: 0 request(s) sent (nothing); 0 failure(s)" in output, "an idle cycle sends nothing"

    _people(people, ben=Status.SUSPENDED, cat_last="Zoë-Smith")  # the datastore changes between runs
    code, output = _sync(people, served)
    assert code == 0, output
    assert "PingFederate: 3 request(s) sent (1 PATCH, 2 PUT); 0 failure(s)" in output
    users, groups = _state(served)
    assert {name: doc["id"] for name, doc in users.items()} == ids, "same ids: nothing created twice"
    assert users["ben@example.test"]["active"] is False
    assert users["cat@example.test"]["name"]["familyName"] == "Zoë-Smith"
    assert groups == {"Engineering": {ids["ann@example.test"], ids["cat@example.test"]}}, "ben left with his account"


def test_a_setting_and_a_dialect_from_the_command_line(tmp_path: Path, served: Served) -> None:  # noqa: F811
    people = tmp_path / "people.yaml"
    _people(people)
    code, output = _sync(people, served, "--dialect", "put", "--setting", "remove_user_action=delete")
    assert code == 0, output
    code, output = _sync(people, served, "--dialect", "put", "unassign-user", "ben@example.test")
    assert code == 0, output
    users, _ = _state(served)
    assert "ben@example.test" in users and users["ben@example.test"]["active"] is False, "disabled by default"
    code, output = _sync(people, served, "--setting", "remove_user_action=delete", "unassign-user", "cat@example.test")
    assert code == 0, output
    users, groups = _state(served)
    assert "cat@example.test" not in users, "deleted, as the Remove User Action says"
    assert groups == {"Engineering": {users["ann@example.test"]["id"]}}

    code, output = _sync(people, served, "--setting", "remove_user_action=erase")
    assert code == 2 and "remove_user_action 'erase': choose disable or delete" in output
    code, output = _sync(people, served, "--dialect", "scim")
    assert code == 2 and "PingFederate has no profile 'scim'; use one of patch, put" in output


def test_a_refused_change_exits_1_and_the_next_run_sends_it_again(tmp_path: Path, served: Served) -> None:  # noqa: F811
    people = tmp_path / "people.yaml"
    _people(people, big=True)
    code, output = _sync(people, served)
    assert code == 1, output
    assert "failed: create big@example.test: HTTP 413" in output
    assert "PingFederate could not send 1 change(s); run again to retry" in output
    users, _ = _state(served)
    assert sorted(users) == ["ann@example.test", "ben@example.test", "cat@example.test"]

    _people(people)  # the admin fixes the datastore: big leaves it; the next cycle is clean
    code, output = _sync(people, served)
    assert code == 0, output


def test_aup_load_runs_pingfederate_tenants_to_convergence(tmp_path: Path, server_db: str) -> None:  # noqa: F811
    """``aup load --idp pingfederate``: each Locust user is one tenant's PingFederate, built through the registry."""
    with serving(server_db) as (url, _):
        report_path = tmp_path / "load.json"
        process = aup_load(
            "--target", url, "--local-tenants", "2", "--db", server_db, "--idp", "pingfederate", "--run-time", "6s",
            "--quiet", "--think", "0.1:0.3", "--directory-users", "20", "--directory-groups", "3",
            "--report", str(report_path),
        )  # fmt: skip
        code = finished(process)
    output = "\n".join(process.output)
    assert code == 0, output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["verdict"] == {"tenants": 2, "converged": 2, "diverged": 0, "unjudged": 0, "exit_code": 0}
    assert {tenant["idp"] for tenant in report["tenants"]} == {"pingfederate"}
    kinds = {f"{row['method']} {row['name']}" for row in report["requests"]}
    assert {"GET /Users?filter", "POST /Users", "GET /Groups?list", "POST /Groups", "PUT /Users/{id}"} <= kinds, kinds
    assert not any(kind.startswith("PATCH /Users") for kind in kinds), "PingFederate never PATCHes a user"
