"""The `aup` command line: token management and one-line errors for bad input."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from aup.cli import main
from aup_server.auth import authenticate
from aup_server.store import SqliteStore


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_token_create_list_revoke(tmp_path: Path) -> None:
    db = str(tmp_path / "aup.db")
    code, out = run("token", "create", "okta", "--tenant", "acme", "--db", db)
    assert code == 0
    secret = out.strip()
    assert secret.startswith("aup_")
    store = SqliteStore(db)
    assert authenticate(store, f"Bearer {secret}", "acme").name == "okta"
    store.close()

    code, out = run("token", "list", "--db", db)
    assert code == 0
    assert "acme\tokta" in out
    assert "active" in out
    assert secret not in out

    code, out = run("token", "create", "okta", "--tenant", "acme", "--db", db)
    assert code == 1
    assert "already exists" in out

    assert run("token", "revoke", "okta", "--tenant", "acme", "--db", db)[0] == 0
    code, out = run("token", "list", "--tenant", "acme", "--db", db)
    assert "revoked" in out
    code, out = run("token", "revoke", "okta", "--tenant", "acme", "--db", db)
    assert code == 1
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
    assert code == 1
    assert out.startswith("Error: schema id must be a URN")
    assert len(out.strip().splitlines()) == 1


def test_unopenable_database_is_a_one_line_error(tmp_path: Path) -> None:
    code, out = run("token", "list", "--db", str(tmp_path / "missing-dir" / "aup.db"))
    assert code == 1
    assert out.startswith("Error: cannot open database")
    assert len(out.strip().splitlines()) == 1
