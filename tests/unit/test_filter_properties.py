"""Properties of the filter language: printing round-trips, evaluation agrees with a naive model, no input
string escapes as anything but a SCIM 400, and the planner's equality lookup never drops a match."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from aup_server.errors import InvalidFilterError, InvalidPathError
from aup_server.scim.filter import (
    COMPARE_OPS,
    And,
    AttrPath,
    Compare,
    Filter,
    Not,
    Or,
    Present,
    ValuePath,
    compile_filter,
    equality_lookup,
    parse_filter,
    parse_path,
    to_text,
)
from scimcore import urns
from scimcore.schemas import core_registry

REGISTRY = core_registry()
SETTINGS = settings(max_examples=200, deadline=None)

# -- (a) round trip ----------------------------------------------------------------------------------

names = st.from_regex(r"[A-Za-z][A-Za-z0-9_\-]{0,6}", fullmatch=True)
uris = st.one_of(
    st.none(),
    st.sampled_from([urns.USER, urns.ENTERPRISE_USER]),
    st.from_regex(r"urn(:[A-Za-z0-9._\-]{1,5}){1,4}", fullmatch=True),
)
attr_paths = st.builds(AttrPath, uris, names, st.none() | names | st.just("$ref"))
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
leaves = st.one_of(st.builds(Compare, attr_paths, st.sampled_from(COMPARE_OPS), values), st.builds(Present, attr_paths))


def logical(children: st.SearchStrategy[Filter]) -> st.SearchStrategy[Filter]:
    return st.one_of(st.builds(And, children, children), st.builds(Or, children, children), st.builds(Not, children))


# RFC 7644 errata 4690: no valuePath inside a valuePath; a valuePath names an attribute, not a sub-attribute.
element_filters = st.recursive(leaves, logical, max_leaves=4)
value_paths = st.builds(ValuePath, st.builds(AttrPath, uris, names, st.none()), element_filters)


def height(node: Filter) -> int:
    if isinstance(node, And | Or):
        return 1 + max(height(node.left), height(node.right))
    if isinstance(node, Not):
        return 1 + height(node.inner)
    if isinstance(node, ValuePath):
        return 1 + height(node.filter)
    return 1


filters = st.recursive(leaves | value_paths, logical, max_leaves=8).filter(lambda node: height(node) <= 20)


@SETTINGS
@given(filters)
def test_printed_filters_parse_back_to_the_same_tree(node: Filter) -> None:
    assert parse_filter(to_text(node)) == node


# -- (c) arbitrary input -----------------------------------------------------------------------------

fragments = st.sampled_from(
    ['userName', ' eq ', ' pr', ' and ', ' or ', 'not ', '(', ')', '[', ']', '.', '"x"', '"\\', '\\u00', '12',
     '-', '1e9', 'e', 'true', 'null', ':', 'urn:a:b', '$ref', ' ', 'emails', 'value', 'type eq "w"']
)  # fmt: skip
soups = st.lists(fragments, max_size=30).map("".join)


@SETTINGS
@given(st.text() | soups)
def test_any_text_parses_or_raises_invalid_filter(text: str) -> None:
    try:
        parse_filter(text, max_nodes=20)
    except InvalidFilterError as exc:
        assert exc.status == 400 and exc.detail.startswith("invalid filter: ")


@SETTINGS
@given(st.text() | soups)
def test_any_text_parses_as_a_path_or_raises_invalid_path(text: str) -> None:
    try:
        parse_path(text)
    except InvalidPathError as exc:
        assert exc.status == 400 and exc.detail.startswith("invalid PATCH path: ")


# -- (b) evaluation agrees with a naive model ---------------------------------------------------------

CASE_EXACT = {"externalId": True, "id": True, "userName": False, "title": False, "value": False, "type": False}
strings = st.sampled_from(["a", "A", "ab", "Ab", "b", ""])
emails = st.lists(
    st.fixed_dictionaries({}, optional={"value": strings, "type": strings, "primary": st.booleans()}), max_size=3
)
documents = st.fixed_dictionaries(
    {},
    optional={
        "id": strings,
        "externalId": strings,
        "userName": strings,
        "title": strings | st.none(),
        "active": st.booleans(),
        "emails": emails,
    },
)


def spelled(name: str) -> st.SearchStrategy[str]:
    """The attribute name in its canonical, lower or upper case: lookups fold it."""
    return st.sampled_from([name, name.lower(), name.upper()])


string_ops = st.sampled_from(["eq", "ne", "co", "sw", "ew"])
string_attrs = st.sampled_from(["id", "externalId", "userName", "title"]).flatmap(spelled)
top_leaves = st.one_of(
    st.builds(Compare, st.builds(AttrPath, st.none(), string_attrs), string_ops, strings),
    st.builds(Compare, st.builds(AttrPath, st.none(), spelled("active")), st.sampled_from(["eq", "ne"]), st.booleans()),
    st.builds(
        Compare, st.builds(AttrPath, st.none(), spelled("emails"), st.none() | spelled("value")), string_ops, strings
    ),
    st.builds(Compare, st.builds(AttrPath, st.none(), spelled("emails"), spelled("type")), string_ops, strings),
    st.builds(Present, st.builds(AttrPath, st.none(), string_attrs | spelled("active") | spelled("emails"))),
)
inner_leaves = st.one_of(
    st.builds(Compare, st.builds(AttrPath, st.none(), spelled("value") | spelled("type")), string_ops, strings),
    st.builds(
        Compare, st.builds(AttrPath, st.none(), spelled("primary")), st.sampled_from(["eq", "ne"]), st.booleans()
    ),
    st.builds(Present, st.builds(AttrPath, st.none(), spelled("value") | spelled("type") | spelled("primary"))),
)
model_filters = st.recursive(
    top_leaves
    | st.builds(
        ValuePath, st.builds(AttrPath, st.none(), spelled("emails")), st.recursive(inner_leaves, logical, max_leaves=3)
    ),
    logical,
    max_leaves=6,
)


def canonical(name: str) -> str:
    return next(key for key in [*CASE_EXACT, "active", "emails", "primary"] if key.lower() == name.lower())


def non_empty(value: Any) -> bool:
    return value not in (None, "", [], {})


def model_values(doc: dict[str, Any], path: AttrPath, *, for_presence: bool) -> list[Any]:
    name = canonical(path.attr)
    if name != "emails":
        return [doc[name]] if doc.get(name) is not None else []
    elements = doc.get("emails", [])
    if path.sub is None and for_presence:
        return [element for element in elements if any(non_empty(v) for v in element.values())]
    sub = canonical(path.sub or "value")
    return [element[sub] for element in elements if element.get(sub) is not None]


def model_compare(op: str, stored: Any, wanted: str | bool, exact: bool) -> bool:
    if isinstance(wanted, bool):
        return stored is wanted
    a, b = (str(stored), wanted) if exact else (str(stored).casefold(), wanted.casefold())
    return {"eq": a == b, "co": b in a, "sw": a.startswith(b), "ew": a.endswith(b)}[op]


def model(node: Filter, doc: dict[str, Any]) -> bool:
    """The RFC 7644 §3.4.2.2 semantics spelled out the slow, obvious way."""
    if isinstance(node, And):
        return model(node.left, doc) and model(node.right, doc)
    if isinstance(node, Or):
        return model(node.left, doc) or model(node.right, doc)
    if isinstance(node, Not):
        return not model(node.inner, doc)
    if isinstance(node, ValuePath):
        return any(model(node.filter, element) for element in doc.get("emails", []))
    if isinstance(node, Present):
        return any(non_empty(v) for v in model_values(doc, node.path, for_presence=True))
    exact = CASE_EXACT.get(canonical(node.path.sub or node.path.attr), False)
    op, wanted = ("eq" if node.op == "ne" else node.op), node.value
    assert isinstance(wanted, str | bool), "the strategies compare strings and booleans only"
    hit = any(model_compare(op, v, wanted, exact) for v in model_values(doc, node.path, for_presence=False))
    return not hit if node.op == "ne" else hit


@SETTINGS
@given(model_filters, documents)
def test_compiled_filter_agrees_with_the_model(node: Filter, doc: dict[str, Any]) -> None:
    predicate = compile_filter(parse_filter(to_text(node)), REGISTRY, "User")
    assert predicate(doc) is model(node, doc)


# -- (d) the planner's equality lookup is sound --------------------------------------------------------


def indexed_value_matches(doc: dict[str, Any], key: str, value: str) -> bool:
    if key in ("id", "externalId"):
        return doc.get(key) == value
    if key == "userName":
        return isinstance(doc.get("userName"), str) and doc["userName"].casefold() == value.casefold()
    assert key == "emails.value"
    return any(e.get("value", "").casefold() == value.casefold() for e in doc.get("emails", []))


equalities = st.one_of(
    st.builds(
        Compare,
        st.builds(AttrPath, st.none(), st.sampled_from(["id", "userName", "externalId"])),
        st.just("eq"),
        strings,
    ),
    st.builds(
        Compare, st.builds(AttrPath, st.none(), st.just("emails"), st.none() | st.just("value")), st.just("eq"), strings
    ),
    st.builds(
        ValuePath,
        st.builds(AttrPath, st.none(), st.just("emails")),
        st.builds(Compare, st.just(AttrPath(None, "value")), st.just("eq"), strings),
    ),
)
planned_filters = st.recursive(equalities | top_leaves, logical, max_leaves=6)


@SETTINGS
@given(planned_filters, st.lists(documents, max_size=6))
def test_equality_lookup_never_excludes_a_match(node: Filter, docs: list[dict[str, Any]]) -> None:
    found = equality_lookup(node, REGISTRY, "User")
    if found is None:
        return
    predicate = compile_filter(node, REGISTRY, "User")
    for doc in docs:
        if predicate(doc):
            assert indexed_value_matches(doc, *found)
