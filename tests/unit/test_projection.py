"""attributes / excludedAttributes and the returned characteristic (RFC 7644 §3.4.2.5, §3.9; RFC 7643 §2.2)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aup_server.errors import InvalidPathError
from aup_server.scim.projection import Projection, parse_attribute_list
from scimcore import urns
from scimcore.schemas import Attribute, Schema, core_registry

REGISTRY = core_registry()
E = urns.ENTERPRISE_USER
USER = {
    "schemas": [urns.USER, E],
    "id": "u1",
    "externalId": "ext-1",
    "userName": "bjensen",
    "name": {"givenName": "Barbara", "familyName": "Jensen"},
    "emails": [{"value": "b@example.com", "type": "work", "primary": True}, {"value": "h@example.com", "type": "home"}],
    "password": "s3cret",
    "groups": [{"value": "g1", "display": "Admins", "$ref": "https://x/Groups/g1"}],
    E: {"employeeNumber": "7", "manager": {"value": "m1", "displayName": "Boss"}},
    "meta": {"resourceType": "User", "version": 'W/"3"'},
}
GROUP = {
    "schemas": [urns.GROUP],
    "id": "g1",
    "displayName": "Admins",
    "members": [{"value": "u1", "display": "bjensen", "type": "User", "$ref": "https://x/Users/u1"}],
    "meta": {"resourceType": "Group"},
}


def project(
    doc: dict[str, Any], attributes: str | None = None, excluded: str | None = None, rtype: str = "User"
) -> Any:
    return Projection.parse(attributes, excluded, REGISTRY, rtype).project(doc)


def test_by_default_everything_but_never_returned_attributes_comes_back() -> None:
    expected = {k: v for k, v in USER.items() if k != "password"}
    assert project(USER) == expected


def test_attributes_returns_only_those_plus_id_and_schemas() -> None:
    assert project(USER, "userName") == {"schemas": USER["schemas"], "id": "u1", "userName": "bjensen"}


def test_names_are_case_insensitive_and_may_be_core_qualified() -> None:
    assert project(USER, f"USERNAME, {urns.USER}:externalid") == {
        "schemas": USER["schemas"],
        "id": "u1",
        "userName": "bjensen",
        "externalId": "ext-1",
    }


def test_a_sub_attribute_selects_only_that_part() -> None:
    assert project(USER, "name.givenName")["name"] == {"givenName": "Barbara"}
    assert project(USER, "emails.value")["emails"] == [{"value": "b@example.com"}, {"value": "h@example.com"}]


def test_extension_sub_attributes_are_selected_under_their_urn() -> None:
    assert project(USER, f"{E}:manager.value") == {
        "schemas": USER["schemas"],
        "id": "u1",
        E: {"manager": {"value": "m1"}},
    }


def test_excluding_a_sub_attribute_keeps_the_rest() -> None:
    assert project(USER, excluded="name.givenName")["name"] == {"familyName": "Jensen"}
    assert project(USER, excluded="emails.primary")["emails"][0] == {"value": "b@example.com", "type": "work"}


def test_always_returned_attributes_cannot_be_excluded() -> None:
    doc = project(USER, excluded="id,schemas,userName")
    assert doc["id"] == "u1"
    assert doc["schemas"] == USER["schemas"]
    assert "userName" not in doc


def test_never_returned_attributes_cannot_be_asked_for() -> None:
    assert "password" not in project(USER, "password,userName")


def test_excluding_members_drops_them_and_the_store_need_not_load_them() -> None:
    projection = Projection.parse(None, "members", REGISTRY, "Group")
    assert projection.project(GROUP) == {k: v for k, v in GROUP.items() if k != "members"}
    assert not projection.needs("members")


@pytest.mark.parametrize(
    ("attributes", "excluded", "needed"),
    [
        (None, None, True),
        ("displayName", None, False),
        ("members.value", None, True),
        ("MEMBERS", None, True),
        (None, "members.display", True),
        ("members", "members", False),
    ],
)
def test_needs_says_whether_members_will_be_returned(
    attributes: str | None, excluded: str | None, needed: bool
) -> None:
    assert Projection.parse(attributes, excluded, REGISTRY, "Group").needs("members") is needed


def test_needs_groups_for_users() -> None:
    assert Projection.parse(None, None, REGISTRY, "User").needs("groups")
    assert not Projection.parse(None, "groups", REGISTRY, "User").needs("groups")
    assert not Projection.parse("userName", None, REGISTRY, "User").needs("groups")


def test_attributes_and_excluded_attributes_together_select_then_remove() -> None:
    doc = project(USER, "name,emails", "name.familyName,emails")
    assert doc == {"schemas": USER["schemas"], "id": "u1", "name": {"givenName": "Barbara"}}


def test_an_attribute_no_resource_type_has_is_invalid_path() -> None:
    with pytest.raises(InvalidPathError, match="shoeSize"):
        Projection.parse("userName,shoeSize", None, REGISTRY, "User")
    with pytest.raises(InvalidPathError):
        Projection.parse(None, "name.nick", REGISTRY, "User")


def test_an_attribute_of_another_resource_type_selects_nothing_here() -> None:
    """A root-level search with attributes=userName covers Groups too (RFC 7644 §3.4.3)."""
    assert project(GROUP, "userName", rtype="Group") == {"schemas": GROUP["schemas"], "id": "g1"}


def test_parse_attribute_list_skips_blanks_and_schemas() -> None:
    paths = parse_attribute_list(" userName , ,schemas,name.givenName", REGISTRY, "User")
    assert [(p.attribute.name, p.sub_attribute.name if p.sub_attribute else None) for p in paths] == [
        ("userName", None),
        ("name", "givenName"),
    ]
    assert parse_attribute_list(None, REGISTRY, "User") == ()


def test_request_returned_attributes_only_come_back_when_asked_for() -> None:
    extra = Schema("urn:example:scim:1.0:Audit", "Audit", "", (Attribute("lastLogin", "dateTime", returned="request"),))
    registry = core_registry(extensions=(("User", extra),))
    doc = {
        "schemas": [urns.USER, extra.id],
        "id": "u1",
        "userName": "b",
        extra.id: {"lastLogin": "2024-05-01T00:00:00Z"},
    }
    assert extra.id not in Projection.parse(None, None, registry, "User").project(doc)
    asked = Projection.parse(f"{extra.id}:lastLogin", None, registry, "User").project(doc)
    assert asked[extra.id] == {"lastLogin": "2024-05-01T00:00:00Z"}


def test_project_does_not_modify_its_input() -> None:
    before = copy.deepcopy(USER)
    project(USER, "name.givenName", "emails")
    assert before == USER


def test_an_empty_member_list_is_returned_as_an_empty_array() -> None:
    """Entra's Create Group expects "members": [] back (docs/entra-idp.md §4)."""
    assert project({**GROUP, "members": []}, rtype="Group")["members"] == []
    assert "members" not in project({**GROUP, "members": []}, "displayName", rtype="Group")
