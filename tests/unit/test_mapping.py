from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emulators.core.directory import BASE_ATTRIBUTES
from emulators.core.errors import ConfigurationError
from emulators.core.mapping import AttributeMapping, MappingRule, TargetPath, load_mapping
from emulators.okta.default_mapping import OKTA_DEFAULT_MAPPING
from emulators.okta.expression import compile_expression
from scimcore import urns

KNOWN = frozenset(BASE_ATTRIBUTES) | {"sshPublicKeys"}
TEST_USER = {
    "login": "test.user@okta.local",
    "email": "test.user@okta.local",
    "firstName": "Test",
    "lastName": "User",
    "displayName": "Test User",
    "locale": "en-US",
}


def compiled(mapping: AttributeMapping = OKTA_DEFAULT_MAPPING) -> Any:
    return mapping.compile(compile_expression, KNOWN)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("userName", TargetPath("userName")),
        ("name.givenName", TargetPath("name", sub="givenName")),
        ("emails.^[primary==true].value", TargetPath("emails", "value", ("primary", True))),
        ('emails[type eq "work"].value', TargetPath("emails", "value", ("type", "work"))),
        (f"{urns.ENTERPRISE_USER}:department", TargetPath("department", urn=urns.ENTERPRISE_USER)),
        (f"{urns.ENTERPRISE_USER}:manager.value", TargetPath("manager", "value", urn=urns.ENTERPRISE_USER)),
    ],
)
def test_target_paths_in_okta_and_scim_notation(text: str, expected: TargetPath) -> None:
    assert TargetPath.parse(text) == expected
    assert TargetPath.parse(str(expected)) == expected


@pytest.mark.parametrize("text", ["", "emails.^[primary==true]", "a b", "emails[type eq work].value"])
def test_unreadable_target_paths_are_configuration_errors(text: str) -> None:
    with pytest.raises(ConfigurationError):
        TargetPath.parse(text)


def test_default_mapping_gives_the_documented_create_attributes() -> None:
    """docs/okta-idp.md §4.3: the mapped part of the sample body in Okta's SCIM 2.0 reference."""
    assert compiled().build(TEST_USER) == {
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
    }


def test_phone_rows_appear_only_with_a_phone() -> None:
    built = compiled().build({**TEST_USER, "primaryPhone": "+1 555 0100"})
    assert built["phoneNumbers"] == [{"primary": True, "value": "+1 555 0100", "type": "work"}]


def test_write_into_overwrites_mapped_values_and_keeps_the_rest() -> None:
    server = {
        "id": "abc",
        "userName": "old@x",
        "name": {"givenName": "Old", "familyName": "User", "formatted": "Old User"},
        "emails": [{"primary": True, "value": "old@x", "type": "work", "display": "old@x"}, {"value": "b@x"}],
        "title": "kept",
        "meta": {"resourceType": "User"},
    }
    merged = compiled().write_into(server, {**TEST_USER, "displayName": None})
    assert merged["name"] == {"givenName": "Test", "familyName": "User", "formatted": "Old User"}
    assert merged["emails"][0] == {"primary": True, "value": "test.user@okta.local", "type": "work", "display": "old@x"}
    assert merged["emails"][1] == {"value": "b@x"}
    assert merged["title"] == "kept" and merged["meta"] == {"resourceType": "User"}
    assert "displayName" not in merged


def test_emptied_values_remove_attributes_and_emptied_containers() -> None:
    doc = compiled().build(TEST_USER)
    compiled().write_into(doc, {**TEST_USER, "email": "", "firstName": None, "lastName": None})
    assert "emails" not in doc and "name" not in doc


def test_attribute_names_match_case_insensitively_on_merge() -> None:
    doc = {"UserName": "old", "NAME": {"GivenName": "Old"}}
    compiled().write_into(doc, TEST_USER)
    assert doc["UserName"] == "test.user@okta.local" and doc["NAME"]["GivenName"] == "Test"


def test_extension_and_custom_namespaces() -> None:
    custom = "urn:example:params:scim:schemas:extension:acme:2.0:User"
    mapping = OKTA_DEFAULT_MAPPING.merged(
        [
            MappingRule(f"{urns.ENTERPRISE_USER}:department", "user.department"),
            MappingRule(f"{custom}:sshKeys", "user.sshPublicKeys"),
        ]
    )
    built = compiled(mapping).build({**TEST_USER, "department": "Sales", "sshPublicKeys": ["ssh-ed25519 AAA"]})
    assert built[urns.ENTERPRISE_USER] == {"department": "Sales"}
    assert built[custom] == {"sshKeys": ["ssh-ed25519 AAA"]}
    empty = compiled(mapping).write_into(built, {**TEST_USER, "department": "", "sshPublicKeys": []})
    assert urns.ENTERPRISE_USER not in empty and custom not in empty


def test_every_bad_rule_is_reported_before_anything_runs() -> None:
    bad = OKTA_DEFAULT_MAPPING.merged(
        [
            MappingRule("title", "user.titel"),
            MappingRule("groups", "user.department"),
            MappingRule("name.givnName", "user.firstName"),
            MappingRule("nickName", "String.trim(user.nickName)"),
        ]
    )
    with pytest.raises(ConfigurationError) as caught:
        compiled(bad)
    message = str(caught.value)
    assert "\n" not in message
    assert "did you mean user.title" in message
    assert "groups is readOnly" in message
    assert "name.givnName is not an attribute of the core User schema" in message
    assert "unknown function String.trim" in message


def test_custom_yaml_extends_replaces_and_removes_rules(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "rules:\n"
        "  userName: user.email\n"
        "  title: String.toUpperCase(user.title)\n"
        "  locale: null\n"
        f"  {urns.ENTERPRISE_USER}:department: user.department\n",
        encoding="utf-8",
    )
    mapping = load_mapping(path, OKTA_DEFAULT_MAPPING)
    targets = [rule.target for rule in mapping.rules]
    assert "locale" not in targets and "title" in targets
    built = compiled(mapping).build({**TEST_USER, "email": "e@x", "title": "cto", "department": "R&D"})
    assert built["userName"] == "e@x" and built["title"] == "CTO" and "locale" not in built
    assert built[urns.ENTERPRISE_USER] == {"department": "R&D"}


def test_custom_yaml_can_replace_the_default_mapping(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("replace: true\nrules:\n  userName: user.login\n", encoding="utf-8")
    assert compiled(load_mapping(path, OKTA_DEFAULT_MAPPING)).build(TEST_USER) == {"userName": TEST_USER["login"]}


def test_mapping_file_without_rules_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("userName: user.login\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="needs 'rules:'"):
        load_mapping(path, OKTA_DEFAULT_MAPPING)


def test_every_default_rule_carries_provenance() -> None:
    assert all(rule.provenance.startswith(("docs/okta-idp.md", "inferred")) for rule in OKTA_DEFAULT_MAPPING.rules)
