"""Filters bound to a schema: predicates over resource documents, equality lookups and sort keys.

Every attribute path is resolved through the SchemaRegistry when a filter is compiled, so an unknown
attribute or an impossible comparison fails the request with 400 invalidFilter before any document
is read (RFC 7644 §3.4.2.2). Evaluation itself never raises, whatever the stored documents hold.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias

from aup_server.errors import InvalidFilterError, InvalidValueError
from aup_server.scim.filter_ast import (
    And,
    AttrPath,
    Compare,
    CompareOp,
    CompValue,
    Filter,
    Not,
    Or,
    Present,
    ValuePath,
    to_text,
)
from scimcore.schemas import Attribute, ResolvedPath, SchemaRegistry

Document: TypeAlias = Mapping[str, Any]
Predicate: TypeAlias = Callable[[Document], bool]
# (missing, type rank, value): missing values sort after all others in ascending order (RFC 7644 §3.4.2.3).
SortKey: TypeAlias = tuple[int, int, Any]
IndexedKey = Literal["id", "externalId", "userName", "displayName", "emails.value"]

# RFC 7643 §3: "schemas" is on every resource but defined by no schema; URNs compare case-insensitively.
_SCHEMAS = Attribute("schemas", "reference", multi_valued=True, mutability="readOnly")
# RFC 7643 §2.3.5: xsd:dateTime, e.g. 2008-01-23T04:56:22Z; a missing offset is read as UTC.
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?", re.ASCII)
_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
_STRING_TESTS: dict[str, Callable[[str, str], bool]] = {
    **_ORDERING,
    "co": lambda value, needle: needle in value,
    "sw": lambda value, needle: value.startswith(needle),
    "ew": lambda value, needle: value.endswith(needle),
}
_INDEXED: dict[tuple[str | None, tuple[str, ...]], IndexedKey] = {
    (None, ("id",)): "id",
    (None, ("externalId",)): "externalId",
    ("User", ("userName",)): "userName",
    ("Group", ("displayName",)): "displayName",
    ("User", ("emails", "value")): "emails.value",
}
_PREFERENCE: tuple[IndexedKey, ...] = ("id", "userName", "externalId", "displayName", "emails.value")


def _secret(attr: Attribute) -> bool:
    """writeOnly or never returned (RFC 7643 §2.2): no value of it may appear in an error detail."""
    return attr.mutability == "writeOnly" or attr.returned == "never"


def fold_case(text: str) -> str:
    """The form in which caseExact=false strings are compared and sorted (RFC 7643 §2.2); the store agrees."""
    return text.casefold()


def _exact(text: str) -> str:
    return text


@dataclass(frozen=True)
class _Bound:
    """An attribute path bound to its definition; ``steps`` are the keys from the document to its values."""

    attribute: Attribute
    parent: Attribute | None
    steps: tuple[str, ...]
    text: str

    def value_attribute(self) -> _Bound | None:
        """For a complex attribute, its ``value`` sub-attribute: ``emails co "x"`` means ``emails.value co "x"``."""
        sub = self.attribute.sub("value") if self.parent is None else None
        return None if sub is None else _Bound(sub, self.attribute, (*self.steps, sub.name), self.text)


_Resolver: TypeAlias = Callable[[AttrPath], _Bound]


def _bind(resolved: ResolvedPath, text: str) -> _Bound:
    steps = ((resolved.extension,) if resolved.extension else ()) + (resolved.attribute.name,)
    if resolved.sub_attribute is None:
        return _Bound(resolved.attribute, None, steps, text)
    return _Bound(resolved.sub_attribute, resolved.attribute, (*steps, resolved.sub_attribute.name), text)


def _resource_resolver(registry: SchemaRegistry, resource_type: str) -> _Resolver:
    core_urn = registry.resource_type(resource_type).schema.lower()

    def resolve(path: AttrPath) -> _Bound:
        text = str(path)
        resolved = registry.resolve(resource_type, text)
        if resolved is None and path.uri is not None and path.uri.lower() == core_urn:
            # RFC 7643 §3.1: id, externalId and meta belong to every resource, so accept them core-qualified.
            resolved = registry.resolve(resource_type, str(AttrPath(None, path.attr, path.sub)))
        if resolved is not None:
            return _bind(resolved, text)
        if path.uri is None and path.sub is None and path.attr.lower() == "schemas":
            return _Bound(_SCHEMAS, None, ("schemas",), text)
        raise InvalidFilterError(
            f"unknown attribute '{text}': {resource_type} resources have no such attribute (see /Schemas; "
            "extension attributes need their schema URN, e.g. urn:...:enterprise:2.0:User:manager)"
        )

    return resolve


def _element_resolver(parent: Attribute) -> _Resolver:
    """Paths inside ``parent[...]`` name its sub-attributes (RFC 7644 §3.4.2.2 valuePath)."""

    def resolve(path: AttrPath) -> _Bound:
        sub = parent.sub(path.attr) if path.uri is None and path.sub is None else None
        if sub is None:
            names = ", ".join(s.name for s in parent.sub_attributes)
            raise InvalidFilterError(f"'{path}' inside {parent.name}[...] must be one of its sub-attributes: {names}")
        return _Bound(sub, parent, (sub.name,), str(path))

    return resolve


def compile_filter(node: Filter, registry: SchemaRegistry, resource_type: str) -> Predicate:
    """Bind ``node`` to the schemas of ``resource_type`` and return a predicate over resource documents."""
    return _compile(node, _resource_resolver(registry, resource_type), nested=False)


def compile_value_filter(node: Filter, attribute: Attribute) -> Predicate:
    """A predicate over the elements of a complex attribute, for PATCH paths such as ``members[value eq "x"]``."""
    if attribute.type != "complex":
        raise InvalidFilterError(
            f"'{attribute.name}[...]' needs a complex attribute; {attribute.name} is {attribute.type}"
        )
    return _compile(node, _element_resolver(attribute), nested=True)


def _compile(node: Filter, resolve: _Resolver, nested: bool) -> Predicate:
    match node:
        case And(left, right):
            first, second = _compile(left, resolve, nested), _compile(right, resolve, nested)
            return lambda doc: first(doc) and second(doc)
        case Or(left, right):
            first, second = _compile(left, resolve, nested), _compile(right, resolve, nested)
            return lambda doc: first(doc) or second(doc)
        case Not(inner):
            negated = _compile(inner, resolve, nested)
            return lambda doc: not negated(doc)
        case Present(path):
            steps = resolve(path).steps
            return lambda doc: any(_is_present(value) for value in _values(doc, steps))
        case Compare(path, op, value):
            bound = resolve(path)
            # a comparison value for a writeOnly attribute (password) could be a password: never echo it
            text = f"{path} {op} …" if _secret(bound.attribute) else to_text(node)
            return _compile_compare(bound, op, value, text)
        case ValuePath(path, inner):
            if nested:
                raise InvalidFilterError(f"value filters cannot be nested: '{path}[...]' is inside another [...]")
            bound = resolve(path)
            if bound.attribute.type != "complex" or bound.parent is not None:
                kind = bound.attribute.type
                raise InvalidFilterError(f"'{path}[...]' needs a complex attribute such as emails; '{path}' is {kind}")
            test = _compile(inner, _element_resolver(bound.attribute), nested=True)
            steps = bound.steps
            return lambda doc: any(isinstance(item, Mapping) and test(item) for item in _values(doc, steps))
    raise TypeError(f"not a filter node: {node!r}")


def _compile_compare(bound: _Bound, op: CompareOp, value: CompValue, text: str) -> Predicate:
    """``ne`` is the negation of ``eq``, so it holds for a missing attribute; the other operators need a value."""
    if value is None:
        if op not in ("eq", "ne"):
            raise InvalidFilterError(f"'{text}': null can only be compared with eq or ne")
        steps, wanted = bound.steps, op == "ne"  # eq null: has no value; ne null: has one
        return lambda doc: any(_is_present(v) for v in _values(doc, steps)) == wanted
    if bound.attribute.type == "complex":
        redirected = bound.value_attribute()
        if redirected is None or op in ("gt", "ge", "lt", "le"):
            names = ", ".join(f"{bound.text}.{s.name}" for s in bound.attribute.sub_attributes)
            raise InvalidFilterError(f"'{text}': {bound.text} is complex; compare a sub-attribute ({names})")
        bound = redirected
    test = _leaf_test(bound, "eq" if op == "ne" else op, value, text)
    steps = bound.steps
    if op == "ne":
        return lambda doc: not any(test(v) for v in _values(doc, steps))
    return lambda doc: any(test(v) for v in _values(doc, steps))


def _leaf_test(bound: _Bound, op: str, value: str | bool | int | float, text: str) -> Callable[[Any], bool]:
    """The test one stored value must pass, after checking ``op`` and ``value`` suit the attribute's type."""
    attr, name = bound.attribute, bound.text
    if attr.type == "boolean":
        if op != "eq" or not isinstance(value, bool):
            raise InvalidFilterError(f"'{text}': {name} is boolean; compare it with eq or ne and true or false")
        return lambda v: isinstance(v, bool) and v == value
    if attr.type in ("integer", "decimal"):
        if op in ("co", "sw", "ew") or isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidFilterError(f"'{text}': {name} is a number; use eq, ne, gt, ge, lt or le and a number")
        compare = _ORDERING[op]
        return lambda v: isinstance(v, int | float) and not isinstance(v, bool) and compare(v, value)
    if attr.type == "dateTime":
        instant = _instant(value)
        if op in ("co", "sw", "ew") or instant is None:
            raise InvalidFilterError(
                f"'{text}': {name} is a dateTime; use eq, ne, gt, ge, lt or le and an instant "
                'such as "2011-05-13T04:42:34Z"'
            )
        compare = _ORDERING[op]
        return lambda v: (stored := _instant(v)) is not None and compare(stored, instant)
    if not isinstance(value, str):
        raise InvalidFilterError(f"'{text}': {name} is a {attr.type}; compare it with a quoted string")
    if attr.type == "binary" and op != "eq":
        raise InvalidFilterError(f"'{text}': {name} is binary; compare it with eq or ne only")
    fold: Callable[[str], str] = _exact if attr.case_exact else fold_case
    needle, string_test = fold(value), _STRING_TESTS[op]
    return lambda v: isinstance(v, str) and string_test(fold(v), needle)


def _instant(value: object) -> datetime | None:
    """An RFC 7643 §2.3.5 dateTime as an aware UTC datetime, or None."""
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        return None
    try:
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _lookup(container: Mapping[str, Any], key: str) -> Any:
    """``container[key]`` with the key matched case-insensitively (RFC 7643 §2.1), or None."""
    if key in container:
        return container[key]
    folded = key.lower()
    for name, value in container.items():
        if isinstance(name, str) and name.lower() == folded:
            return value
    return None


def _values(doc: Document, steps: tuple[str, ...]) -> list[Any]:
    """The values ``steps`` lead to, with multi-valued attributes flattened and nulls dropped."""
    current: list[Any] = [doc]
    for step in steps:
        found: list[Any] = []
        for item in current:
            value = _lookup(item, step) if isinstance(item, Mapping) else None
            if isinstance(value, list):
                found.extend(value)
            else:
                found.append(value)
        current = [v for v in found if v is not None]
    return current


def _is_present(value: Any) -> bool:
    """RFC 7644 §3.4.2.2 ``pr``: not null, not an empty string, list or object."""
    if isinstance(value, str):
        return value != ""
    if isinstance(value, list):
        return any(_is_present(v) for v in value)
    if isinstance(value, Mapping):
        return any(_is_present(v) for v in value.values())
    return value is not None


def _conjuncts(node: Filter) -> Iterator[Filter]:
    """The operands of the top-level chain of ``and`` (the node itself when it is not an ``and``)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, And):
            stack += [current.right, current.left]
        else:
            yield current


def equality_lookup(node: Filter, registry: SchemaRegistry, resource_type: str) -> tuple[IndexedKey, str] | None:
    """An indexed (key, value) every match must have, for the store to narrow candidates; else None.

    Only top-level conjuncts count: an ``eq`` under ``or`` or ``not`` does not hold for every match.
    The value compares as the attribute does (folded unless caseExact). The caller still applies the
    full predicate, so this only has to be sound, never complete.
    """
    resolve = _resource_resolver(registry, resource_type)
    found: dict[IndexedKey, str] = {}
    for conjunct in _conjuncts(node):
        hit = _indexed_equality(conjunct, resolve, resource_type)
        if hit is not None:
            found.setdefault(*hit)
    return next(((key, found[key]) for key in _PREFERENCE if key in found), None)


def _indexed_equality(node: Filter, resolve: _Resolver, resource_type: str) -> tuple[IndexedKey, str] | None:
    try:
        if isinstance(node, Compare) and node.op == "eq" and isinstance(node.value, str):
            bound = resolve(node.path)
            bound = bound.value_attribute() or bound
            return _indexed_key(bound.steps, resource_type, node.value)
        if isinstance(node, ValuePath):
            bound = resolve(node.path)
            element = _element_resolver(bound.attribute)
            for inner in _conjuncts(node.filter):
                if isinstance(inner, Compare) and inner.op == "eq" and isinstance(inner.value, str):
                    hit = _indexed_key((*bound.steps, *element(inner.path).steps), resource_type, inner.value)
                    if hit is not None:
                        return hit
    except InvalidFilterError:
        return None  # compile_filter reports it
    return None


def _indexed_key(steps: tuple[str, ...], resource_type: str, value: str) -> tuple[IndexedKey, str] | None:
    key = _INDEXED.get((resource_type, steps)) or _INDEXED.get((None, steps))
    return None if key is None else (key, value)


def sort_key_for(path: str, registry: SchemaRegistry, resource_type: str) -> Callable[[Document], SortKey]:
    """Validate a ``sortBy`` path once and return the key function (RFC 7644 §3.4.2.3).

    Strings fold unless caseExact; a multi-valued attribute sorts by its primary value, else its first;
    values of different types never compare with each other, so sorting never raises TypeError.
    """
    resolve = _resource_resolver(registry, resource_type)
    urn, _, rest = path.strip().rpartition(":")
    attr, _, sub = rest.partition(".")
    try:
        bound = resolve(AttrPath(urn or None, attr, sub or None))
    except InvalidFilterError as exc:
        raise InvalidValueError(
            f"sortBy names unknown attribute '{path}'; use an attribute path such as meta.created"
        ) from exc
    if bound.attribute.type == "complex":
        redirected = bound.value_attribute()
        if redirected is None:
            names = ", ".join(f"{bound.text}.{s.name}" for s in bound.attribute.sub_attributes)
            raise InvalidValueError(f"sortBy '{path}' is a complex attribute; sort by a sub-attribute ({names})")
        bound = redirected
    return lambda doc: _sort_rank(_sort_value(doc, bound), bound.attribute)


def sort_key(doc: Document, path: str, registry: SchemaRegistry, resource_type: str) -> SortKey:
    """The key of ``doc`` for ``sortBy=path``; InvalidValueError (400 invalidValue) for an unknown path."""
    return sort_key_for(path, registry, resource_type)(doc)


def _sort_value(doc: Document, bound: _Bound) -> Any:
    if bound.parent is not None and bound.parent.multi_valued:
        elements = [e for e in _values(doc, bound.steps[:-1]) if isinstance(e, Mapping)]
        primary = [e for e in elements if _lookup(e, "primary") is True]
        chosen = primary or elements
        return _lookup(chosen[0], bound.steps[-1]) if chosen else None
    values = _values(doc, bound.steps)
    return values[0] if values else None


def _sort_rank(value: Any, attr: Attribute) -> SortKey:
    if isinstance(value, bool):
        return (0, 1, int(value))
    if isinstance(value, int | float):
        return (0, 2, value)
    if isinstance(value, str) and value:
        instant = _instant(value) if attr.type == "dateTime" else None
        if instant is not None:
            return (0, 3, instant)
        return (0, 4, value if attr.case_exact else fold_case(value))
    return (1, 0, 0)
