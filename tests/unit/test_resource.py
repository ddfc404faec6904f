"""POST and PUT bodies to stored documents (RFC 7643 §2, RFC 7644 §3.3, §3.5.1)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aup_server.errors import InvalidSyntaxError, InvalidValueError, MutabilityError
from aup_server.scim.resource import member_refs, normalize, resolve
from scimcore import urns
from scimcore.schemas import Attribute, Schema, core_registry

REGISTRY = core_registry()
E = urns.ENTERPRISE_USER
CUSTOM = Schema(
    "urn:example:scim:1.0:Badge",
    "Badge",
    "A test extension with every attribute type.",
    (
        Attribute("serial", mutability="immutable"),
        Attribute("level", "integer"),
        Attribute("ratio", "decimal"),
        Attribute("issued", "dateTime"),
        Attribute("photo", "binary"),
        Attribute("site", "reference"),
        Attribute("tags", multi_valued=True),
        Attribute("ok", "boolean"),
    ),
)
CUSTOM_REGISTRY = core_registry(extensions=(("User", CUSTOM),))


def user_body(**extra: Any) -> dict[str, Any]:
    return {"schemas": [urns.USER], "userName": "bjensen", **extra}


def user(**extra: Any) -> dict[str, Any]:
    return normalize(user_body(**extra), REGISTRY, "User")


def badge(**values: Any) -> dict[str, Any]:
    return normalize(user_body(**{CUSTOM.id: values}), CUSTOM_REGISTRY, "User")


# -- names ---------------------------------------------------------------------------------------


def test_attribute_names_are_canonicalised_at_every_level() -> None:
    doc = normalize(
        {
            "SCHEMAS": [urns.USER.lower(), E.upper()],
            "USERNAME": "Bjensen",
            "Name": {"GIVENNAME": "Barbara"},
            "Emails": [{"VALUE": "b@example.com", "Type": "work"}],
            E.lower(): {"EmployeeNumber": "7"},
        },
        REGISTRY,
        "User",
    )
    assert doc == {
        "schemas": [urns.USER, E],
        "userName": "Bjensen",
        "name": {"givenName": "Barbara"},
        "emails": [{"value": "b@example.com", "type": "work"}],
        E: {"employeeNumber": "7"},
    }


def test_urn_qualified_top_level_keys_nest_under_their_extension() -> None:
    doc = user(**{f"{E}:employeeNumber": "7", f"{E}:manager": {"value": "m1"}})
    assert doc[E] == {"employeeNumber": "7", "manager": {"value": "m1"}}
    assert doc["schemas"] == [urns.USER, E]


def test_core_qualified_names_are_core_attributes() -> None:
    assert user(**{f"{urns.USER}:nickName": "Babs"})["nickName"] == "Babs"


def test_the_same_attribute_twice_in_different_case_is_refused() -> None:
    with pytest.raises(InvalidSyntaxError, match="twice"):
        user(nickName="a", NICKNAME="b")


def test_unknown_attribute_names_the_schema_and_suggests_an_extension() -> None:
    with pytest.raises(InvalidSyntaxError) as caught:
        user(shoeSize="9")
    assert "shoeSize" in caught.value.detail
    assert urns.USER in caught.value.detail
    assert "extension" in caught.value.detail


def test_unknown_sub_attribute_is_refused() -> None:
    with pytest.raises(InvalidSyntaxError, match="nick"):
        user(name={"nick": "B"})


def test_extension_data_under_an_unconfigured_urn_is_refused() -> None:
    with pytest.raises(InvalidSyntaxError, match="urn:example:other"):
        user(**{"urn:example:other:1.0:User": {"x": "1"}})


def test_dotted_names_belong_to_patch_paths_only() -> None:
    with pytest.raises(InvalidSyntaxError, match="dotted"):
        user(**{f"{E}:manager.value": "m1"})


def test_resolve_falls_back_to_the_one_extension_defining_a_bare_name() -> None:
    found = resolve(REGISTRY, "User", "MANAGER")
    assert found is not None
    assert (found.extension, found.attribute.name) == (E, "manager")
    assert resolve(REGISTRY, "Group", "manager") is None


# -- schemas -------------------------------------------------------------------------------------


@pytest.mark.parametrize("schemas", ["urn:ietf:params:scim:schemas:core:2.0:User", [E], [urns.GROUP], [1]])
def test_schemas_must_be_a_list_naming_the_core_schema(schemas: Any) -> None:
    with pytest.raises(InvalidSyntaxError, match="schemas"):
        normalize({"schemas": schemas, "userName": "b"}, REGISTRY, "User")


def test_a_body_without_schemas_is_read_as_the_core_schema() -> None:
    assert normalize({"userName": "b"}, REGISTRY, "User") == {"schemas": [urns.USER], "userName": "b"}


def test_schemas_lists_only_extensions_that_carry_data() -> None:
    assert user(schemas=[urns.USER, E])["schemas"] == [urns.USER]
    assert user(schemas=[urns.USER, E], **{E: {}})["schemas"] == [urns.USER]


def test_unknown_schema_uris_without_data_are_ignored() -> None:
    doc = normalize(
        {"schemas": [urns.GROUP, "http://schemas.example.com/Group"], "displayName": "G"}, REGISTRY, "Group"
    )
    assert doc == {"schemas": [urns.GROUP], "displayName": "G"}


def test_an_extension_object_may_name_its_own_schema() -> None:
    """RFC 7643 §3: ``schemas`` names the schemas of "the current JSON structure"; scim2-models sends one per
    extension object. It is accepted in any case and never stored."""
    doc = user(**{E: {"schemas": [E], "employeeNumber": "7"}})
    assert doc == {"schemas": [urns.USER, E], "userName": "bjensen", E: {"employeeNumber": "7"}}
    assert user(**{E.lower(): {"SCHEMAS": [E.upper()], "department": "R&D"}})[E] == {"department": "R&D"}
    assert user(**{E: {"schemas": None, "division": "x"}})[E] == {"division": "x"}


def test_an_extension_object_holding_only_its_schemas_adds_nothing() -> None:
    assert user(**{E: {"schemas": [E]}}) == {"schemas": [urns.USER], "userName": "bjensen"}


@pytest.mark.parametrize("schemas", [[urns.USER], [], E, [E, 1], [CUSTOM.id]])
def test_an_extension_object_whose_schemas_leave_out_its_urn_is_refused(schemas: Any) -> None:
    """A ``schemas`` that does not name the extension claims attributes the object cannot hold."""
    with pytest.raises(InvalidSyntaxError, match=f"{E}.*schemas.*includes"):
        user(**{E: {"schemas": schemas, "employeeNumber": "7"}})


def test_schemas_is_still_no_attribute_of_an_extension() -> None:
    """Only the extension object's own key is ``schemas``; a URN-qualified ``…:User:schemas`` names no attribute."""
    with pytest.raises(InvalidSyntaxError, match="schemas"):
        user(**{f"{E}:schemas": [E]})


def test_a_non_object_body_is_invalid_syntax() -> None:
    with pytest.raises(InvalidSyntaxError):
        normalize([user_body()], REGISTRY, "User")


# -- values --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sent", "stored"), [("True", True), ("false", False), (True, True), ("FALSE", False)])
def test_booleans_accept_entra_string_booleans(sent: Any, stored: bool) -> None:
    assert user(active=sent)["active"] is stored


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("active", "yes"),
        ("active", 0),
        ("displayName", True),
        ("displayName", 3),
        ("name", "Barbara Jensen"),
        ("emails", {"value": "b@example.com"}),
        ("emails", ["b@example.com"]),
    ],
)
def test_values_of_the_wrong_type_are_invalid_value(name: str, value: Any) -> None:
    with pytest.raises(InvalidValueError):
        user(**{name: value})


def test_a_single_object_for_a_multi_valued_attribute_says_to_send_an_array() -> None:
    with pytest.raises(InvalidValueError, match="JSON array"):
        user(emails={"value": "b@example.com"})


@pytest.mark.parametrize(
    "values",
    [
        {"level": 3, "ratio": 0.5, "issued": "2024-05-01T12:00:00Z", "photo": "aGVsbG8=", "site": "https://x.org"},
        {"ratio": 2, "issued": "2024-05-01T12:00:00.123+02:00", "tags": ["a", "b"], "ok": "True"},
    ],
)
def test_every_attribute_type_accepts_its_values(values: dict[str, Any]) -> None:
    stored = badge(**values)[CUSTOM.id]
    assert stored == {**values, **({"ok": True} if "ok" in values else {})}


@pytest.mark.parametrize(
    "values",
    [
        {"level": "3"},
        {"level": 1.5},
        {"level": True},
        {"ratio": "0.5"},
        {"issued": "2024-05-01"},
        {"issued": "yesterday"},
        {"photo": "not base64!"},
        {"site": 5},
        {"tags": "a"},
        {"tags": [1]},
    ],
)
def test_every_attribute_type_rejects_other_values(values: dict[str, Any]) -> None:
    with pytest.raises(InvalidValueError):
        badge(**values)


def test_nulls_are_unassigned_and_empty_strings_are_kept() -> None:
    doc = user(title=None, nickName="", emails=[None, {"value": "b@example.com", "display": None}], roles=[])
    assert doc == {
        "schemas": [urns.USER],
        "userName": "bjensen",
        "nickName": "",
        "emails": [{"value": "b@example.com"}],
    }


def test_values_are_stored_as_sent() -> None:
    assert user(displayName="  Barbara  JENSEN ")["displayName"] == "  Barbara  JENSEN "


def test_manager_given_as_a_bare_id_is_an_object() -> None:
    assert user(**{E: {"manager": "m1"}})[E] == {"manager": {"value": "m1"}}


def test_two_primary_values_are_refused() -> None:
    with pytest.raises(InvalidValueError, match="primary"):
        user(emails=[{"value": "a@x.org", "primary": True}, {"value": "b@x.org", "primary": "True"}])


# -- mutability ----------------------------------------------------------------------------------


def test_read_only_attributes_sent_by_the_client_are_ignored() -> None:
    doc = user(
        id="abc", meta={"resourceType": "User", "bogus": 1}, groups=[], emails=[{"value": "b@x.org", "display": "B"}]
    )
    assert doc == {"schemas": [urns.USER], "userName": "bjensen", "emails": [{"value": "b@x.org"}]}


def test_the_write_only_password_is_kept_for_the_store_to_hash() -> None:
    assert user(password="s3cret")["password"] == "s3cret"


@pytest.mark.parametrize(("rtype", "body"), [("User", {"userName": None}), ("User", {"userName": " "}), ("Group", {})])
def test_required_attributes_must_have_a_value(rtype: str, body: dict[str, Any]) -> None:
    core = urns.USER if rtype == "User" else urns.GROUP
    with pytest.raises(InvalidValueError, match="required"):
        normalize({"schemas": [core], **body}, REGISTRY, rtype)


def test_put_may_set_an_immutable_value_once_keeps_it_when_omitted_and_refuses_a_change() -> None:
    first = badge(serial="s1")
    stored = {k: v for k, v in first.items() if k != "schemas"}
    assert normalize(user_body(**{CUSTOM.id: {"serial": "s1"}}), CUSTOM_REGISTRY, "User", existing=stored) == first
    kept = normalize(user_body(nickName="B"), CUSTOM_REGISTRY, "User", existing=stored)
    assert kept[CUSTOM.id] == {"serial": "s1"}
    assert kept["schemas"] == [urns.USER, CUSTOM.id]
    with pytest.raises(MutabilityError, match="serial"):
        normalize(user_body(**{CUSTOM.id: {"serial": "s2"}}), CUSTOM_REGISTRY, "User", existing=stored)


def test_put_sets_an_immutable_value_the_stored_document_lacks() -> None:
    doc = normalize(user_body(**{CUSTOM.id: {"serial": "s9"}}), CUSTOM_REGISTRY, "User", existing={"userName": "b"})
    assert doc[CUSTOM.id] == {"serial": "s9"}


# -- group members -------------------------------------------------------------------------------


def test_members_are_validated_and_reduced_to_value_and_type() -> None:
    doc = normalize(
        {
            "schemas": [urns.GROUP],
            "displayName": "G",
            "members": [
                {"value": "u1", "display": "Ann", "$ref": "https://x/Users/u1"},
                {"value": "g2", "type": "group"},
                {"value": "u1", "type": "User"},
            ],
        },
        REGISTRY,
        "Group",
    )
    assert doc["members"] == [{"value": "u1"}, {"value": "g2", "type": "Group"}]


@pytest.mark.parametrize(
    "members",
    [
        {"value": "u1"},
        [{"display": "Ann"}],
        [{"value": ""}],
        [{"value": 7}],
        [{"value": "u1", "type": "Device"}],
        ["u1"],
    ],
)
def test_malformed_members_are_invalid_value(members: Any) -> None:
    with pytest.raises(InvalidValueError):
        member_refs(members)
    with pytest.raises(InvalidValueError):
        normalize({"schemas": [urns.GROUP], "displayName": "G", "members": members}, REGISTRY, "Group")


# -- properties ----------------------------------------------------------------------------------

names = st.text(alphabet="abcxyz._@-", min_size=1, max_size=15).filter(str.strip)


@settings(max_examples=50)
@given(
    st.fixed_dictionaries(
        {"userName": names},
        optional={
            "displayName": st.text(max_size=10),
            "active": st.sampled_from([True, False, "True", "false"]),
            "name": st.fixed_dictionaries({}, optional={"givenName": names, "familyName": names}),
            "emails": st.lists(st.fixed_dictionaries({"value": names}, optional={"type": names}), max_size=3),
            E: st.fixed_dictionaries({}, optional={"employeeNumber": names, "manager": names}),
        },
    )
)
def test_normalize_is_idempotent(body: dict[str, Any]) -> None:
    once = normalize({"schemas": [urns.USER], **body}, REGISTRY, "User")
    assert normalize(once, REGISTRY, "User") == once
