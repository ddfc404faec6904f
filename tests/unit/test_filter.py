"""Filters and PATCH paths: the samples IdPs send, the RFC 7644 §3.4.2.2 examples, semantics and errors."""

from __future__ import annotations

from typing import Any

import pytest

from aup_server.errors import InvalidFilterError, InvalidPathError, InvalidValueError
from aup_server.scim.filter import (
    MAX_DEPTH,
    And,
    AttrPath,
    Compare,
    Not,
    Or,
    PatchPath,
    Present,
    ValuePath,
    compile_filter,
    compile_value_filter,
    equality_lookup,
    parse_filter,
    parse_path,
    sort_key,
    sort_key_for,
    to_text,
)
from scimcore import urns
from scimcore.schemas import GROUP, USER, Attribute, Schema, core_registry

EXT = urns.ENTERPRISE_USER
CUSTOM = "urn:example:params:scim:schemas:extension:aup:1.0:User"
REGISTRY = core_registry(
    extensions=(
        (
            "User",
            Schema(
                CUSTOM,
                "AupUser",
                "Typed attributes for the tests",
                (
                    Attribute("uidNumber", "integer"),
                    Attribute("quota", "decimal"),
                    Attribute("badge", "binary"),
                    Attribute("shells", multi_valued=True),
                ),
            ),
        ),
    )
)

# The user of RFC 7643 §8.2, trimmed to what the RFC 7644 §3.4.2.2 examples look at.
BJENSEN: dict[str, Any] = {
    "schemas": [urns.USER, EXT],
    "id": "2819c223-7f76-453a-919d-413861904646",
    "externalId": "701984",
    "userName": "bjensen@example.com",
    "name": {"familyName": "O'Malley", "givenName": "Barbara"},
    "displayName": "Babs Jensen",
    "title": "Tour Guide",
    "userType": "Employee",
    "active": True,
    "emails": [
        {"value": "bjensen@example.com", "type": "work", "primary": True},
        {"value": "babs@jensen.org", "type": "home"},
    ],
    "ims": [{"value": "someaimhandle", "type": "aim"}],
    "meta": {
        "resourceType": "User",
        "created": "2010-01-23T04:56:22Z",
        "lastModified": "2011-05-13T04:42:34Z",
        "version": 'W/"3694e05e9dff591"',
    },
    EXT: {"employeeNumber": "701984", "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}},
    CUSTOM: {"uidNumber": 10001, "quota": 2.5, "badge": "QUJD", "shells": ["/bin/bash", "/bin/zsh"]},
}
GROUP_DOC: dict[str, Any] = {
    "schemas": [GROUP.id],
    "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
    "displayName": "Tour Guides",
    "members": [{"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen", "type": "User"}],
}


def matches(text: str, doc: dict[str, Any] = BJENSEN, resource_type: str = "User") -> bool:
    return compile_filter(parse_filter(text), REGISTRY, resource_type)(doc)


def filter_error(text: str, resource_type: str = "User") -> str:
    """The detail of the InvalidFilterError that parsing or compiling ``text`` raises."""
    with pytest.raises(InvalidFilterError) as info:
        compile_filter(parse_filter(text), REGISTRY, resource_type)
    assert info.value.status == 400
    assert info.value.to_scim()["scimType"] == "invalidFilter"
    return info.value.detail


def lookup(text: str, resource_type: str = "User") -> tuple[str, str] | None:
    return equality_lookup(parse_filter(text), REGISTRY, resource_type)


# -- what the IdPs send (docs/okta-idp.md §2, §5; docs/entra-idp.md §2, §10) ------------------------


@pytest.mark.parametrize(
    ("text", "resource_type", "expected", "indexed"),
    [
        pytest.param(
            'userName eq "bjensen@example.com"', "User", True, ("userName", "bjensen@example.com"), id="okta-match-user"
        ),
        pytest.param(
            'userName eq "BJENSEN@EXAMPLE.COM"', "User", True, ("userName", "BJENSEN@EXAMPLE.COM"), id="okta-case-check"
        ),
        pytest.param(
            'userName eq "cf4d78e8-0b4f-4a8d-9c39-2a3b4c5d6e7f"',
            "User",
            False,
            ("userName", "cf4d78e8-0b4f-4a8d-9c39-2a3b4c5d6e7f"),
            id="entra-test-connection-random-guid",
        ),
        pytest.param('externalId eq "701984"', "User", True, ("externalId", "701984"), id="entra-match-externalId"),
        pytest.param('DisplayName eq "babs jensen"', "User", True, None, id="entra-validator-capitalised-name"),
        pytest.param(
            'emails[type eq "work"].value eq "bjensen@example.com"',
            "User",
            True,
            ("emails.value", "bjensen@example.com"),
            id="entra-match-work-email",
        ),
        pytest.param(
            'emails[type eq "home"].value eq "bjensen@example.com"',
            "User",
            False,
            ("emails.value", "bjensen@example.com"),
            id="entra-work-email-must-be-on-the-work-element",
        ),
        pytest.param(
            'displayName eq "Tour Guides"', "Group", True, ("displayName", "Tour Guides"), id="okta-entra-match-group"
        ),
        pytest.param(
            'active eq true and (meta.lastModified ge "2011-01-01T00:00:00Z")',
            "User",
            True,
            None,
            id="entra-inbound-delta",
        ),
    ],
)
def test_idp_filters_match_and_plan_as_expected(
    text: str, resource_type: str, expected: bool, indexed: tuple[str, str] | None
) -> None:
    doc = BJENSEN if resource_type == "User" else GROUP_DOC
    assert matches(text, doc, resource_type) is expected
    assert lookup(text, resource_type) == indexed


def test_entra_unquoted_reference_check_is_rejected() -> None:
    """docs/entra-idp.md §2 shows ``id eq <id> and manager eq <mgrId>`` unquoted; RFC 7644 needs JSON strings."""
    detail = filter_error("id eq 2819c223 and manager eq 26118915")
    assert "'2819c223' at offset 6" in detail and "quoted" in detail


def test_quoted_manager_reference_check_compares_the_manager_value() -> None:
    """The same check written per RFC 7644: quoted values, the extension attribute URN-qualified (§3.10)."""
    text = f'id eq "2819c223-7f76-453a-919d-413861904646" and {EXT}:manager eq "26118915-6090-4610-87e4-49d8ca9f808d"'
    assert matches(text)
    assert lookup(text) == ("id", "2819c223-7f76-453a-919d-413861904646")


# -- RFC 7644 §3.4.2.2 examples ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('userName eq "bjensen@example.com"', True),
        ('name.familyName co "O\'Malley"', True),
        ('userName sw "J"', False),
        ('userName sw "b"', True),
        (f'{urns.USER}:userName sw "B"', True),
        ("title pr", True),
        ('meta.lastModified gt "2011-05-13T04:42:34Z"', False),
        ('meta.lastModified ge "2011-05-13T04:42:34Z"', True),
        ('meta.lastModified lt "2011-05-13T04:42:34Z"', False),
        ('meta.lastModified le "2011-05-13T04:42:34Z"', True),
        ('title pr and userType eq "Employee"', True),
        ('title pr or userType eq "Intern"', True),
        (f'schemas eq "{EXT}"', True),
        ('userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")', True),
        ('userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")', False),
        ('userType eq "Employee" and (emails.type eq "work")', True),
        ('userType eq "Employee" and emails[type eq "work" and value co "@example.com"]', True),
        ('emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]', True),
        ('emails[type eq "home" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]', False),
    ],
)
def test_rfc7644_3_4_2_2_examples(text: str, expected: bool) -> None:
    assert matches(text) is expected


def test_rfc7644_example_filters_print_back_to_themselves() -> None:
    text = 'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")'
    assert to_text(parse_filter(text)) == text


# -- the syntax tree ----------------------------------------------------------------------------


def attr(name: str, sub: str | None = None) -> AttrPath:
    return AttrPath(None, name, sub)


def test_not_binds_tighter_than_and_which_binds_tighter_than_or() -> None:
    tree = parse_filter('a pr or b pr and not (c pr) and d eq "x"')
    expected = Or(
        Present(attr("a")), And(And(Present(attr("b")), Not(Present(attr("c")))), Compare(attr("d"), "eq", "x"))
    )
    assert tree == expected


def test_parentheses_override_precedence() -> None:
    assert parse_filter("(a pr or b pr) and c pr") == And(
        Or(Present(attr("a")), Present(attr("b"))), Present(attr("c"))
    )


def test_keywords_are_case_insensitive() -> None:
    assert parse_filter('A Pr AND NOT (b EQ "x") Or c pR') == parse_filter('A pr and not (b eq "x") or c pr')


def test_attribute_names_are_case_insensitive_when_matching() -> None:
    assert matches('Username Eq "bjensen@example.com"') and matches('USERNAME eq "bjensen@example.com"')


def test_schema_urn_and_sub_attribute_split_at_the_last_colon() -> None:
    tree = parse_filter(f'{EXT}:manager.value eq "m"')
    assert tree == Compare(AttrPath(EXT, "manager", "value"), "eq", "m")


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        (r'"say \"hi\""', 'say "hi"'),
        (r'"caf\u00e9"', "café"),
        ('"tab\\there"', "tab\there"),
        ("42", 42),
        ("-0.5", -0.5),
        ("1.5e3", 1500.0),
        ("true", True),
        ("False", False),
        ("null", None),
    ],
)
def test_comparison_values_are_json(literal: str, value: object) -> None:
    tree = parse_filter(f"x eq {literal}")
    assert isinstance(tree, Compare)
    assert tree.value == value and type(tree.value) is type(value)


def test_value_path_with_sub_attribute_means_the_same_element() -> None:
    tree = parse_filter('emails[type eq "work"].value eq "x"')
    assert tree == ValuePath(
        attr("emails"), And(Compare(attr("type"), "eq", "work"), Compare(attr("value"), "eq", "x"))
    )


def test_printer_adds_only_the_parentheses_the_structure_needs() -> None:
    tree = And(Present(attr("a")), Or(Present(attr("b")), And(Present(attr("c")), Present(attr("d")))))
    assert to_text(tree) == "a pr and (b pr or c pr and d pr)"
    assert parse_filter(to_text(tree)) == tree


# -- malformed filters --------------------------------------------------------------------------


def chain(count: int) -> str:
    return " or ".join(f'userName eq "u{i}"' for i in range(count))


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        pytest.param("userName eq bob", "'bob' at offset 12 must be a quoted", id="unquoted-value"),
        pytest.param('userName "bob"', "expected an operator", id="missing-operator"),
        pytest.param('userName like "bob"', "unknown operator 'like' at offset 9", id="unknown-operator"),
        pytest.param("userName eq", "expected a comparison value", id="missing-value"),
        pytest.param('(userName eq "a"', "expected ')' to close the '(' at offset 0", id="unclosed-paren"),
        pytest.param('userName eq "a")', "unbalanced ')' at offset 15", id="extra-paren"),
        pytest.param('emails[type eq "work"', "expected ']' to close the '[' at offset 6", id="unclosed-bracket"),
        pytest.param('userName eq "a" title pr', "unexpected 'title' at offset 16", id="trailing-garbage"),
        pytest.param("", "empty", id="empty"),
        pytest.param("   ", "empty", id="blank"),
        pytest.param('userName eq "bob', "offset 12", id="unterminated-string"),
        pytest.param(r'userName eq "\q"', "invalid \\escape", id="bad-escape"),
        pytest.param('userName eq "a" and', "expected an attribute path", id="dangling-and"),
        pytest.param(
            'not userName eq "a"', "'not' at offset 0 must be followed by a parenthesised filter", id="bare-not"
        ),
        pytest.param("x eq 01", "'01' at offset 5 must be a quoted", id="leading-zero"),
        pytest.param("x eq 1e999", "out of range", id="huge-float"),
        pytest.param("x eq " + "9" * 5000, "too many digits", id="huge-int"),
        pytest.param('a[b[c eq "x"]]', "cannot be nested", id="nested-value-path"),
        pytest.param('name.givenName[x eq "y"]', "must follow an attribute", id="value-path-on-sub-attribute"),
        pytest.param('a:b eq "x"', "not a URN", id="non-urn-prefix"),
        pytest.param('user@name eq "x"', "unexpected character '@' at offset 4", id="bad-character"),
        pytest.param('name.given.x eq "y"', "not an attribute path", id="two-dots"),
        pytest.param("(" * 10_000, f"nested deeper than {MAX_DEPTH} levels", id="10000-parens"),
        pytest.param(
            "(" * 5000 + 'userName eq "a"' + ")" * 5000, f"deeper than {MAX_DEPTH}", id="10000-balanced-parens"
        ),
        pytest.param(chain(101), "more than 200 nodes", id="201-nodes"),
    ],
)
def test_malformed_filters_raise_invalid_filter_naming_the_problem(text: str, detail: str) -> None:
    assert detail in filter_error(text)


def test_node_cap_admits_exactly_max_nodes() -> None:
    parse_filter(chain(100))  # 100 comparisons + 99 "or" = 199 nodes
    parse_filter(f"not ({chain(100)})")  # 200
    with pytest.raises(InvalidFilterError):
        parse_filter(chain(3), max_nodes=4)
    assert parse_filter(chain(3), max_nodes=5)


# -- binding to the schema ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        pytest.param('nosuch eq "x"', "unknown attribute 'nosuch'", id="unknown-attribute"),
        pytest.param('name.nosuch eq "x"', "unknown attribute 'name.nosuch'", id="unknown-sub-attribute"),
        pytest.param('urn:example:unknown:1.0:User:x eq "y"', "unknown attribute", id="unknown-schema"),
        pytest.param("active gt true", "active is boolean", id="boolean-ordering"),
        pytest.param('active eq "true"', "active is boolean", id="boolean-against-string"),
        pytest.param('name gt "x"', "name is complex", id="complex-ordering"),
        pytest.param('meta eq "x"', "meta.created", id="complex-without-value"),
        pytest.param('emails ge "a"', "emails is complex", id="multi-valued-complex-ordering"),
        pytest.param("userName eq 42", "userName is a string", id="string-against-number"),
        pytest.param('meta.created gt "yesterday"', "meta.created is a dateTime", id="datetime-against-text"),
        pytest.param('meta.created co "2010"', "meta.created is a dateTime", id="datetime-substring"),
        pytest.param(f'{CUSTOM}:uidNumber eq "7"', "is a number", id="integer-against-string"),
        pytest.param(f"{CUSTOM}:uidNumber co 7", "is a number", id="integer-substring"),
        pytest.param(f'{CUSTOM}:badge sw "Q"', "binary", id="binary-substring"),
        pytest.param("userName gt null", "null can only be compared with eq or ne", id="null-ordering"),
        pytest.param('userName[value eq "x"]', "needs a complex attribute", id="value-path-on-simple"),
        pytest.param(
            'emails[nosuch eq "x"]', "must be one of its sub-attributes: value, display", id="element-unknown"
        ),
        pytest.param('emails[emails.type eq "x"]', "'emails.type' inside emails", id="element-qualified"),
        pytest.param('members eq "x"', "unknown attribute 'members'", id="group-attribute-on-user"),
    ],
)
def test_compile_rejects_what_the_schema_forbids(text: str, detail: str) -> None:
    assert detail in filter_error(text)


def test_group_filters_resolve_against_the_group_schema() -> None:
    assert matches('members[value eq "2819c223-7f76-453a-919d-413861904646"]', GROUP_DOC, "Group")
    assert "unknown attribute 'userName'" in filter_error('userName eq "x"', "Group")


# -- semantics ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "op", "expected"),
    [
        (a, b, op, (a and b) if op == "and" else (a or b))
        for a in (True, False)
        for b in (True, False)
        for op in ("and", "or")
    ],
)
def test_logical_truth_table(left: bool, right: bool, op: str, expected: bool) -> None:
    user_type = "Employee" if right else "Intern"
    text = f'active eq {str(left).lower()} {op} userType eq "{user_type}"'
    assert matches(text) is expected
    assert matches(f"not ({text})") is not expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('userName eq "BJENSEN@example.COM"', True, id="userName-is-case-insensitive"),
        pytest.param('displayName co "JENSEN"', True, id="displayName-is-case-insensitive"),
        pytest.param('id eq "2819C223-7F76-453A-919D-413861904646"', False, id="id-is-case-exact"),
        pytest.param('externalId eq "701984"', True, id="externalId-exact-match"),
        pytest.param(f'{EXT}:employeeNumber eq "701984"', True, id="extension-attribute"),
        pytest.param('emails.value ew "JENSEN.ORG"', True, id="any-element-of-multi-valued"),
        pytest.param('emails.type eq "other"', False, id="no-element-matches"),
        pytest.param('emails co "jensen.org"', True, id="complex-without-sub-compares-value"),
        pytest.param(f'{CUSTOM}:shells eq "/BIN/ZSH"', True, id="multi-valued-simple-any"),
        pytest.param('nickName ne "x"', True, id="ne-on-missing-is-true"),
        pytest.param('emails.value ne "babs@jensen.org"', False, id="ne-is-not-eq-for-multi-valued"),
        pytest.param('nickName eq "x"', False, id="eq-on-missing-is-false"),
        pytest.param("nickName eq null", True, id="eq-null-on-missing"),
        pytest.param("title ne null", True, id="ne-null-on-present"),
        pytest.param("active eq true", True, id="boolean-eq"),
        pytest.param("active ne true", False, id="boolean-ne"),
        pytest.param(f"{CUSTOM}:uidNumber gt 10000", True, id="integer-gt"),
        pytest.param(f"{CUSTOM}:uidNumber lt 10001.5", True, id="integer-lt-decimal"),
        pytest.param(f"{CUSTOM}:quota eq 2.5", True, id="decimal-eq"),
        pytest.param(f"{CUSTOM}:quota lt 2", False, id="decimal-lt"),
        pytest.param('meta.created eq "2010-01-23T06:56:22+02:00"', True, id="datetime-same-instant-other-offset"),
        pytest.param('meta.created lt "2010-01-23T04:56:22.001Z"', True, id="datetime-fraction"),
        pytest.param('meta.created gt "2010-01-23T04:56:22"', False, id="datetime-without-offset-is-utc"),
        pytest.param('title gt "TOUR"', True, id="string-ordering-folds-case"),
        pytest.param("urn:ietf:params:scim:schemas:core:2.0:User:id pr", True, id="core-qualified-common-attribute"),
        pytest.param(f'{EXT}:manager eq "26118915-6090-4610-87e4-49d8ca9f808d"', True, id="single-complex-value"),
        pytest.param('emails[type eq "home" and primary eq true]', False, id="value-path-same-element"),
        pytest.param('emails[type eq "home"] and emails[primary eq true]', True, id="value-paths-any-elements"),
    ],
)
def test_comparison_semantics(text: str, expected: bool) -> None:
    assert matches(text) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("x", True), ("", False), (None, False), ([], False), ({}, False), ([{"value": ""}], False), (False, True)],
)
def test_present_means_a_non_empty_value(value: object, expected: bool) -> None:
    doc = {"title": value, "emails": value, "active": value}
    assert matches("title pr or emails pr or active pr", doc) is expected


def test_document_keys_match_case_insensitively() -> None:
    doc = {
        "USERNAME": "bjensen",
        "Emails": [{"Value": "b@x.org", "TYPE": "work"}],
        EXT.upper(): {"employeenumber": "7"},
    }
    assert matches('userName eq "bjensen"', doc)
    assert matches('emails[type eq "work"].value eq "b@x.org"', doc)
    assert matches(f'{EXT}:employeeNumber eq "7"', doc)


def test_malformed_documents_never_raise_during_evaluation() -> None:
    doc: dict[str, Any] = {"userName": 7, "emails": "x", "meta": {"created": "soon"}, "active": "yes", "name": [1]}
    text = (
        'userName eq "7" or emails[type eq "work"] or meta.created gt "2000-01-01T00:00:00Z" '
        'or active eq true or name.givenName sw "a" or emails.value pr'
    )
    assert matches(text, doc) is False


def test_value_filter_for_patch_selects_elements() -> None:
    path = parse_path('emails[type eq "WORK" and value ew "example.com"]')
    assert path.value_filter is not None
    emails = USER.attribute("emails")
    assert emails is not None
    select = compile_value_filter(path.value_filter, emails)
    assert [select(element) for element in BJENSEN["emails"]] == [True, False]
    with pytest.raises(InvalidFilterError, match="needs a complex attribute"):
        compile_value_filter(path.value_filter, Attribute("userName"))


# -- PATCH paths (RFC 7644 §3.5.2) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("members", PatchPath(attr("members"))),
        ("name.givenName", PatchPath(attr("name"), None, "givenName")),
        ('members[value eq "123"]', PatchPath(attr("members"), Compare(attr("value"), "eq", "123"))),
        ('emails[type eq "work"].value', PatchPath(attr("emails"), Compare(attr("type"), "eq", "work"), "value")),
        (f"{EXT}:manager", PatchPath(AttrPath(EXT, "manager"))),
        (f"{EXT}:manager.value", PatchPath(AttrPath(EXT, "manager"), None, "value")),
        ('members[value eq "1"].$ref', PatchPath(attr("members"), Compare(attr("value"), "eq", "1"), "$ref")),
        (
            'addresses[(type eq "work" or type eq "home") and primary eq true].locality',
            PatchPath(
                attr("addresses"),
                And(
                    Or(Compare(attr("type"), "eq", "work"), Compare(attr("type"), "eq", "home")),
                    Compare(attr("primary"), "eq", True),
                ),
                "locality",
            ),
        ),
    ],
)
def test_patch_paths_parse_and_print_back(text: str, expected: PatchPath) -> None:
    assert parse_path(text) == expected
    assert to_text(parse_path(text)) == text


def test_okta_remove_member_path_with_escaped_quotes_in_the_json_body() -> None:
    """docs/okta-idp.md §3: the path arrives JSON-decoded as members[value eq "<id>"]."""
    path = parse_path('members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]')
    assert path.value_filter == Compare(attr("value"), "eq", "89bb1940-b905-4575-9e7f-6f887cfb368e")


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        pytest.param("", "expected an attribute path", id="empty"),
        pytest.param('members[value eq "1"', "expected ']'", id="unclosed-bracket"),
        pytest.param('members[value eq "1"] x', "unexpected 'x' at offset 22", id="trailing-garbage"),
        pytest.param('emails[type eq "work"].value.display', "expected a sub-attribute name", id="two-sub-attributes"),
        pytest.param('emails[type eq "work"].', "expected a sub-attribute name", id="dangling-dot"),
        pytest.param("members value", "unexpected 'value'", id="two-words"),
        pytest.param("members[value eq 1 and]", "expected an attribute path", id="bad-filter"),
        pytest.param('name.givenName[value eq "x"]', "must follow an attribute", id="filter-after-sub"),
        pytest.param('members[value[x eq "y"]]', "cannot be nested", id="nested"),
        pytest.param('"members"', "expected an attribute path", id="quoted"),
    ],
)
def test_malformed_patch_paths_raise_invalid_path(text: str, detail: str) -> None:
    with pytest.raises(InvalidPathError) as info:
        parse_path(text)
    assert info.value.to_scim()["scimType"] == "invalidPath"
    assert detail in info.value.detail


# -- equality lookup for the store's planner -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "resource_type", "expected"),
    [
        pytest.param('externalId eq "e" and userName eq "u" and id eq "i"', "User", ("id", "i"), id="id-first"),
        pytest.param(
            'externalId eq "e" and (userName eq "u")', "User", ("userName", "u"), id="userName-over-externalId"
        ),
        pytest.param('emails eq "a@x" and externalId eq "e"', "User", ("externalId", "e"), id="externalId-over-email"),
        pytest.param('emails eq "a@x"', "User", ("emails.value", "a@x"), id="emails-without-sub"),
        pytest.param('emails.value eq "a@x"', "User", ("emails.value", "a@x"), id="emails-value"),
        pytest.param('emails[value eq "a@x"]', "User", ("emails.value", "a@x"), id="emails-value-path"),
        pytest.param('emails[type eq "work"]', "User", None, id="emails-type-only"),
        pytest.param(f'{urns.USER}:userName eq "u"', "User", ("userName", "u"), id="qualified-userName"),
        pytest.param('displayName eq "d"', "User", None, id="user-displayName-not-indexed"),
        pytest.param('displayName eq "d"', "Group", ("displayName", "d"), id="group-displayName"),
        pytest.param('userName eq "u" or id eq "i"', "User", None, id="never-under-or"),
        pytest.param('not (userName eq "u")', "User", None, id="never-under-not"),
        pytest.param('userName ne "u"', "User", None, id="never-from-ne"),
        pytest.param('userName co "u"', "User", None, id="never-from-co"),
        pytest.param("externalId eq null", "User", None, id="string-values-only"),
        pytest.param('title pr and (userName eq "u" or title pr)', "User", None, id="nested-or-stays-out"),
        pytest.param('nosuch eq "x" and userName eq "u"', "User", ("userName", "u"), id="ignores-unknown"),
    ],
)
def test_equality_lookup(text: str, resource_type: str, expected: tuple[str, str] | None) -> None:
    assert lookup(text, resource_type) == expected


# -- sortBy (RFC 7644 §3.4.2.3) ----------------------------------------------------------------------


def users(*docs: dict[str, Any]) -> list[dict[str, Any]]:
    return list(docs)


def sort_ids(docs: list[dict[str, Any]], path: str, *, descending: bool = False) -> list[str]:
    key = sort_key_for(path, REGISTRY, "User")
    return [doc["id"] for doc in sorted(docs, key=key, reverse=descending)]


def test_sort_folds_case_and_puts_missing_values_last() -> None:
    docs = users(
        {"id": "1", "userName": "bob"}, {"id": "2"}, {"id": "3", "userName": "Alice"}, {"id": "4", "userName": ""}
    )
    assert sort_ids(docs, "userName") == ["3", "1", "2", "4"]
    assert sort_ids(docs, "userName", descending=True) == ["2", "4", "1", "3"]


def test_sort_by_multi_valued_uses_the_primary_value_else_the_first() -> None:
    docs = users(
        {"id": "1", "emails": [{"value": "a@x"}, {"value": "z@x", "primary": True}]},
        {"id": "2", "emails": [{"value": "m@x"}, {"value": "b@x"}]},
    )
    assert sort_ids(docs, "emails.value") == ["2", "1"]
    assert sort_ids(docs, "emails") == ["2", "1"]


def test_sort_by_datetime_compares_instants() -> None:
    docs = users(
        {"id": "1", "meta": {"created": "2020-01-01T01:00:00+02:00"}},
        {"id": "2", "meta": {"created": "2020-01-01T00:00:00Z"}},
    )
    assert sort_ids(docs, "meta.created") == ["1", "2"]


def test_sort_with_mixed_stored_types_never_raises() -> None:
    docs = users(
        {"id": "1", "title": 3},
        {"id": "2", "title": "b"},
        {"id": "3", "title": True},
        {"id": "4", "title": {"x": 1}},
        {"id": "5", "title": 1.5},
    )
    assert sort_ids(docs, "title") == ["3", "5", "1", "2", "4"]


def test_sort_key_of_one_document() -> None:
    assert sort_key(BJENSEN, "name.familyName", REGISTRY, "User") < sort_key({}, "name.familyName", REGISTRY, "User")


@pytest.mark.parametrize(
    ("path", "detail"), [("nosuch", "unknown attribute 'nosuch'"), ("name", "name.familyName"), ("", "unknown")]
)
def test_sort_by_unknown_or_complex_attribute_is_invalid_value(path: str, detail: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        sort_key_for(path, REGISTRY, "User")
    assert detail in info.value.detail
