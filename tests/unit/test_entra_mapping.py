"""Custom mappings from YAML (docs/entra-idp.md §9): Direct, Constant, Expression, None, create-only, defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.core.errors import ConfigurationError
from emulators.entra import load_mappings
from scimcore import urns
from tests.unit.entra_setup import MANAGER, make_entra

CUSTOM_URN = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"

YAML = f"""
user:
  - target: title
    constant: Staff
  - target: nickName
    expression: 'ToLower(Left([givenName], 2))'
    apply: on_create
  - target: preferredLanguage
    source: preferredLanguage
    default: en-US
  - target: '{CUSTOM_URN}:costCenter'
    source: costCenter
  - target: name.formatted
    type: none
  - target: externalId
    source: mailNickname
    matching: 1
"""


def test_yaml_rows_shape_the_create_body_and_later_updates(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(YAML, encoding="utf-8")
    users, groups = load_mappings(path)
    entra, fake = make_entra(user_mapping=users, group_mapping=groups)
    entra.update_user(MANAGER, {"costCenter": "42"})
    entra.start()
    posts = [b for r, b in zip(fake.requests, fake.bodies(), strict=True) if r.method == "POST"]
    boss = next(b for b in posts if b["userName"] == "boss@contoso.test")
    assert boss["title"] == "Staff" and boss["nickName"] == "bo" and boss["preferredLanguage"] == "en-US"
    assert boss[CUSTOM_URN] == {"costCenter": "42"}
    assert CUSTOM_URN not in boss["schemas"] and urns.ENTERPRISE_USER in boss["schemas"]  # §4 custom URNs
    assert "formatted" not in boss["name"]
    # matching precedence 1 is now externalId (the old userName row lost it)
    assert any("filter=externalId+eq+%22boss%22" in url for _, url in fake.calls())
    # create-only rows and defaults are not sent on update
    entra.update_user(MANAGER, {"firstName": "Zed"})
    fake.requests.clear()
    entra.run_cycle()
    ops = fake.bodies()[-1]["Operations"]
    assert [op["path"] for op in ops] == ["name.givenName"]


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("user:\n  - target: title\n    expression: 'Nope([a])'\n", "unknown function Nope"),
        ("user:\n  - target: title\n    source: jobTitle\n    constant: x\n", "exactly one of"),
        ("user:\n  - target: title\n    source: jobTitle\n    apply: sometimes\n", "apply must be"),
        ("user:\n  - target: id\n    source: jobTitle\n", "readOnly"),
        ("nothing: here\n", "needs 'user:'"),
    ],
)
def test_bad_mapping_files_fail_before_any_request(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message):
        users, groups = load_mappings(path)
        make_entra(user_mapping=users, group_mapping=groups)
