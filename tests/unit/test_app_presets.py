"""The named app presets of ``aup sync --app``: CoreWeave's AUP attribute set, with SUNK SSH keys in the
extension the server reads them from (docs/domain.md §1.2, docs/posix.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aup.cli import main
from aup_server.scim.resource import coerce_value
from emulators.core.generator import SSH_KEY_ATTRIBUTE
from emulators.core.mapping import load_mapping
from emulators.entra.apps import APPS as ENTRA_APPS
from emulators.entra.apps import COREWEAVE
from emulators.entra.mapping import load_mappings
from emulators.okta import OKTA_OIN, OktaEmulator
from emulators.okta.apps import APPS as OKTA_APPS
from emulators.okta.apps import app_mapping
from scimcore.client import BearerAuth, make_http
from scimcore.schemas.posix import COREWEAVE_USER_URN, DEFAULT_SSH_KEYS_SOURCE, ssh_source_schema
from tests.unit.entra_setup import TUT_UPN, TUT_USER, make_entra, tut_directory
from tests.unit.okta_setup import TEST_USER_ID, s20_directory
from tests.unit.scim_fake import BASE_URL, FakeScim

KEYS = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFCko6bQf1wMMy+LEiQIP9IrkC+JEegYGPjJnV1dmDGV ann@laptop",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHUE2Q6UXeLo9U7ngcx19jbYUJkJWqMAFlpnA2+bVA1r ann@desk",
]
KEYS_ATTRIBUTE = DEFAULT_SSH_KEYS_SOURCE.rsplit(":", 1)[1]


def _posts(fake: FakeScim) -> list[Any]:
    return [b for r, b in zip(fake.requests, fake.bodies(), strict=True) if r.method == "POST" and "userName" in b]


def test_both_idps_offer_the_same_app_names() -> None:
    assert sorted(OKTA_APPS) == sorted(ENTRA_APPS) == ["coreweave"]


def test_okta_coreweave_sends_the_keys_as_an_array_in_coreweaves_extension() -> None:
    directory = s20_directory()
    directory.custom_attributes = (SSH_KEY_ATTRIBUTE,)
    directory.users[TEST_USER_ID].profile[SSH_KEY_ATTRIBUTE] = KEYS
    fake = FakeScim()
    http = make_http(fake.transport, BearerAuth("t0ken"), base_url=BASE_URL)
    okta = OktaEmulator(directory, http, OKTA_OIN, mapping=app_mapping("coreweave"))
    okta.assign_user(TEST_USER_ID)
    (post,) = _posts(fake)
    assert post[COREWEAVE_USER_URN] == {KEYS_ATTRIBUTE: KEYS}
    assert post["name"] == {"givenName": "Test", "familyName": "User"} and post["active"] is True
    assert post["emails"][0]["value"] == "test.user@okta.local"


def test_entra_coreweave_is_a_non_gallery_app_sending_the_keys_as_one_string() -> None:
    """docs/entra-idp.md §4: a non-gallery app's custom attribute is single-valued; one key per line (inferred)."""
    assert COREWEAVE.gallery_app is False
    directory = tut_directory()
    directory.core.custom_attributes = (SSH_KEY_ATTRIBUTE,)
    directory.core.users[TUT_USER].profile[SSH_KEY_ATTRIBUTE] = KEYS
    users, groups = COREWEAVE.mappings()
    entra, fake = make_entra(directory=directory, user_mapping=users, group_mapping=groups)
    entra.start()
    (post,) = [b for b in _posts(fake) if b["userName"] == TUT_UPN]
    assert post[COREWEAVE_USER_URN] == {KEYS_ATTRIBUTE: "\n".join(KEYS)}
    assert post["name"]["givenName"] == "givenName" and post["active"] is True


def test_a_mapping_file_merges_over_the_preset(tmp_path: Path) -> None:
    okta_file = tmp_path / "okta.yaml"
    okta_file.write_text("rules:\n  title: user.title\n", encoding="utf-8")
    okta = load_mapping(okta_file, app_mapping("coreweave"))
    assert {"title", DEFAULT_SSH_KEYS_SOURCE} <= {rule.target for rule in okta.rules}
    entra_file = tmp_path / "entra.yaml"
    entra_file.write_text("user:\n  - {target: nickName, source: mailNickname}\n", encoding="utf-8")
    users, _ = load_mappings(entra_file, *COREWEAVE.mappings())
    assert {"nickName", DEFAULT_SSH_KEYS_SOURCE} <= {rule.target for rule in users.rules}


def test_the_server_takes_the_key_source_as_one_string_of_lines() -> None:
    (attribute,) = ssh_source_schema(COREWEAVE_USER_URN, KEYS_ATTRIBUTE).attributes
    assert coerce_value(attribute, "\n".join(KEYS) + "\n", KEYS_ATTRIBUTE) == KEYS


@pytest.mark.parametrize("command", [["sync"], ["sync", "--idp", "entra"], ["entra-sync"]])
def test_an_unknown_app_is_a_one_line_usage_error_listing_the_choices(command: list[str], tmp_path: Path) -> None:
    people = tmp_path / "people.yaml"
    people.write_text("version: 1\nusers: []\n", encoding="utf-8")
    args = [*command, "--app", "acme", "--directory", str(people), "--target", "http://127.0.0.1:9/scim/v2"]
    result = CliRunner().invoke(main, [*args, "--token", "t"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["Error: --app 'acme' is not a known app; choose from coreweave"]
