from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulators.okta.expression import (
    Array,
    Attribute,
    Binary,
    Call,
    Conditional,
    EvaluationError,
    ExpressionError,
    Literal,
    Node,
    Not,
    compile_expression,
    parse,
    render,
)

KNOWN = frozenset({"login", "email", "firstName", "lastName", "primaryPhone", "sshPublicKeys"})
USER: dict[str, Any] = {"login": "Ann.Lee@Example.com", "email": "ann@example.com", "firstName": "Ann"}


def run(source: str, attributes: dict[str, Any] | None = None) -> Any:
    return compile_expression(source, KNOWN).evaluate(USER if attributes is None else attributes)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("user.firstName", "Ann"),
        ("user.lastName", None),
        ("'it''s'", "it's"),
        ('"double"', "double"),
        ("user.firstName + ' ' + 'Lee'", "Ann Lee"),
        ("String.toLowerCase(user.login)", "ann.lee@example.com"),
        ("String.toUpperCase(user.firstName)", "ANN"),
        ("String.substringBefore(user.login, '@')", "Ann.Lee"),
        ("String.substringAfter(user.login, '@')", "Example.com"),
        ("String.join('-', user.firstName, 'x', 'y')", "Ann-x-y"),
        ("user.email != null && user.email != '' ? 'work' : ''", "work"),
        ("user.primaryPhone != null && user.primaryPhone != '' ? 'work' : ''", ""),
        ("user.lastName == null || false", True),
        ("(user.firstName == 'Ann') ? 'yes' : 'no'", "yes"),
        ("user.firstName == 'Bob' ? 'a' : user.firstName == 'Ann' ? 'b' : 'c'", "b"),
        ("NULL == user.lastName", True),
    ],
)
def test_supported_subset_evaluates_like_okta(source: str, expected: Any) -> None:
    assert run(source) == expected


def test_null_semantics_follow_spel_and_java() -> None:
    """Inferred from Okta's language being SpEL-based: null concatenates as "null"."""
    assert run("user.firstName + user.lastName") == "Annnull"
    assert run("user.lastName + user.lastName") is None
    assert run("String.toLowerCase(user.lastName)") is None
    assert run("String.substringBefore(user.login, '#')") == "Ann.Lee@Example.com"
    assert run("String.substringAfter(user.login, '#')") == ""


def test_join_flattens_list_attributes() -> None:
    assert run("String.join(',', user.sshPublicKeys)", {"sshPublicKeys": ["k1", "k2"]}) == "k1,k2"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("user.emial", r"unknown attribute user.emial at column 1 \(did you mean user.email\?\)"),
        ("String.toLowercase(user.email)", r"unknown function String.toLowercase.*did you mean String.toLowerCase"),
        ("toLowercase(user.email)", r"did you mean toLowerCase"),
        ("String.reverse(user.email)", "unknown function String.reverse"),
        ("String.stringSwitch(user.email, 'd', 'k')", "takes at least 2 and then key/value pairs"),
        ("!String.len(user.email) ? 'a' : 'b'", "is used as a condition but is not a boolean"),
        ("appuser.firstName", r"attributes are written user.<name>"),
        ("user.email +", "expected a value at column 13, found the end"),
        ("(user.email", r"expected '\)'"),
        ("user.email user.login", "unexpected 'user' at column 12"),
        ("String.toUpperCase(user.email, 'x')", r"takes 1 argument\(s\), not 2"),
        ("String.join()", r"takes at least 1 argument\(s\), not 0"),
        ("'unterminated", "unexpected character"),
        ("user.email ~ 'x'", "unexpected character '~'"),
        ("'a' ? 'b' : 'c'", "is used as a condition but is not a boolean"),
        ("user.email != null && 'x'", "is used as a condition"),
    ],
)
def test_configuration_errors_say_what_and_where(source: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        compile_expression(source, KNOWN)


def test_a_non_boolean_condition_from_data_fails_evaluation() -> None:
    with pytest.raises(EvaluationError, match="not true or false"):
        run("user.firstName ? 'a' : 'b'")


# -- properties ------------------------------------------------------------------------------

names = st.sampled_from(sorted(KNOWN))
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)
leaves: st.SearchStrategy[Node] = st.one_of(
    st.builds(
        Literal, st.one_of(st.none(), st.booleans(), texts, st.integers(-1000, 1000), st.sampled_from([0.5, 3.141]))
    ),
    st.builds(Attribute, names),
)


def comparisons(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.builds(Binary, st.sampled_from(["==", "!="]), children, children)


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.builds(Binary, st.sampled_from(["+", "==", "!="]), children, children),
        st.builds(Binary, st.sampled_from(["&&", "||"]), comparisons(children), comparisons(children)),
        st.builds(Conditional, comparisons(children), children, children),
        st.builds(Call, st.sampled_from(["String.toLowerCase", "String.toUpperCase"]), st.tuples(children)),
        st.builds(
            Call, st.sampled_from(["String.substringBefore", "String.substringAfter"]), st.tuples(children, children)
        ),
        st.builds(Call, st.just("String.join"), st.lists(children, min_size=1, max_size=3).map(tuple)),
        st.builds(Binary, st.sampled_from(["<", "<=", ">", ">=", "-"]), children, children),
        st.builds(Not, comparisons(children)),
        st.builds(Array, st.lists(children, max_size=3).map(tuple)),
        st.builds(Call, st.sampled_from(["Arrays.size", "Arrays.isEmpty", "String.len"]), st.tuples(children)),
    )


trees = st.recursive(leaves, _extend, max_leaves=12)


@settings(max_examples=300)
@given(trees)
def test_render_then_parse_gives_the_same_tree(node: Node) -> None:
    assert parse(render(node), KNOWN) == node


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_the_parser_fails_only_with_expression_errors(source: str) -> None:
    try:
        parse(source, KNOWN)
    except ExpressionError as exc:
        assert "column" in str(exc) or "condition" in str(exc)


@settings(max_examples=200)
@given(texts, texts)
def test_string_literals_round_trip_any_text(left: str, right: str) -> None:
    source = render(Binary("+", Literal(left), Literal(right)))
    assert compile_expression(source, KNOWN).evaluate({}) == left + right
