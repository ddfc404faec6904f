"""Entra custom extension attributes that are multi-valued, complex or references (docs/entra-idp.md §4 (documented)):
sent as JSON arrays by a gallery app, refused in a non-gallery app's mapping."""

from __future__ import annotations

from typing import Any

import pytest

from emulators.core.errors import ConfigurationError
from emulators.entra import ENTRA_SCIM062020, EntraSettings
from emulators.entra.mapping import DEFAULT_USER_MAPPING, EntraRule, mappings_from_data
from tests.unit.entra_setup import TUT_UPN, TUT_USER, make_entra, tut_directory

CUSTOM = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"
KEYS = ["ssh-ed25519 AAAAC3Nz ann@laptop", "ssh-rsa AAAAB3Nz ann@desk"]


def _entra(rule: EntraRule, keys: Any, **kwargs: Any) -> Any:
    directory = tut_directory()
    directory.core.custom_attributes = ("sshKeys",)
    directory.core.users[TUT_USER].profile["sshKeys"] = keys
    settings = EntraSettings(gallery_app=True)
    return make_entra(
        directory=directory, user_mapping=DEFAULT_USER_MAPPING.merged([rule]), settings=settings, **kwargs
    )


@pytest.mark.parametrize(
    "row",
    [
        {"target": f"{CUSTOM}:sshKeys", "source": "sshKeys", "multi_valued": True},
        {"target": f"{CUSTOM}:badge", "source": "sshKeys", "attribute_type": "complex"},
        {"target": f"{CUSTOM}:buddy", "source": "sshKeys", "attribute_type": "Reference"},
    ],
)
def test_a_non_gallery_app_cannot_map_a_multi_valued_complex_or_reference_custom_attribute(row: dict[str, Any]) -> None:
    users, _ = mappings_from_data({"user": [row]}, "mapping.yaml")
    directory = tut_directory()
    directory.core.custom_attributes = ("sshKeys",)
    with pytest.raises(ConfigurationError, match="non-gallery app cannot map") as caught:
        make_entra(directory=directory, user_mapping=users)
    assert "gallery_app" in str(caught.value) and row["target"] in str(caught.value)


def test_the_rule_is_about_custom_extensions_only() -> None:
    """Core multi-valued attributes (emails, ...) are the schema's own, not custom extension attributes."""
    users, _ = mappings_from_data(
        {"user": [{"target": 'emails[type eq "home"].value', "source": "mail", "multi_valued": True}]}, "m.yaml"
    )
    make_entra(user_mapping=users)


def test_a_gallery_app_sends_a_multi_valued_extension_attribute_as_a_json_array() -> None:
    rule = EntraRule(f"{CUSTOM}:sshKeys", "direct", "sshKeys", multi_valued=True)
    entra, fake = _entra(rule, KEYS)
    entra.start()
    (post,) = [
        b
        for r, b in zip(fake.requests, fake.bodies(), strict=True)
        if r.method == "POST" and b.get("userName") == TUT_UPN
    ]
    assert post[CUSTOM] == {"sshKeys": KEYS} and CUSTOM not in post["schemas"]
    entra.update_user(TUT_USER, {"sshKeys": KEYS[:1]})
    fake.requests.clear()
    entra.run_cycle()
    ops = [
        op for r, b in zip(fake.requests, fake.bodies(), strict=True) if r.method == "PATCH" for op in b["Operations"]
    ]
    assert ops == [{"op": "Replace", "path": f"{CUSTOM}:sshKeys", "value": KEYS[:1]}]


def test_a_single_value_for_a_multi_valued_target_is_a_one_element_array_in_each_dialect() -> None:
    rule = EntraRule(f"{CUSTOM}:sshKeys", "direct", "sshKeys", multi_valued=True)
    entra, fake = _entra(rule, KEYS[0], profile=ENTRA_SCIM062020)
    entra.start()
    (post,) = [
        b
        for r, b in zip(fake.requests, fake.bodies(), strict=True)
        if r.method == "POST" and b.get("userName") == TUT_UPN
    ]
    assert post[CUSTOM] == {"sshKeys": KEYS[:1]}
