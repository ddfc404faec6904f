"""The seed path end to end over a real ``aup serve``: ``aup directory generate`` -> ``aup sync --app coreweave``
(Okta and Entra) -> ``aup export posix``, with the generated SSH keys in ``sshkey.cache`` (docs/posix.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from aup.cli import main
from aup_server.posix import derive_username
from emulators.core.directory import Status, load_directory
from emulators.core.generator import SSH_KEY_ATTRIBUTE
from tests.integration.conftest import Served

pytestmark = pytest.mark.network


def aup(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, f"aup {' '.join(args[:2])} exited {result.exit_code}: {result.output}"
    return result.output


def generated_keys(people: Path) -> dict[str, list[str]]:
    """login -> SSH keys of the users the app is assigned to that have any (only they are provisioned)."""
    return {
        user.login: user.profile[SSH_KEY_ATTRIBUTE]
        for user in load_directory(people).assigned_users()
        if user.status is Status.ACTIVE and user.profile.get(SSH_KEY_ATTRIBUTE)
    }


@pytest.mark.parametrize("idp", ["okta", "entra"])
def test_coreweave_preset_carries_generated_ssh_keys_into_the_sshkey_cache(
    served: Served, tmp_path: Path, idp: str
) -> None:
    people, out = tmp_path / "people.yaml", tmp_path / "export"
    aup("directory", "generate", "--users", "12", "--groups", "2", "--seed", "7", "--out", str(people))
    connection = ("--target", served.base_url, "--token", served.token)
    aup("sync", "--idp", idp, "--app", "coreweave", "--directory", str(people), *connection, "--no-progress")
    aup("export", "posix", *connection, "--out", str(out))

    lines = (out / "sshkey.cache").read_text(encoding="utf-8").splitlines()
    by_name = dict(line.split(":", 1) for line in lines)
    keys = generated_keys(people)
    assert keys, "the seed generates users with SSH keys"
    for login, expected in keys.items():
        line = by_name.get(derive_username(login))
        assert line, f"no sshkey.cache line for {login}"
        assert all(key in line for key in expected)
