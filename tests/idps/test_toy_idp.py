"""The registry proof: an IdP defined only in the test suite (tests/idps/toy.py), registered by this folder's
conftest and nowhere else, appears in ``aup sync --idp``, in the conformance ``sync`` suite (and fails against a
server that breaks it) and in a Gherkin run, without any other file naming it."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib.metadata import EntryPoint
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from flask import Flask
from pytest_bdd import scenarios
from werkzeug.wrappers import Request, Response

from aup.cli import main
from bench.population import bench_directory
from bench.sync import in_process
from conformance import Status, Target, run
from conformance.suites import default_registry
from emulators import registry as registry_module
from emulators.core.directory import AppAssignments, Directory, Group, User, load_directory, save_directory
from emulators.core.directory import Status as UserStatus
from emulators.core.errors import ConfigurationError
from emulators.registry import BUILT_IN, ENTRY_POINT_GROUP, IdpRegistry, IdpSpec, idps, load_default, registered
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.target import Bearer
from tests.conformance.faulty import Breaker, Faulty, State, body_of, matches
from tests.idps.toy import TOY, TOY_PROFILE, ToyConsole
from tests.integration.conftest import Served, served, server_db  # noqa: F401 - the real `aup serve` fixture

scenarios("toy.feature", features_base_dir=str(Path(__file__).parent))


# -- the registry ---------------------------------------------------------------------------------------------


def test_the_toy_idp_is_registered_for_these_tests_only() -> None:
    assert idps().names() == [*load_default().names(), "toy"]
    assert "toy" not in load_default(), "a fresh registry holds only the built-in IdPs"
    assert idps().gherkin_names()["Toy"] == (TOY, TOY_PROFILE)
    assert idps().label_for_agent("Toy IdP/1.0") == "toy"
    assert idps().label_for_agent("Okta SCIM Client 1.0.0") == "okta"


def test_a_name_is_registered_once_and_leaves_with_its_block() -> None:
    with pytest.raises(ValueError, match="registered already"):
        idps().register(TOY)
    other = IdpSpec("toy2", "Toy 2", {"plain": TOY_PROFILE}, "plain", ToyConsole)
    with registered(other):
        assert "toy2" in idps()
    assert "toy2" not in idps()


@pytest.mark.parametrize(
    ("name", "default", "message"),
    [("Toy", "plain", "lower-case"), ("to_y", "plain", "lower-case"), ("toy", "fancy", "default profile")],
)
def test_a_spec_is_checked_when_it_is_made(name: str, default: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        IdpSpec(name, "Toy", {"plain": TOY_PROFILE}, default, ToyConsole)


# -- conformance ------------------------------------------------------------------------------------------------


def test_the_sync_suite_holds_a_check_for_every_registered_idp_without_its_own() -> None:
    ids = [check.id for check in default_registry().checks() if check.suite == "sync"]
    assert "sync-toy-one-way" in ids
    built_in = {spec.name for spec in load_default() if spec.console_checks}
    assert {check_id for check_id in ids if check_id.endswith("-one-way")} == {
        f"sync-{name}-one-way" for name in built_in | {"toy"}
    }
    assert "sync-toy-one-way" not in default_registry(IdpRegistry()), "an empty IdP registry adds no check"


def _toy_check() -> list[object]:
    return [check for check in default_registry().checks() if check.id == "sync-toy-one-way"]


def test_the_toy_check_passes_against_the_reference_server(app: Flask, token: str) -> None:
    outcome = run(_toy_check(), Target(IN_PROCESS_SCIM_URL, Bearer(token), app=app))  # type: ignore[arg-type]
    assert [result.status for result in outcome.results] == [Status.PASS], outcome.results[0].reason


def _ignore_deactivation(req: Request, state: State) -> Request | Response | None:
    """The server answers 204 to ``active`` false and keeps the user active."""
    ops = (body_of(req) or {}).get("Operations") or []
    if matches(req, "PATCH", "/Users/") and any(op.get("path") == "active" and op.get("value") is False for op in ops):
        return Response(status=204)
    return None


def test_the_toy_check_fails_against_a_server_that_ignores_deactivation(app: Flask, token: str) -> None:
    faulty = Faulty(app, Breaker(request=_ignore_deactivation), State(token))  # type: ignore[arg-type]
    outcome = run(_toy_check(), Target(IN_PROCESS_SCIM_URL, Bearer(token), app=faulty))  # type: ignore[arg-type]
    result = outcome.results[0]
    assert result.status is Status.FAIL
    assert "should be inactive or gone, but the server has it active" in result.actual


def test_an_idp_that_names_its_own_suite_adds_it_to_the_conformance_registry(app: Flask, token: str) -> None:
    assert "toy-user-found-by-username" not in default_registry(), "the toy spec names no suite"
    with registered(replace(TOY, name="toyx", checks="tests.idps.toy_checks:SUITE")):
        registry = default_registry()
        assert "toy" in registry.suites
        assert registry.suites.index("entra") < registry.suites.index("toy") < registry.suites.index("sync")
        outcome = run(registry.select(["toy"]), Target(IN_PROCESS_SCIM_URL, Bearer(token), app=app))  # type: ignore[arg-type]
        assert [result.status for result in outcome.results] == [Status.PASS], outcome.results[0].reason


@pytest.mark.parametrize(
    ("checks", "error", "message"),
    [
        ("tests.idps.toy_checks", ValueError, "must be 'package.module:ATTRIBUTE'"),
        ("tests.idps.no_such_module:SUITE", ConfigurationError, "cannot be loaded"),
        ("tests.idps.toy_checks:NOPE", ConfigurationError, "cannot be loaded"),
        ("tests.idps.toy:TOY", ConfigurationError, "is not a conformance Suite"),
    ],
)
def test_a_suite_that_cannot_be_loaded_is_a_clear_error(checks: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        spec = replace(TOY, name="toyx", checks=checks)
        with registered(spec):
            default_registry()


def test_aup_conformance_runs_the_toy_check_from_the_cli() -> None:
    result = CliRunner().invoke(main, ["conformance", "--check", "sync-toy-one-way"])
    assert result.exit_code == 0, result.output
    assert "sync-toy-one-way" in result.output and "CONFORMANT" in result.output


# -- aup sync --idp toy, against a real `aup serve`, across runs ------------------------------------------------


def _people(path: Path, *, ben: UserStatus = UserStatus.ACTIVE, bad: bool = False) -> None:
    users = {
        "ann": User("ann", {"login": "ann@example.test", "firstName": "Ann", "lastName": "Lee"}),
        "ben": User("ben", {"login": "ben@example.test", "firstName": "Ben", "lastName": "Ng"}, ben),
    }
    if bad:
        users["big"] = User("big", {"login": "big@example.test", "firstName": "Big", "lastName": "x" * 300_000})
    app = AppAssignments(users=list(users), push_groups={"eng": True})
    save_directory(
        Directory(users=users, groups={"eng": Group("eng", "Engineering", members=["ann", "ben"])}, app=app), path
    )


def _sync(directory: Path, target: Served) -> tuple[int, str]:
    args = ["sync", "--idp", "toy", "--directory", str(directory), "--target", target.base_url, "--token", target.token]
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def _state(target: Served) -> tuple[dict[str, tuple[str, bool]], dict[str, set[str]]]:
    with httpx.Client(base_url=target.base_url, headers={"Authorization": f"Bearer {target.token}"}) as http:
        users = {u["userName"]: (u["id"], u["active"]) for u in http.get("/Users").json()["Resources"]}
        groups = {
            g["displayName"]: {m["value"] for m in g.get("members", [])}
            for g in http.get("/Groups").json()["Resources"]
        }
    return users, groups


def test_aup_sync_with_the_toy_idp_provisions_then_deactivates_across_runs(tmp_path: Path, served: Served) -> None:  # noqa: F811
    people = tmp_path / "people.yaml"
    _people(people)
    code, output = _sync(people, served)
    assert code == 0, output
    assert "Toy: 3 request(s) sent (3 POST); 0 failure(s)" in output
    users, groups = _state(served)
    assert {name: active for name, (_, active) in users.items()} == {"ann@example.test": True, "ben@example.test": True}
    assert groups == {"Engineering": {users["ann@example.test"][0], users["ben@example.test"][0]}}
    links = json.loads((tmp_path / "people.toy-links.json").read_text(encoding="utf-8"))
    assert links["users"] == {"ann": users["ann@example.test"][0], "ben": users["ben@example.test"][0]}

    _people(people, ben=UserStatus.DEPROVISIONED)  # the admin deactivates ben in the IdP; the next run sends it
    code, output = _sync(people, served)
    assert code == 0, output
    assert "Toy: 3 request(s) sent (1 PATCH, 2 PUT); 0 failure(s)" in output, "links kept: nothing created twice"
    again, groups = _state(served)
    assert again == {**users, "ben@example.test": (users["ben@example.test"][0], False)}, "same ids, ben inactive"
    assert groups == {"Engineering": {users["ann@example.test"][0]}}


def test_aup_sync_with_the_toy_idp_exits_1_when_the_server_refuses_a_user(tmp_path: Path, served: Served) -> None:  # noqa: F811
    people = tmp_path / "people.yaml"
    _people(people, bad=True)
    code, output = _sync(people, served)
    assert code == 1, output
    assert "failed: create big@example.test: HTTP 413" in output, "over the server's resource size limit"
    assert "Toy could not send 1 change(s)" in output


def test_an_installed_package_registers_through_an_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    """A distribution declaring ``[project.entry-points."aup.idps"] toy = "tests.idps.toy:TOY"`` is loaded."""
    point = EntryPoint(name="toy", value="tests.idps.toy:TOY", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [point] if group == ENTRY_POINT_GROUP else [])
    assert load_default().names() == [*(module.rsplit(".", 1)[1] for module in BUILT_IN), "toy"]
    wrong = EntryPoint(name="bad", value="tests.idps.toy:TOY_PROFILE", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [wrong])
    with pytest.raises(ConfigurationError, match=r"entry point bad \(tests.idps.toy:TOY_PROFILE\) is not an IdpSpec"):
        load_default()


def test_bench_measures_every_registered_idp_sync() -> None:
    """Figure 2 loops over the registry; an IdP without a bench of its own is timed through its console."""
    measured = in_process("toy", 20, 3)
    active = sum(user.status is UserStatus.ACTIVE for user in bench_directory(20, 3).users.values())
    assert (measured.requests, measured.failures) == (active + 3, 0), "one POST per active user and per group"


def _act(directory: Path, target: Served, *action: str) -> tuple[int, str]:
    args = ["sync", "--idp", "toy", "--directory", str(directory), "--target", target.base_url, "--token", target.token]
    result = CliRunner().invoke(main, [*args, *action])
    return result.exit_code, result.output


def test_the_toy_idps_admin_actions_run_from_the_cli_and_persist(tmp_path: Path, served: Served) -> None:  # noqa: F811
    """Each subcommand is the console verb of the same meaning: saved to the directory file, then sent."""
    people = tmp_path / "people.yaml"
    _people(people)
    assert _sync(people, served)[0] == 0
    users, _ = _state(served)
    ben = users["ben@example.test"][0]

    code, output = _act(people, served, "deactivate-user", "ben@example.test")
    assert code == 0, output
    assert load_directory(people).users["ben"].status is UserStatus.DEPROVISIONED, "the IdP's directory changed"
    assert _state(served)[0]["ben@example.test"] == (ben, False)

    code, output = _act(people, served, "update-user", "ann", "--set", "lastName=Lee-Smith")
    assert code == 0, output
    with httpx.Client(base_url=served.base_url, headers={"Authorization": f"Bearer {served.token}"}) as http:
        ann = http.get(f"/Users/{users['ann@example.test'][0]}").json()
    assert ann["name"] == {"givenName": "Ann", "familyName": "Lee-Smith"}

    assert _act(people, served, "reactivate-user", "ben")[0] == 0
    assert _act(people, served, "rename-group", "Engineering", "Platform")[0] == 0
    users, groups = _state(served)
    assert users["ben@example.test"] == (ben, True), "reactivated under the same id"
    assert groups == {"Platform": {users["ann@example.test"][0], ben}}

    code, output = _act(people, served, "suspend-user", "ann")
    assert code == 2 and "suspend-user is Okta's; with --idp toy the admin actions are" in output
    code, output = _act(people, served, "deactivate-user", "nobody@example.test")
    assert code == 2 and "nobody@example.test" in output
    assert _state(served) == (users, groups), "a refused action sends nothing"


@pytest.mark.parametrize(
    ("option", "owner"),
    [
        (["--mapping", "m.yaml"], "Okta's and Entra's"),
        (["-v"], "Okta's and Entra's"),
        (["--app", "coreweave"], "Okta's and Entra's"),
        (["--cycles", "2"], "Entra's"),
    ],
)
def test_options_the_toy_idp_does_not_read_are_refused(tmp_path: Path, option: list[str], owner: str) -> None:
    people, mapping = tmp_path / "people.yaml", tmp_path / "m.yaml"
    _people(people)
    mapping.write_text("{}\n", encoding="utf-8")
    args = [*(arg.replace("m.yaml", str(mapping)) for arg in option), "--directory", str(people)]
    result = CliRunner().invoke(main, ["sync", "--idp", "toy", *args, "--target", "http://127.0.0.1:9/scim/v2"])
    assert result.exit_code == 2
    assert f"is {owner}; it does nothing with --idp toy" in result.output
