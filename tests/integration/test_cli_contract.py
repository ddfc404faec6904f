"""The CLI's contract, over real loopback HTTP: exit codes (0 ok, 1 the target misbehaved, 2 the run could not
be made), the pre-flight that stops a wrong target in one line, and options refused rather than ignored."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from aup.cli import main
from emulators.core.directory import Directory, load_directory, save_directory
from emulators.core.generator import generate_directory
from scimcore.wire import Exchange, write_cassette

from .conftest import Served
from .stub_http import HTML_LOGIN, SPC, Answer, closed_port, empty_list, scim_error, scim_json, serve, silent

pytestmark = pytest.mark.network


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def people(tmp_path: Path) -> Path:
    path = tmp_path / "people.yaml"
    save_directory(generate_directory(6, 1, 4), path)
    return path


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    path = tmp_path / "one.jsonl"
    exchange = Exchange(
        method="GET",
        url="/scim/v2/Users?count=1",
        request_headers=(("Accept", "application/scim+json"),),
        request_body=None,
        status=200,
        response_headers=(("Content-Type", "application/scim+json"),),
        response_body={"schemas": [], "totalResults": 0, "Resources": []},
        started="2026-12-04T00:00:00Z",
        elapsed_ms=1.0,
    )
    write_cassette(path, [exchange])
    return path


def client_commands(people: Path, cassette: Path, out: Path) -> dict[str, list[str]]:
    """Every client command, each with what it needs besides the connection options."""
    login = next(iter(load_directory(people).users.values())).login
    return {
        "conformance": ["conformance"],
        "sync okta": ["sync", "--directory", str(people)],
        "sync okta action": ["sync", "--directory", str(people), "assign-user", login],
        "sync entra": ["sync", "--idp", "entra", "--directory", str(people)],
        "entra-sync": ["entra-sync", "--directory", str(people)],
        "export posix": ["export", "posix", "--out", str(out)],
        "replay": ["replay", str(cassette)],
    }


COMMANDS = ("conformance", "sync okta", "sync okta action", "sync entra", "entra-sync", "export posix", "replay")


def _html(method: str, path: str, body: bytes) -> Answer:
    return HTML_LOGIN


def _redirect(method: str, path: str, body: bytes) -> Answer:
    return 302, {"Location": "https://login.example.test/sso?next=/scim/v2"}, b""


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ("html", "HTML page"),
        ("redirect", "redirect to https://login.example.test/sso"),
        ("refused", "cannot connect"),
        ("silent", "no answer from"),
    ],
)
def test_a_target_that_is_not_a_scim_endpoint_stops_every_client_command_in_one_line_with_exit_2(
    command: str, server: str, expected: str, people: Path, cassette: Path, tmp_path: Path
) -> None:
    args = client_commands(people, cassette, tmp_path / "export")[command]

    def attempt(url: str) -> tuple[int, str]:
        connection = ["--target", f"{url}/scim/v2", "--token", "t0ken", "--timeout", "1"]
        if command == "sync okta action":  # group options before the action
            return run(*args[:-2], *connection, *args[-2:])
        return run(*args, *connection)

    if server == "html":
        with serve(_html) as url:
            code, out = attempt(url)
    elif server == "redirect":
        with serve(_redirect) as url:
            code, out = attempt(url)
    elif server == "silent":
        with silent() as url:
            code, out = attempt(url)
    else:
        code, out = attempt(closed_port())
    assert code == 2, out
    assert expected in out
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), out
    assert not (tmp_path / "export").exists()


def test_a_wrong_base_path_suggests_the_scim_base_and_a_wrong_token_is_refused(served: Served, people: Path) -> None:
    root = served.base_url.removesuffix("/scim/v2")
    code, out = run("sync", "--directory", str(people), "--target", root, "--token", served.token)
    assert code == 2
    assert out.strip() == (
        f"Error: {root} is not a SCIM base URL: /ServiceProviderConfig and /Users answer 404; "
        f"did you mean {served.base_url}?"
    )
    code, out = run("conformance", "--target", served.base_url, "--token", "not-the-token")
    assert code == 2
    assert "refused the credentials (401" in out and len(out.strip().splitlines()) == 1
    code, out = run("conformance", "--target", served.base_url, "--auth", "none")
    assert code == 2 and "needs credentials (401" in out


def test_the_process_exit_code_is_the_contract(served: Served, people: Path, tmp_path: Path) -> None:
    """Through a real `aup` process, not only click's runner: 0, then 2 for a wrong token."""
    base = [sys.executable, "-m", "aup", "sync", "--directory", str(people), "--target", served.base_url]
    ok = subprocess.run([*base, "--token", served.token], capture_output=True, text=True, timeout=120, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    refused = subprocess.run([*base, "--token", "wrong"], capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode == 2
    assert refused.stdout == "" and refused.stderr.startswith("Error: ") and refused.stderr.count("\n") == 1


@pytest.fixture
def failing_writes() -> Iterator[str]:
    """A SCIM server that reads fine and answers every write 500, as a broken backend would."""

    def handle(method: str, path: str, body: bytes) -> Answer:
        if path.endswith("/ServiceProviderConfig"):
            return scim_json(200, SPC)
        if method == "GET":
            return empty_list()
        return scim_error(500, "database is read-only")

    with serve(handle) as url:
        yield f"{url}/scim/v2"


def test_entra_with_failing_creates_exits_1_and_groups_the_failures_by_cause(
    failing_writes: str, people: Path, tmp_path: Path
) -> None:
    log = tmp_path / "log.jsonl"
    code, out = run(
        "sync", "--idp", "entra", "--directory", str(people), "--target", failing_writes, "--token", "t",
        "--quiet", "--log", str(log),
    )  # fmt: skip
    assert code == 1, out
    lines = out.splitlines()
    assert "users: 0 created, 0 updated, 0 disabled, 0 deleted, 0 skipped, 6 failed" in lines
    grouped = [line for line in lines if line.startswith("failed 6x [InternalServerError]")]
    assert len(grouped) == 1 and "database is read-only" in grouped[0] and "and 3 more" in grouped[0]
    assert lines[-1].startswith("Error: ") and "failure(s) in the provisioning log" in lines[-1]
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert sum(1 for e in entries if e["outcome"] == "Failure" and e["kind"] == "user") == 6
    assert all(e["name"] for e in entries)


def test_entra_quarantine_exits_1(people: Path) -> None:
    """Discovery answers, but every list fails: Entra's test probe fails and the job goes to quarantine."""

    def handle(method: str, path: str, body: bytes) -> Answer:
        if path.endswith("/ServiceProviderConfig"):
            return scim_json(200, SPC)
        return scim_error(503, "maintenance")

    with serve(handle) as url:
        code, out = run("entra-sync", "--directory", str(people), "--target", f"{url}/scim/v2", "--token", "t")
    assert code == 1
    assert "job in quarantine" in out and out.splitlines()[-1].startswith("Error: the job is in quarantine")


def test_okta_test_connection_fails_on_an_answer_that_is_not_a_list(people: Path) -> None:
    def handle(method: str, path: str, body: bytes) -> Answer:
        if path.endswith("/ServiceProviderConfig"):
            return scim_json(200, SPC)
        if "count=2" in path:  # Okta's own test request: a JSON answer that is no ListResponse
            return scim_json(200, {"ok": True})
        return empty_list()

    with serve(handle) as url:
        code, out = run("sync", "--directory", str(people), "--target", f"{url}/scim/v2", "--token", "t",
                        "test-connection")  # fmt: skip
    assert code == 1
    assert "did not answer a SCIM ListResponse" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--idp", "entra", "--profile", "aiw"], "--profile is Okta's; it does nothing with --idp entra"),
        (["--cycles", "2"], "--cycles is Entra's; it does nothing with --idp okta"),
        (["--token-url", "http://127.0.0.1:9/token"], "--token-url is Entra's"),
        (["--idp", "entra", "--auth", "header"], "--auth header is not available here"),
        (["--idp", "entra", "--no-save"], "--save is Okta's"),
        (["--idp", "entra", "--tasks", "t.json"], "--tasks is Okta's"),
        (["--dialect", "put"], "--dialect is for the other IdPs; it does nothing with --idp okta"),
        (["--idp", "entra", "--dialect", "put"], "--dialect 'put': Entra's are aadOptscim062020, scim"),
        (["--idp", "entra", "--setting", "a=b"], "--setting is for IdPs driven by their admin console"),
    ],
)
def test_an_option_the_idp_does_not_read_is_refused_not_ignored(people: Path, args: list[str], message: str) -> None:
    code, out = run("sync", *args, "--directory", str(people), "--target", "http://127.0.0.1:9/scim/v2", "--token", "t")
    assert code == 2
    assert message in out and len(out.strip().splitlines()) == 1


def test_action_help_needs_no_connection_options() -> None:
    code, out = run("sync", "assign-user", "--help")
    assert code == 0 and "Assign the app to USER" in out
    code, out = run("sync", "--help")
    assert code == 0 and "--on-demand" in out


def test_usage_mistakes_exit_2(people: Path, tmp_path: Path) -> None:
    assert run("sync", "--directory", str(people))[0] == 2  # no --target
    assert run("sync", "--target", "http://127.0.0.1:9/scim/v2", "--token", "t")[0] == 2  # no --directory
    assert run("sync", "--directory", str(people), "--target", "ftp://x", "--token", "t")[0] == 2
    assert run("token", "revoke", "nobody", "--db", str(tmp_path / "a.db"))[0] == 2
    empty = tmp_path / "empty.yaml"
    save_directory(Directory(), empty)
    code, out = run("sync", "--directory", str(empty), "--target", "http://127.0.0.1:9/scim/v2", "--token", "t",
                    "assign-user", "nobody")  # fmt: skip
    assert code == 2 and "no user with login 'nobody'" in out


def _entra_people(path: Path) -> Path:
    """Ann and Bob in group eng; Cat assigned directly. The app is assigned the group and all three users."""
    users = [
        {"id": f"u-{name}", "profile": {"login": f"{name}@example.com", "email": f"{name}@example.com",
                                       "firstName": name.title(), "lastName": "Tester"}}
        for name in ("ann", "bob", "cat")
    ]  # fmt: skip
    data = {
        "version": 1,
        "users": users,
        "groups": [{"id": "g-eng", "name": "eng", "members": ["u-ann", "u-bob"]}],
        "app": {"users": ["u-ann", "u-bob", "u-cat"], "groups": ["g-eng"]},
    }
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def test_successive_entra_runs_over_an_edited_directory_behave_as_one_job(served: Served, tmp_path: Path) -> None:
    """Sync; drop a membership and unassign a user in the file; sync again: a member Remove with a value list,
    the member gone, the user disabled and never deleted; then delete the user from the directory: no DELETE."""
    people = _entra_people(tmp_path / "people.json")
    cassette = tmp_path / "entra.jsonl"
    args = ["sync", "--idp", "entra", "--directory", str(people), "--target", served.base_url,
            "--token", served.token, "--cassette", str(cassette)]  # fmt: skip
    code, out = run(*args)
    assert code == 0, out
    assert "users: 3 created" in out and "groups: 1 created" in out
    job = json.loads((tmp_path / "people.entra-job.json").read_text())
    assert job["version"] == 1 and job["target"] == served.base_url
    assert sorted(job["state"]["members_sent"]["g-eng"]) == ["u-ann", "u-bob"]

    data = json.loads(people.read_text())
    data["groups"][0]["members"] = ["u-ann"]  # Bob leaves eng (still assigned directly)
    data["app"]["users"] = ["u-ann", "u-bob"]  # Cat is unassigned
    people.write_text(json.dumps(data), encoding="utf-8")
    first = len(cassette.read_text().splitlines())
    code, out = run(*args)
    assert code == 0, out
    second = [json.loads(line) for line in cassette.read_text().splitlines()[first:]]
    patches = [ex for ex in second if ex["request"]["method"] == "PATCH"]
    links = json.loads((tmp_path / "people.entra-links.json").read_text())
    bob, cat, eng = links["users"]["u-bob"], links["users"]["u-cat"], links["groups"]["g-eng"]
    removes = [
        op for ex in patches if ex["request"]["url"].endswith(f"/Groups/{eng}")
        for op in ex["request"]["body"]["Operations"] if op["op"] == "Remove"
    ]  # fmt: skip
    assert removes == [{"op": "Remove", "path": "members", "value": [{"$ref": None, "value": bob}]}]
    with httpx.Client(base_url=served.base_url, headers={"Authorization": f"Bearer {served.token}"}) as scim:
        members = [m["value"] for m in scim.get(f"/Groups/{eng}").json().get("members", [])]
        assert bob not in members and links["users"]["u-ann"] in members
        assert scim.get(f"/Users/{cat}").json()["active"] is False
        assert scim.get(f"/Users/{bob}").json()["active"] is True

        data["users"] = [user for user in data["users"] if user["id"] != "u-cat"]  # Cat is hard-deleted in Entra
        people.write_text(json.dumps(data), encoding="utf-8")
        first = len(cassette.read_text().splitlines())
        code, out = run(*args)
        assert code == 0, out
        third = [json.loads(line) for line in cassette.read_text().splitlines()[first:]]
        assert not [ex for ex in third if ex["request"]["method"] == "DELETE"]
        assert "UnmanagedAfterOutOfScope" in out
        assert scim.get(f"/Users/{cat}").status_code == 200  # left on the server, as Entra leaves it

        code, out = run(*args)  # nothing changed: nothing but the probe is sent
        assert code == 0, out


def test_entra_restart_reset_and_a_different_target(served: Served, tmp_path: Path) -> None:
    people = _entra_people(tmp_path / "people.json")
    base = ["entra-sync", "--directory", str(people), "--token", served.token]
    assert run(*base, "--target", served.base_url)[0] == 0
    code, out = run(*base, "--target", f"{served.base_url}/../v2")
    assert code == 2 and "give --reset to start a new job" in out
    code, out = run(*base, "--target", served.base_url, "--restart", "-v")
    assert code == 0 and "provisioning restarted (links kept)" in out
    assert "EntrySynchronizationSkipped" in out  # restart re-evaluates everything: all unchanged
    code, out = run(*base, "--target", served.base_url, "--reset")
    assert code == 0 and "full reset" in out
    job = json.loads((tmp_path / "people.entra-job.json").read_text())
    assert job["state"]["cycle"] >= 1


def test_entra_on_demand_and_test_connection(served: Served, tmp_path: Path) -> None:
    people = _entra_people(tmp_path / "people.json")
    base = ["sync", "--idp", "entra", "--directory", str(people), "--target", served.base_url, "--token", served.token]
    code, out = run(*base, "test-connection")
    assert code == 0 and "test connection succeeded" in out
    code, out = run(*base, "--on-demand", "cat@example.com")
    assert code == 0 and "users: 1 created" in out
    with httpx.Client(base_url=served.base_url, headers={"Authorization": f"Bearer {served.token}"}) as scim:
        assert scim.get("/Users", params={"filter": 'userName eq "cat@example.com"'}).json()["totalResults"] == 1
        assert scim.get("/Users", params={"filter": 'userName eq "ann@example.com"'}).json()["totalResults"] == 0
    code, out = run(*base, "--on-demand", "nobody@example.com")
    assert code == 2 and "no user with login" in out


def test_entra_job_settings_from_the_command_line(served: Served, tmp_path: Path) -> None:
    """The accidental-deletion threshold and its approval, SkipOutOfScopeDeletions, a scoping filter, target actions."""
    people = _entra_people(tmp_path / "people.json")
    scim = httpx.Client(base_url=served.base_url, headers={"Authorization": f"Bearer {served.token}"})
    base = ["entra-sync", "--directory", str(people), "--target", served.base_url, "--token", served.token]
    try:
        assert run(*base)[0] == 0
        ids = json.loads((tmp_path / "people.entra-links.json").read_text())["users"]
        data = json.loads(people.read_text())
        data["groups"][0]["members"] = []
        data["app"] = {"users": ["u-ann"], "groups": ["g-eng"]}  # Bob and Cat go out of scope
        people.write_text(json.dumps(data), encoding="utf-8")

        code, out = run(*base, "--deletion-threshold", "1")
        assert code == 1 and "TooManyDeletes" in out and "2 staged" in out
        assert scim.get(f"/Users/{ids['u-bob']}").json()["active"] is True

        code, out = run(*base, "--deletion-threshold", "1", "--skip-out-of-scope-deletions", "--approve-deletions")
        assert code == 0, out
        assert out.count("[SkipOutOfScopeDeletions]") == 2
        assert scim.get(f"/Users/{ids['u-cat']}").json()["active"] is True

        code, out = run(*base, "--restart", "--deletion-threshold", "1", "--approve-deletions")
        assert code == 0, out
        assert scim.get(f"/Users/{ids['u-bob']}").json()["active"] is False
        assert scim.get(f"/Users/{ids['u-cat']}").json()["active"] is False

        scoping = tmp_path / "scope.yaml"
        scoping.write_text("- - {attribute: givenName, operator: EQUALS, value: Dan}\n", encoding="utf-8")
        data["users"].append({"id": "u-dan", "profile": {"login": "dan@example.com", "firstName": "Dan"}})
        data["users"].append({"id": "u-eve", "profile": {"login": "eve@example.com", "firstName": "Eve"}})
        data["app"]["users"] += ["u-dan", "u-eve"]
        people.write_text(json.dumps(data), encoding="utf-8")
        code, out = run(*base, "--scoping-filter", str(scoping), "--skip-out-of-scope-deletions")
        assert code == 0, out
        assert scim.get("/Users", params={"filter": 'userName eq "dan@example.com"'}).json()["totalResults"] == 1
        assert scim.get("/Users", params={"filter": 'userName eq "eve@example.com"'}).json()["totalResults"] == 0

        data["users"][0]["profile"]["lastName"] = "Renamed"  # Ann
        people.write_text(json.dumps(data), encoding="utf-8")
        code, out = run(*base, "--target-actions", "create,delete")  # the Update target action off
        assert code == 0 and "[TargetActionUpdateDisabled]" in out
        assert scim.get(f"/Users/{ids['u-ann']}").json()["name"]["familyName"] == "Tester"
    finally:
        scim.close()


def test_tls_failure_is_exit_2_and_cacert_or_insecure_let_the_run_through(tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    cacert = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cacert))

    def handle(method: str, path: str, body: bytes) -> Answer:
        return scim_json(200, SPC) if path.endswith("/ServiceProviderConfig") else empty_list()

    with serve(handle, tls=server_tls) as url:
        base = ["export", "posix", "--target", f"{url}/scim/v2", "--token", "t"]
        code, out = run(*base, "--out", str(tmp_path / "a"))
        assert code == 2 and "TLS failure" in out and "--cacert" in out and len(out.strip().splitlines()) == 1
        code, out = run(*base, "--out", str(tmp_path / "b"), "--cacert", str(cacert))
        assert code == 0, out
        assert "wrote 0 users, 0 groups" in out
        code, out = run(*base, "--out", str(tmp_path / "c"), "--insecure")
        assert code == 0, out
        code, out = run(*base, "--out", str(tmp_path / "d"), "--insecure", "--cacert", str(cacert))
        assert code == 2 and "either --cacert or --insecure" in out


def test_entra_admin_actions_are_refused_with_a_pointer(people: Path) -> None:
    code, out = run("sync", "--idp", "entra", "--directory", str(people), "--target", "http://127.0.0.1:9/scim/v2",
                    "--token", "t", "assign-user", "x")  # fmt: skip
    assert code == 2 and "single admin actions are Okta's" in out and "--on-demand" in out


def test_entra_oauth_client_credentials_and_a_token_endpoint_that_answers_404(tmp_path: Path) -> None:
    people = _entra_people(tmp_path / "people.json")
    seen: list[str] = []

    def handle(method: str, path: str, body: bytes) -> Answer:
        if path == "/oauth/token":
            return scim_json(200, {"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600})
        if path == "/missing/token":
            return 404, {"Content-Type": "text/html"}, b"<html>Not Found</html>"
        seen.append(path)
        if path.endswith("/ServiceProviderConfig"):
            return scim_json(200, SPC)
        if method == "GET":
            return empty_list()
        return scim_json(201, {"id": f"id-{len(seen)}", **json.loads(body)})

    with serve(handle) as url:
        base = ["entra-sync", "--directory", str(people), "--target", f"{url}/scim/v2", "--client-id", "app",
                "--client-secret", "s3cret"]  # fmt: skip
        code, out = run(*base, "--token-url", f"{url}/missing/token")
        assert code == 2 and "token endpoint" in out and "404" in out and len(out.strip().splitlines()) == 1
        assert seen == []  # nothing reached the SCIM endpoint without a token
        code, out = run(*base, "--token-url", f"{url}/oauth/token", "--test-connection")
        assert code == 0 and "test connection succeeded" in out, out
        code, out = run(*base, "--token-url", f"{url}/oauth/token", "--token", "also-a-token")
        assert code == 2 and "not both" in out


def test_sync_idp_entra_keeps_its_links_where_links_says(served: Served, tmp_path: Path) -> None:
    """--links is read by Entra through ``aup sync`` as by ``aup entra-sync``, never silently dropped."""
    people = _entra_people(tmp_path / "people.json")
    chosen = tmp_path / "elsewhere.json"
    args = ["sync", "--idp", "entra", "--directory", str(people), "--target", served.base_url,
            "--token", served.token, "--links", str(chosen)]  # fmt: skip
    code, out = run(*args)
    assert code == 0, out
    assert set(json.loads(chosen.read_text())["users"]) == {"u-ann", "u-bob", "u-cat"}
    assert not (tmp_path / "people.entra-links.json").exists()
