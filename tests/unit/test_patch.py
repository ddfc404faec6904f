"""PATCH (RFC 7644 §3.5.2) over documents and membership deltas, including every Okta and Entra shape."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aup_server.errors import (
    InvalidFilterError,
    InvalidPathError,
    InvalidSyntaxError,
    InvalidValueError,
    MutabilityError,
    NoTargetError,
    PayloadTooLargeError,
    ScimError,
)
from aup_server.scim import resource
from aup_server.scim.patch import (
    MemberAdd,
    MemberChange,
    MemberClear,
    MemberRemove,
    MemberRemoveWhere,
    PatchResult,
    apply_patch,
)
from scimcore import urns
from scimcore.schemas import Attribute, Schema, core_registry
from scimcore.schemas.posix import POSIX_USER, POSIX_USER_URN

SAMPLES = Path(__file__).parent / "samples"
REGISTRY = core_registry()
E = urns.ENTERPRISE_USER
UID = "2819c223-7f76-453a-919d-413861904646"


def body(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [urns.PATCH_OP], "Operations": list(ops)}


def a_user(**extra: Any) -> dict[str, Any]:
    doc = {
        "schemas": [urns.USER],
        "id": UID,
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": True}],
        "active": True,
        "meta": {"resourceType": "User", "version": 'W/"1"'},
    }
    doc.update(extra)
    return doc


def a_group(**extra: Any) -> dict[str, Any]:
    return {"schemas": [urns.GROUP], "id": "g1", "displayName": "Admins", **extra}


def patch_user(doc: dict[str, Any], *ops: dict[str, Any]) -> dict[str, Any]:
    return apply_patch(doc, body(*ops), REGISTRY, "User").doc


def patch_group(*ops: dict[str, Any], doc: dict[str, Any] | None = None) -> PatchResult:
    return apply_patch(doc or a_group(), body(*ops), REGISTRY, "Group")


def change_json(change: MemberChange) -> dict[str, Any]:
    """The JSON form the samples use for a membership change."""
    if isinstance(change, MemberAdd):
        return {"add": list(change.values)}
    if isinstance(change, MemberRemove):
        return {"remove": list(change.values)}
    if isinstance(change, MemberClear):
        return {"clear": True}
    assert isinstance(change, MemberRemoveWhere)
    return {"remove_where": change.filter}


# -- the recorded IdP payloads -------------------------------------------------------------------


def _samples() -> list[Any]:
    return [pytest.param(json.loads(path.read_text("utf-8")), id=path.stem) for path in sorted(SAMPLES.glob("*.json"))]


def test_the_sample_folder_covers_okta_entra_and_the_rfc() -> None:
    names = {path.stem.split("-")[0] for path in SAMPLES.glob("*.json")}
    assert {"okta", "entra", "rfc7644"} <= names


@pytest.mark.parametrize("sample", _samples())
def test_sample_gives_exactly_the_expected_document_and_deltas(sample: dict[str, Any]) -> None:
    rtype, method, request = sample["resource_type"], sample["method"], sample["request"]
    before = copy.deepcopy(sample.get("before"))
    if "expected_error" in sample:
        with pytest.raises(ScimError) as caught:
            apply_patch(before, request, REGISTRY, rtype)
        assert caught.value.scim_type == sample["expected_error"]
        return
    if method == "PATCH":
        result = apply_patch(before, request, REGISTRY, rtype)
        assert result.doc == sample["expected"]
        assert [change_json(c) for c in result.member_changes] == sample["expected_member_changes"]
        assert before == sample["before"]  # never mutated
    else:
        existing = before if method == "PUT" else None
        assert resource.normalize(request, REGISTRY, rtype, existing=existing) == sample["expected"]


# -- message validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"Operations": [{"op": "add", "path": "nickName", "value": "x"}]},
        {"schemas": [urns.USER], "Operations": [{"op": "add", "path": "nickName", "value": "x"}]},
        {"schemas": [urns.PATCH_OP]},
        {"schemas": [urns.PATCH_OP], "Operations": []},
        {"schemas": [urns.PATCH_OP], "Operations": {"op": "add"}},
        {"schemas": [urns.PATCH_OP], "Operations": ["add"]},
        {"schemas": [urns.PATCH_OP], "Operations": [{"op": "move", "path": "nickName"}]},
        {"schemas": [urns.PATCH_OP], "Operations": [{"path": "nickName", "value": "x"}]},
    ],
)
def test_malformed_patch_messages_are_invalid_syntax(bad: Any) -> None:
    with pytest.raises(InvalidSyntaxError):
        apply_patch(a_user(), bad, REGISTRY, "User")


def test_message_field_names_and_op_values_match_case_insensitively() -> None:
    message = {"SCHEMAS": [urns.PATCH_OP.upper()], "operations": [{"OP": "REPLACE", "Path": "nickName", "VALUE": "B"}]}
    assert apply_patch(a_user(), message, REGISTRY, "User").doc["nickName"] == "B"


def test_path_must_be_a_string() -> None:
    with pytest.raises(InvalidPathError):
        patch_user(a_user(), {"op": "add", "path": 3, "value": "x"})


def test_too_many_operations_is_413() -> None:
    ops = [{"op": "add", "path": "nickName", "value": str(i)} for i in range(4)]
    with pytest.raises(PayloadTooLargeError) as caught:
        apply_patch(a_user(), body(*ops), REGISTRY, "User", max_operations=3)
    assert caught.value.status == 413


def test_too_many_member_values_across_operations_is_413() -> None:
    ops = [{"op": "add", "path": "members", "value": [{"value": f"u{i}"}, {"value": f"v{i}"}]} for i in range(3)]
    with pytest.raises(PayloadTooLargeError):
        apply_patch(a_group(), body(*ops), REGISTRY, "Group", max_member_values=5)


# -- paths and values ----------------------------------------------------------------------------


def test_unknown_attribute_path_is_invalid_path() -> None:
    with pytest.raises(InvalidPathError, match="shoeSize"):
        patch_user(a_user(), {"op": "replace", "path": "shoeSize", "value": "9"})


def test_sub_attribute_of_a_simple_attribute_is_invalid_path() -> None:
    with pytest.raises(InvalidPathError, match="not complex"):
        patch_user(a_user(), {"op": "replace", "path": "userName.first", "value": "x"})


def test_filter_on_a_simple_attribute_is_invalid_path() -> None:
    with pytest.raises(InvalidPathError):
        patch_user(a_user(), {"op": "replace", "path": 'userName[value eq "x"]', "value": "x"})


def test_malformed_path_is_invalid_path() -> None:
    with pytest.raises(InvalidPathError):
        patch_user(a_user(), {"op": "remove", "path": 'emails[type eq "work"'})


def test_filter_naming_an_unknown_sub_attribute_is_invalid_filter() -> None:
    with pytest.raises(InvalidFilterError):
        patch_user(a_user(), {"op": "remove", "path": 'emails[colour eq "red"]'})


def test_sub_attribute_of_every_value_of_a_multi_valued_attribute_is_refused() -> None:
    with pytest.raises(InvalidPathError, match=r"emails\[type eq"):
        patch_user(a_user(), {"op": "replace", "path": "emails.value", "value": "x@example.com"})


@pytest.mark.parametrize("op", ["add", "replace"])
def test_add_and_replace_without_a_value_are_invalid_value(op: str) -> None:
    with pytest.raises(InvalidValueError):
        patch_user(a_user(), {"op": op, "path": "nickName"})


@pytest.mark.parametrize(
    ("path", "value"),
    [("active", "yes"), ("active", 1), ("nickName", 42), ("emails", {"value": "x@example.com"}), ("name", "Ann")],
)
def test_value_of_the_wrong_type_is_invalid_value(path: str, value: Any) -> None:
    with pytest.raises(InvalidValueError):
        patch_user(a_user(), {"op": "replace", "path": path, "value": value})


@pytest.mark.parametrize("text", ["True", "true", "False", "false"])
def test_string_booleans_become_booleans_for_boolean_attributes(text: str) -> None:
    assert patch_user(a_user(), {"op": "Replace", "path": "active", "value": text})["active"] is (
        text.lower() == "true"
    )


def test_string_booleans_stay_strings_for_string_attributes() -> None:
    assert patch_user(a_user(), {"op": "replace", "path": "nickName", "value": "True"})["nickName"] == "True"


def test_pathless_value_must_be_a_non_empty_object() -> None:
    for value in ({}, "x", [{"nickName": "x"}]):
        with pytest.raises(InvalidValueError):
            patch_user(a_user(), {"op": "replace", "value": value})


def test_pathless_replace_with_null_unassigns() -> None:
    doc = patch_user(a_user(nickName="Babs"), {"op": "replace", "value": {"nickName": None}})
    assert "nickName" not in doc


def test_pathless_keys_are_case_insensitive_and_stored_canonically() -> None:
    doc = patch_user(a_user(), {"op": "replace", "value": {"NICKNAME": "Babs", "Name.GivenName": "Bab"}})
    assert doc["nickName"] == "Babs"
    assert doc["name"] == {"givenName": "Bab", "familyName": "Jensen"}


def test_pathless_extension_object_merges_into_the_extension() -> None:
    before = a_user(schemas=[urns.USER, E], **{E: {"employeeNumber": "1", "costCenter": "A"}})
    doc = patch_user(before, {"op": "replace", "value": {E.lower(): {"DEPARTMENT": "x"}}})
    assert doc[E] == {"employeeNumber": "1", "costCenter": "A", "department": "x"}


def test_extension_urn_as_path_removes_the_whole_extension() -> None:
    before = a_user(schemas=[urns.USER, E], **{E: {"employeeNumber": "1"}})
    doc = patch_user(before, {"op": "remove", "path": E})
    assert E not in doc
    assert doc["schemas"] == [urns.USER]


@pytest.mark.parametrize("value", ["m1", {"value": "m1"}])
def test_manager_as_bare_id_or_object_is_stored_as_an_object(value: Any) -> None:
    doc = patch_user(a_user(), {"op": "add", "path": f"{E}:manager", "value": value})
    assert doc[E] == {"manager": {"value": "m1"}}
    assert doc["schemas"] == [urns.USER, E]


def test_manager_value_sub_path_sets_the_sub_attribute() -> None:
    doc = patch_user(a_user(), {"op": "replace", "path": f"{E}:manager.value", "value": "m2"})
    assert doc[E]["manager"] == {"value": "m2"}


def test_removing_the_manager_with_a_filter_that_does_not_match_keeps_it() -> None:
    before = a_user(schemas=[urns.USER, E], **{E: {"manager": {"value": "m1"}}})
    doc = patch_user(before, {"op": "remove", "path": f'{E}:manager[value eq "other"]'})
    assert doc[E] == {"manager": {"value": "m1"}}


# -- add / replace / remove semantics ------------------------------------------------------------


def test_add_to_a_multi_valued_attribute_appends_and_skips_identical_values() -> None:
    new = {"value": "home@example.com", "type": "home"}
    doc = patch_user(a_user(), {"op": "add", "path": "emails", "value": [new, new]})
    assert doc["emails"] == [a_user()["emails"][0], new]
    again = patch_user(doc, {"op": "add", "path": "emails", "value": [new]})
    assert again["emails"] == doc["emails"]


def test_replace_of_a_multi_valued_attribute_replaces_every_value() -> None:
    doc = patch_user(a_user(), {"op": "replace", "path": "emails", "value": [{"value": "n@example.com"}]})
    assert doc["emails"] == [{"value": "n@example.com"}]


def test_add_to_a_single_valued_complex_attribute_merges_sub_attributes() -> None:
    doc = patch_user(a_user(), {"op": "add", "path": "name", "value": {"middleName": "J"}})
    assert doc["name"] == {"givenName": "Barbara", "familyName": "Jensen", "middleName": "J"}


def test_add_of_a_simple_attribute_replaces_it() -> None:
    assert patch_user(a_user(), {"op": "add", "path": "userName", "value": "babs"})["userName"] == "babs"


def test_add_to_a_filtered_path_with_no_match_creates_the_value() -> None:
    doc = patch_user(a_user(emails=[]), {"op": "add", "path": 'emails[type eq "work"].value', "value": "x@example.com"})
    assert doc["emails"] == [{"type": "work", "value": "x@example.com"}]


def test_replace_of_a_whole_filtered_value_replaces_it() -> None:
    doc = patch_user(a_user(), {"op": "replace", "path": 'emails[type eq "work"]', "value": {"value": "n@x.org"}})
    assert doc["emails"] == [{"value": "n@x.org"}]


def test_filtered_path_that_cannot_say_how_to_create_a_value_is_no_target() -> None:
    with pytest.raises(NoTargetError):
        patch_user(a_user(), {"op": "replace", "path": 'emails[value co "nowhere"].type', "value": "home"})


def test_remove_of_a_filtered_path_with_no_match_is_a_no_op() -> None:
    before = a_user()
    assert patch_user(before, {"op": "remove", "path": 'emails[type eq "home"]'}) == before


def test_remove_of_a_sub_attribute_keeps_the_rest_and_drops_empty_parents() -> None:
    doc = patch_user(a_user(), {"op": "remove", "path": "name.givenName"})
    assert doc["name"] == {"familyName": "Jensen"}
    doc = patch_user(doc, {"op": "remove", "path": "name.familyName"})
    assert "name" not in doc


def test_remove_of_a_filtered_sub_attribute() -> None:
    doc = patch_user(a_user(), {"op": "remove", "path": 'emails[type eq "work"].primary'})
    assert doc["emails"] == [{"value": "bjensen@example.com", "type": "work"}]


def test_remove_with_values_removes_only_matching_values_of_any_multi_valued_attribute() -> None:
    before = a_user(roles=[{"value": "a"}, {"value": "b", "type": "t"}])
    doc = patch_user(before, {"op": "remove", "path": "roles", "value": [{"value": "b"}]})
    assert doc["roles"] == [{"value": "a"}]


def test_remove_with_a_value_that_identifies_nothing_is_refused() -> None:
    with pytest.raises(InvalidValueError):
        patch_user(a_user(roles=[{"value": "a"}]), {"op": "remove", "path": "roles", "value": [{"display": "A"}]})


def test_primary_on_a_filtered_value_clears_it_elsewhere() -> None:
    before = a_user(
        emails=[{"value": "w@x.org", "type": "work", "primary": True}, {"value": "h@x.org", "type": "home"}]
    )
    doc = patch_user(before, {"op": "replace", "path": 'emails[type eq "home"].primary', "value": True})
    assert [e.get("primary") for e in doc["emails"]] == [False, True]


# -- mutability ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "op",
    [
        {"op": "replace", "path": "id", "value": "other"},
        {"op": "replace", "value": {"id": "other", "displayName": "x"}},
        {"op": "remove", "path": "id"},
        {"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"},
        {"op": "add", "path": "groups", "value": [{"value": "g1"}]},
        {"op": "replace", "path": 'emails[type eq "work"].display', "value": "W"},
    ],
)
def test_read_only_attributes_cannot_be_patched(op: dict[str, Any]) -> None:
    with pytest.raises(MutabilityError):
        patch_user(a_user(), op)


def test_repeating_the_own_id_is_accepted() -> None:
    assert patch_user(a_user(), {"op": "replace", "value": {"id": UID, "nickName": "B"}})["id"] == UID


def test_removing_a_required_attribute_is_a_mutability_error() -> None:
    with pytest.raises(MutabilityError):
        patch_user(a_user(), {"op": "remove", "path": "userName"})
    with pytest.raises(MutabilityError):
        patch_group({"op": "remove", "path": "displayName"})


def test_blanking_a_required_attribute_is_invalid_value() -> None:
    with pytest.raises(InvalidValueError):
        patch_user(a_user(), {"op": "replace", "path": "userName", "value": " "})


def test_an_immutable_attribute_can_be_set_once_but_not_changed() -> None:
    badge = Schema("urn:example:scim:1.0:Badge", "Badge", "", (Attribute("serial", mutability="immutable"),))
    registry = core_registry(extensions=(("User", badge),))
    path = f"{badge.id}:serial"
    first = apply_patch(a_user(), body({"op": "add", "path": path, "value": "s1"}), registry, "User").doc
    assert first[badge.id] == {"serial": "s1"}
    for op in ({"op": "replace", "path": path, "value": "s2"}, {"op": "remove", "path": path}):
        with pytest.raises(MutabilityError):
            apply_patch(first, body(op), registry, "User")
    assert apply_patch(first, body({"op": "add", "path": path, "value": "s1"}), registry, "User").doc == first


# -- group members -------------------------------------------------------------------------------


def test_members_never_appear_in_the_patched_group_document() -> None:
    result = patch_group(
        {"op": "replace", "path": "displayName", "value": "Ops"}, doc=a_group(members=[{"value": "u"}])
    )
    assert result.doc == {"schemas": [urns.GROUP], "id": "g1", "displayName": "Ops"}


def test_remove_members_with_a_value_never_removes_everyone() -> None:
    result = patch_group({"op": "remove", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]})
    assert result.member_changes == (MemberRemove(("u1", "u2")),)
    assert patch_group({"op": "remove", "path": "members", "value": []}).member_changes == ()


def test_remove_members_without_filter_or_value_clears_the_group_as_rfc7644_says() -> None:
    assert patch_group({"op": "remove", "path": "members"}).member_changes == (MemberClear(),)


def test_member_deltas_keep_request_order() -> None:
    result = patch_group(
        {"op": "add", "path": "members", "value": [{"value": "a"}, {"value": "a"}, {"value": "b"}]},
        {"op": "remove", "path": 'members[value eq "a"]'},
        {"op": "replace", "path": "members", "value": [{"value": "c"}]},
    )
    assert result.member_changes == (MemberAdd(("a", "b")), MemberRemove(("a",)), MemberClear(), MemberAdd(("c",)))


def test_remove_where_matches_member_objects() -> None:
    (change,) = patch_group({"op": "remove", "path": 'members[type eq "Group" or display sw "temp"]'}).member_changes
    assert isinstance(change, MemberRemoveWhere)
    assert change.matches({"value": "g2", "type": "Group"})
    assert change.matches({"value": "u9", "display": "Temp worker", "type": "User"})
    assert not change.matches({"value": "u1", "display": "Ann", "type": "User"})


@pytest.mark.parametrize(
    ("op", "error"),
    [
        ({"op": "add", "path": "members", "value": {"value": "u1"}}, InvalidValueError),
        ({"op": "add", "path": "members", "value": [{"display": "no id"}]}, InvalidValueError),
        ({"op": "add", "path": "members", "value": [{"value": "u1", "type": "Robot"}]}, InvalidValueError),
        ({"op": "add", "path": "members", "value": ["u1"]}, InvalidValueError),
        ({"op": "add", "path": "members"}, InvalidValueError),
        ({"op": "add", "path": 'members[value eq "u1"]', "value": [{"value": "u1"}]}, InvalidPathError),
        ({"op": "remove", "path": 'members[value eq "u1"].display'}, InvalidPathError),
        ({"op": "add", "path": "members", "value": [{"value": "u1", "colour": "red"}]}, InvalidSyntaxError),
    ],
)
def test_unrecognised_member_shapes_are_refused(op: dict[str, Any], error: type[ScimError]) -> None:
    with pytest.raises(error):
        patch_group(op)


def test_members_path_on_a_user_is_unknown() -> None:
    with pytest.raises(InvalidPathError):
        patch_user(a_user(), {"op": "add", "path": "members", "value": [{"value": "u1"}]})


def test_a_failing_operation_discards_the_earlier_ones() -> None:
    before = a_user()
    snapshot = copy.deepcopy(before)
    with pytest.raises(InvalidPathError):
        patch_user(
            before, {"op": "replace", "path": "nickName", "value": "B"}, {"op": "add", "path": "nope", "value": 1}
        )
    assert before == snapshot


# -- properties ----------------------------------------------------------------------------------

ids = st.text(alphabet="abcdef0123456789-", min_size=1, max_size=12)
texts = st.text(min_size=1, max_size=20).filter(str.strip)


@settings(max_examples=50)
@given(st.lists(ids, max_size=8))
def test_adding_members_twice_yields_the_same_delta_set(values: list[str]) -> None:
    op = {"op": "add", "path": "members", "value": [{"value": v} for v in values]}
    once = patch_group(op).member_changes
    twice = patch_group(op, op).member_changes
    added = {v for change in twice if isinstance(change, MemberAdd) for v in change.values}
    assert added == set(values)
    assert all(isinstance(change, MemberAdd) for change in twice)
    assert len(twice) == 2 * len(once)


@settings(max_examples=50)
@given(
    st.lists(st.fixed_dictionaries({"value": texts}, optional={"type": st.sampled_from(["work", "home"])}), max_size=4)
)
def test_adding_the_same_values_twice_changes_the_document_once(values: list[dict[str, Any]]) -> None:
    op = {"op": "add", "path": "emails", "value": values}
    once = patch_user(a_user(), op)
    assert patch_user(once, op) == once
    assert patch_user(a_user(), op, op) == once


@settings(max_examples=50)
@given(st.sampled_from(["nickName", "title", "displayName", "userName", "name.givenName"]), texts)
def test_replace_of_a_simple_attribute_then_reading_it_returns_the_value(path: str, value: str) -> None:
    doc = patch_user(a_user(), {"op": "replace", "path": path, "value": value})
    attr, _, sub = path.partition(".")
    assert (doc[attr][sub] if sub else doc[attr]) == value


operations = st.fixed_dictionaries(
    {
        "op": st.sampled_from(["add", "remove", "replace", "Replace", "move"]),
        "path": st.sampled_from(["nickName", "userName", "emails", 'emails[type eq "work"].value', "id", "bogus"]),
    },
    optional={"value": st.one_of(st.none(), texts, st.booleans(), st.lists(st.fixed_dictionaries({"value": texts})))},
)


@settings(max_examples=100)
@given(st.lists(operations, min_size=1, max_size=5))
def test_any_patch_either_succeeds_or_leaves_the_input_untouched(ops: list[dict[str, Any]]) -> None:
    before = a_user()
    snapshot = copy.deepcopy(before)
    try:
        result = patch_user(before, *ops)
    except ScimError:
        pass
    else:
        assert resource.revalidate(result, REGISTRY, "User") == result
    assert before == snapshot


def test_removing_a_read_only_extension_whole_is_mutability() -> None:
    """RFC 7644 §3.5.2.2: a remove of readOnly attributes is 400 mutability, the POSIX extension's included."""
    registry = core_registry((("User", POSIX_USER),))
    doc = {"userName": "ann"}
    body = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "remove", "path": POSIX_USER_URN}]}
    with pytest.raises(MutabilityError, match="is readOnly"):
        apply_patch(doc, body, registry, "User")
