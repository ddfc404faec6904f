"""The Entra expression subset: parser, functions, compile-time errors, and parser properties."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulators.entra.expression import (
    Attribute,
    Call,
    ExpressionError,
    Literal,
    compile_expression,
    parse,
    quote,
)
from emulators.entra.mapping import ACTIVE_EXPRESSION


def ev(text: str, **attributes: object) -> object:
    return compile_expression(text).evaluate(attributes)


@pytest.mark.parametrize(
    ("text", "attributes", "expected"),
    [
        (ACTIVE_EXPRESSION, {"IsSoftDeleted": False}, "True"),
        (ACTIVE_EXPRESSION, {"IsSoftDeleted": True}, "False"),
        ('Switch([IsSoftDeleted], , "false", "true", "true", "false")', {"IsSoftDeleted": True}, "false"),
        ('Switch([c], "other", "US", "United States")', {"c": "FR"}, "other"),
        ('Join(" ", [givenName], [surname])', {"givenName": "Ann", "surname": "Lee"}, "Ann Lee"),
        ('Join(" ", [givenName], [surname])', {"givenName": "Ann"}, "Ann"),
        ('Append([a], "@x.test")', {"a": "ann"}, "ann@x.test"),
        ('Append([a], "@x.test")', {}, None),
        ("ToLower([a])", {"a": "ÄB"}, "äb"),
        ('ToUpper([a], "en-US")', {"a": "ab"}, "AB"),
        ('IIF([c]="US", "yes", "no")', {"c": "US"}, "yes"),
        ('IIF(IsPresent([c]), [c], "none")', {"c": ""}, "none"),
        ('Coalesce([a], [b], "d")', {"b": "B"}, "B"),
        ("Not([e])", {"e": "False"}, True),
        ("IsNull([m])", {}, True),
        ("Left([a], 3)", {"a": "abcdef"}, "abc"),
        ("Mid([a], 2, 3)", {"a": "abcdef"}, "bcd"),
        ('Replace([m], "@old.test", , , "@new.test", , )', {"m": "a@old.test"}, "a@new.test"),
        ('Replace([m], , "[0-9]+", , "#", , )', {"m": "a12b3"}, "a#b#"),
        ("StripSpaces([a])", {"a": " a b  c "}, "abc"),
        ("NormalizeDiacritics([a])", {"a": "Zoë Ångström"}, "Zoe Angstrom"),
        ("SingleAppRoleAssignment([r])", {"r": [{"id": "1", "value": "Admin"}]}, {"id": "1", "value": "Admin"}),
        ('"say \\"hi\\""', {}, 'say "hi"'),
        ("toupper([a])", {"a": "x"}, "X"),
    ],
)
def test_functions(text: str, attributes: dict[str, object], expected: object) -> None:
    assert ev(text, **attributes) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Frobnicate([a])", "unknown function Frobnicate"),
        ("ToLowr([a])", "did you mean ToLower"),
        ("Left([a])", "Left takes Left(string, numChars); got 1"),
        ('Switch([a], , "x")', "Switch takes"),
        ('Replace([a], "x", "y")', "Replace takes"),
        ("IIF([a], [b])", "IIF takes"),
        ("Join([a]", "expected ',' or ')'"),
        ('"open', "is not closed"),
        ("[a", "'[' must enclose"),
        ("[a] [b]", "expected the end of the expression"),
        ("a", "expected '('"),
        ("[givenNam]", "unknown attribute [givenNam]; did you mean [givenName]"),
    ],
)
def test_configuration_errors_are_raised_at_compile_time(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        compile_expression(text, frozenset({"a", "b", "givenName"}))


def test_expression_longer_than_the_limit_is_refused() -> None:
    with pytest.raises(ExpressionError, match="10000"):
        compile_expression('"' + "x" * 10_001 + '"')


# -- properties -------------------------------------------------------------------------------------

NAMES = st.sampled_from(["givenName", "surname", "mail", "department"])
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


def _render(node: object) -> str:
    if isinstance(node, Literal):
        return "" if node.value is None else (quote(node.value) if isinstance(node.value, str) else str(node.value))
    if isinstance(node, Attribute):
        return f"[{node.name}]"
    assert isinstance(node, Call)
    return f"{node.function}({', '.join(_render(arg) for arg in node.args)})"


leaves = st.one_of(TEXT.map(Literal), NAMES.map(Attribute))
trees = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.tuples(children).map(lambda a: Call("ToLower", a)),
        st.tuples(children, children).map(lambda a: Call("Append", a)),
        st.lists(children, min_size=1, max_size=3).map(lambda a: Call("Join", (Literal(" "), *a))),
        st.lists(children, min_size=1, max_size=3).map(lambda a: Call("Coalesce", tuple(a))),
        st.tuples(children).map(lambda a: Call("NormalizeDiacritics", a)),
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(trees)
def test_rendered_trees_parse_back_to_the_same_tree(tree: object) -> None:
    assert parse(_render(tree)) == tree


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_any_string_literal_round_trips(value: str) -> None:
    assert ev(quote(value)) == value


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_text_parses_or_raises_expression_error(text: str) -> None:
    with contextlib.suppress(ExpressionError):
        compile_expression(text)


@settings(max_examples=100, deadline=None)
@given(tree=trees, values=st.dictionaries(NAMES, st.one_of(st.none(), TEXT)))
def test_evaluation_of_string_functions_yields_text_or_null(tree: object, values: dict[str, object]) -> None:
    result = compile_expression(_render(tree)).evaluate(values)
    assert result is None or isinstance(result, str)
