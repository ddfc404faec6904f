"""The ``directory`` and ``sync`` commands: output, saved state, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from aup.commands.directory import directory
from aup.commands.sync import sync
from emulators.core.directory import Status, load_directory, save_directory
from scimcore import target as target_module
from scimcore.client import make_http
from scimcore.wire import read_cassette
from tests.unit.okta_setup import TEST_USER_ID, s20_directory
from tests.unit.scim_fake import BASE_URL, FakeScim, empty_list, error_response


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeScim:
    """Route the command's HTTP client to an in-memory SCIM server."""
    server = FakeScim()

    def fake_make_http(target: str, auth: httpx.Auth | None, **kwargs: Any) -> httpx.Client:
        assert target == BASE_URL
        kwargs.pop("verify", None)
        kwargs.pop("base_url", None)
        return make_http(server.transport, auth, base_url=BASE_URL, **kwargs)

    monkeypatch.setattr(target_module, "make_http", fake_make_http)
    return server


@pytest.fixture
def people(tmp_path: Path) -> Path:
    path = tmp_path / "people.yaml"
    directory_ = s20_directory()
    directory_.app.users.append(TEST_USER_ID)
    save_directory(directory_, path)
    return path


def run(*args: str) -> Any:
    return CliRunner().invoke(sync, list(args), catch_exceptions=False)


def base(people: Path) -> list[str]:
    return ["--directory", str(people), "--target", BASE_URL, "--token", "t0ken"]


def test_generate_writes_a_loadable_directory_and_summary_counts_it(tmp_path: Path) -> None:
    out = tmp_path / "gen.json"
    result = CliRunner().invoke(
        directory, ["generate", "--users", "60", "--groups", "4", "--seed", "2", "--out", str(out)]
    )
    assert result.exit_code == 0 and result.output == f"wrote 60 users and 4 groups to {out}\n"
    assert len(load_directory(out).users) == 60
    summary = CliRunner().invoke(directory, ["summary", str(out)])
    assert summary.output.startswith("users: 60 (") and "groups: 4;" in summary.output


def test_summary_of_a_broken_file_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("users:\n  - {id: 00u1}\n", encoding="utf-8")
    result = CliRunner().invoke(directory, ["summary", str(bad)])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "needs a non-empty login" in result.output


def test_full_sync_provisions_saves_links_and_records_a_redacted_cassette(
    fake: FakeScim, people: Path, tmp_path: Path
) -> None:
    cassette = tmp_path / "run.jsonl"
    result = run(*base(people), "--cassette", str(cassette))
    assert result.exit_code == 0, result.output
    assert result.output == "2 task(s): 2 done, 0 failed\ndone: 1 user(s) provisioned\n"
    links = json.loads((tmp_path / "people.links.json").read_text())
    assert list(links["users"]) == [TEST_USER_ID]
    exchanges = read_cassette(cassette)
    assert [ex.method for ex in exchanges] == ["GET", "GET", "POST"]
    assert all(ex.source == "okta-oin" for ex in exchanges)
    assert exchanges[0].request_header("Authorization") == "Bearer [REDACTED]"
    assert exchanges[2].request_body["password"] == "[REDACTED]"


def test_single_actions_change_and_save_the_directory(fake: FakeScim, people: Path) -> None:
    assert run(*base(people), "assign-user", "test.user@okta.local").exit_code == 0
    result = run(
        *base(people), "-v", "update-user", "TEST.USER@okta.local", "--set", "firstName=Tess", "--unset", "title"
    )
    assert result.output.splitlines()[0].startswith("DONE   #1 Push profile of test.user@okta.local")
    saved = load_directory(people).users[TEST_USER_ID]
    assert saved.profile["firstName"] == "Tess" and "title" not in saved.profile
    assert run(*base(people), "suspend-user", TEST_USER_ID).output == "nothing sent (Okta sends no request for this)\n"
    assert load_directory(people).users[TEST_USER_ID].status is Status.SUSPENDED


def test_failed_tasks_are_listed_and_retried_in_a_later_run(fake: FakeScim, people: Path) -> None:
    fake.scripted = [empty_list(), error_response(500, "down for maintenance")]  # the pre-flight's list, then
    failed = run(*base(people), "assign-user", TEST_USER_ID)
    assert failed.exit_code == 1
    assert failed.output.splitlines()[-1] == "Error: 1 task(s) failed; list them with 'tasks', retry them with 'retry'"
    listed = run(*base(people), "tasks")
    assert (
        "Provision user test.user@okta.local (attempts 1)" in listed.output and "down for maintenance" in listed.output
    )
    retried = run(*base(people), "retry")
    assert retried.exit_code == 0 and retried.output == "1 task(s): 1 done, 0 failed\ndone: 1 user(s) provisioned\n"
    assert run(*base(people), "tasks").output == "0 failed task(s)\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["assign-user", "nobody@x"], "Error: no user with login 'nobody@x'"),
        (["push-now", "No Such Group"], "Error: no group named 'No Such Group'"),
        (["sync-password", TEST_USER_ID], "Error: password sync is off"),
        (["update-user", TEST_USER_ID, "--set", "shoeSize=42"], "Error: unknown profile attribute(s): shoeSize"),
        (["retry", "99"], "Error: no task with id 99"),
    ],
)
def test_mistakes_are_one_line_errors(fake: FakeScim, people: Path, args: list[str], message: str) -> None:
    result = run(*base(people), *args)
    assert result.exit_code == 2 and result.output.startswith(message) and result.output.count("\n") == 1


def test_a_bad_mapping_file_stops_before_any_request(fake: FakeScim, people: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("rules:\n  title: user.titel\n", encoding="utf-8")
    result = run(*base(people), "--mapping", str(mapping), "test-connection")
    assert result.exit_code == 2 and "did you mean user.title" in result.output and fake.requests == []


def test_basic_auth_needs_user_and_password(people: Path) -> None:
    result = CliRunner().invoke(sync, [*base(people), "--auth", "basic", "test-connection"])
    assert result.exit_code == 2 and "USER:PASSWORD" in result.output
