"""The `aup` command line: token management and one-line errors for bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from aup.cli import main
from aup_server.auth import authenticate
from aup_server.store import Store
from emulators.core.directory import AppAssignments, Directory, Group, User, save_directory

from .conftest import Served


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_token_create_list_revoke(tmp_path: Path, make_store: Callable[..., Store]) -> None:
    db = str(tmp_path / "aup.db")
    code, out = run("token", "create", "okta", "--tenant", "acme", "--db", db)
    assert code == 0
    secret = out.strip()
    assert secret.startswith("aup_")
    store = make_store(db=db)
    assert authenticate(store, f"Bearer {secret}", "acme").name == "okta"
    store.close()

    code, out = run("token", "list", "--db", db)
    assert code == 0
    assert "acme\tokta" in out
    assert "active" in out
    assert secret not in out

    code, out = run("token", "create", "okta", "--tenant", "acme", "--db", db)
    assert code == 2
    assert "already exists" in out

    assert run("token", "revoke", "okta", "--tenant", "acme", "--db", db)[0] == 0
    code, out = run("token", "list", "--tenant", "acme", "--db", db)
    assert "revoked" in out
    code, out = run("token", "revoke", "okta", "--tenant", "acme", "--db", db)
    assert code == 2
    assert out.strip() == "Error: no active token named 'okta' for tenant 'acme'"


def test_bad_tenant_name_is_a_usage_error(tmp_path: Path) -> None:
    code, out = run("token", "create", "x", "--tenant", "Bad Tenant!", "--db", str(tmp_path / "a.db"))
    assert code == 2
    assert "invalid tenant name" in out
    assert "Traceback" not in out


def test_serve_reports_bad_extension_file_in_one_line(tmp_path: Path) -> None:
    ext = tmp_path / "ext.yaml"
    ext.write_text("- id: not-a-urn\n  attributes: []\n", encoding="utf-8")
    code, out = run("serve", "--db", str(tmp_path / "a.db"), "--extension", str(ext), "--port", "0")
    assert code == 2
    assert out.startswith("Error: schema id must be a URN")
    assert len(out.strip().splitlines()) == 1


def test_unopenable_database_is_a_one_line_error(tmp_path: Path) -> None:
    code, out = run("token", "list", "--db", str(tmp_path / "missing-dir" / "aup.db"))
    assert code == 2
    assert out.startswith("Error: cannot open database")
    assert len(out.strip().splitlines()) == 1


@pytest.mark.network
def test_sync_directory_with_both_idps_against_a_served_process(served: Served, tmp_path: Path) -> None:
    """The README's end-to-end path: generate a directory, then sync it as Okta and as Entra."""
    directory = tmp_path / "people.yaml"
    assert (
        run("directory", "generate", "--users", "12", "--groups", "2", "--seed", "3", "--out", str(directory))[0] == 0
    )
    code, out = run("sync", "--directory", str(directory), "--target", served.base_url, "--token", served.token)
    assert code == 0, out
    assert "0 failed" in out
    with httpx.Client(base_url=served.base_url, headers={"Authorization": f"Bearer {served.token}"}) as c:
        okta_users = c.get("/Users", params={"count": 0}).json()["totalResults"]
    assert okta_users > 0

    entra_links = tmp_path / "entra.links.json"
    code, out = run(
        "sync",
        "--idp",
        "entra",
        "--cycles",
        "2",
        "--directory",
        str(directory),
        "--target",
        f"{served.base_url}?aadOptscim062020",
        "--token",
        served.token,
        "--links",
        str(entra_links),
    )
    assert code == 0, out
    assert "cycle 1 (initial)" in out
    assert "cycle 2 (incremental)" in out
    code, out = run(
        "sync",
        "--idp",
        "entra",
        "--directory",
        str(directory),
        "--target",
        served.base_url,
        "--token",
        served.token,
        "test-connection",
    )
    assert code == 0, out
    assert "test connection succeeded" in out


def test_okta_link_group_needs_an_import_from_an_earlier_run(served: Served, tmp_path: Path) -> None:
    """Link Group offers only the app groups Okta imported (docs/okta-idp.md §7); the import is kept with the
    tasks, so a later run links; without it the link is a one-line refusal (exit 2) and nothing is sent."""
    directory = tmp_path / "people.yaml"
    ann = User("ann", {"login": "ann@example.test", "email": "ann@example.test", "firstName": "Ann", "lastName": "Lee"})
    team = Group("team", "Team", members=["ann"])
    save_directory(Directory({"ann": ann}, {"team": team}, AppAssignments(users=["ann"])), directory)
    target = ("--directory", str(directory), "--target", served.base_url, "--token", served.token)
    headers = {"Authorization": f"Bearer {served.token}"}
    with httpx.Client(base_url=served.base_url, headers=headers) as c:
        existing = c.post(
            "/Groups", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "App team"}
        ).json()
    group_id = "team"
    code, out = run("sync", *target, "push-group", group_id, "--link-to", existing["id"])
    assert code == 2 and "is not an app group Okta has imported" in out, out
    code, out = run("sync", "--import-groups", *target, "import")
    assert code == 0 and "1 groups" in out, out
    code, out = run("sync", *target, "push-group", group_id, "--link-to", existing["id"])
    assert code == 0, out
    with httpx.Client(base_url=served.base_url, headers=headers) as c:
        groups = c.get("/Groups").json()["Resources"]
    assert [g["id"] for g in groups] == [existing["id"]], "linked, not created again"


def test_okta_import_confirms_matches_so_the_next_run_updates(served: Served, tmp_path: Path) -> None:
    """`aup sync import --confirm exact` links the app users that match Okta users; a later sync of the directory
    updates them (GET and PUT) instead of creating them again."""
    headers = {"Authorization": f"Bearer {served.token}"}
    with httpx.Client(base_url=served.base_url, headers=headers) as c:
        body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ann@example.test",
                "name": {"givenName": "Old", "familyName": "Name"}, "active": True}  # fmt: skip
        existing = c.post("/Users", json=body).json()
    directory = tmp_path / "people.yaml"
    ann = User("ann", {"login": "ann@example.test", "email": "ann@example.test", "firstName": "Ann", "lastName": "Lee"})
    save_directory(Directory({"ann": ann}, {}, AppAssignments(users=["ann"])), directory)
    target = ("--directory", str(directory), "--target", served.base_url, "--token", served.token)
    code, out = run("sync", *target, "import", "--confirm", "exact")
    assert code == 0 and "1 exact, 0 partial, 0 unmatched; 1 confirmed" in out, out
    code, out = run("sync", *target, "update-user", "ann", "--set", "lastName=Lee-Smith")
    assert code == 0, out
    with httpx.Client(base_url=served.base_url, headers=headers) as c:
        users = c.get("/Users").json()["Resources"]
    assert [(u["id"], u["name"]["familyName"]) for u in users] == [(existing["id"], "Lee-Smith")]
