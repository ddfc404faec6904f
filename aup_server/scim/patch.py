"""PATCH (RFC 7644 §3.5.2): every operation applied to a copy of the document, or none at all.

Group ``members`` are rows in the store, not part of the document, so operations on them become an
ordered list of membership changes the service applies in the same transaction as the document
(docs/domain.md §3 item 1: deltas, never a rewritten list). Every shape Okta and Entra send
is recognised explicitly (docs/okta-idp.md §6-§7, §10; docs/entra-idp.md §4-§5); any other shape
is a 400, never a silent no-op and never "replace with empty" (docs/domain.md §3 item 2).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from aup_server.errors import (
    InvalidPathError,
    InvalidSyntaxError,
    InvalidValueError,
    MutabilityError,
    NoTargetError,
    PayloadTooLargeError,
)
from aup_server.scim import filter as filters
from aup_server.scim.resource import (
    MEMBERS,
    check_immutable,
    coerce_element,
    coerce_value,
    extension_fields,
    get_field,
    member_refs,
    resolve,
    revalidate,
    settle_primary,
)
from scimcore import urns
from scimcore.schemas import Attribute, SchemaRegistry

OPS = ("add", "remove", "replace")


@dataclass(frozen=True)
class MemberAdd:
    """Add these ids; ids that are already members stay as they are (Okta re-adds them, docs/okta-idp.md §7)."""

    values: tuple[str, ...]


@dataclass(frozen=True)
class MemberRemove:
    """Remove these ids; an id that is not a member is ignored."""

    values: tuple[str, ...]


@dataclass(frozen=True)
class MemberClear:
    """Remove every member."""


@dataclass(frozen=True)
class MemberRemoveWhere:
    """Remove the members a value filter selects; ``matches`` takes a member ``{value, display?, type?}``."""

    filter: str
    predicate: Callable[[dict[str, Any]], bool] = field(compare=False, repr=False)

    def matches(self, member: dict[str, Any]) -> bool:
        return self.predicate(member)


MemberChange = MemberAdd | MemberRemove | MemberClear | MemberRemoveWhere


@dataclass(frozen=True)
class PatchResult:
    """The patched, revalidated document and, for a Group, the membership changes in request order.

    ``doc`` never contains ``members``; it keeps the readOnly values (``id``, ``meta``) of the input.
    """

    doc: dict[str, Any]
    member_changes: tuple[MemberChange, ...] = ()


def apply_patch(
    doc: dict[str, Any],
    body: Any,
    registry: SchemaRegistry,
    resource_type: str,
    *,
    max_operations: int = 1000,
    max_member_values: int = 10_000,
) -> PatchResult:
    """Apply a PatchOp body to ``doc`` (never mutated); raises a ScimError before returning anything partial.

    More than ``max_operations`` operations, or more than ``max_member_values`` member ids in one
    request, is 413 Payload Too Large, as Miro answers (docs/domain.md §3 item 7).
    """
    patcher = _Patcher(doc, registry, resource_type, max_member_values)
    for index, operation in enumerate(_operations(body, max_operations)):
        patcher.apply(operation, f"Operations[{index}]")
    return patcher.result()


@dataclass(frozen=True)
class _Operation:
    op: str
    path: str | None
    value: Any  # None when absent or null


def _operations(body: Any, max_operations: int) -> list[_Operation]:
    """The operations of a PatchOp message; names and ``op`` values match case-insensitively (docs/entra-idp.md §5)."""
    if not isinstance(body, dict):
        raise InvalidSyntaxError("a PATCH body must be a JSON object (RFC 7644 §3.5.2)")
    schemas = get_field(body, "schemas")
    if not isinstance(schemas, list) or urns.PATCH_OP.lower() not in {
        urn.lower() for urn in schemas if isinstance(urn, str)
    }:
        raise InvalidSyntaxError(f'a PATCH body must have "schemas": ["{urns.PATCH_OP}"]')
    raw_ops = get_field(body, "Operations")
    if not isinstance(raw_ops, list) or not raw_ops:
        raise InvalidSyntaxError('a PATCH body needs "Operations": a non-empty array of operations')
    if len(raw_ops) > max_operations:
        raise PayloadTooLargeError(
            f"{len(raw_ops)} operations in one PATCH; the limit is {max_operations}. Send several requests."
        )
    operations = []
    for index, raw in enumerate(raw_ops):
        where = f"Operations[{index}]"
        if not isinstance(raw, dict):
            raise InvalidSyntaxError(f"{where} must be an object with op, path and value")
        op = get_field(raw, "op")
        if not isinstance(op, str) or op.lower() not in OPS:
            raise InvalidSyntaxError(f'{where}.op must be "add", "remove" or "replace", not {op!r}')
        path = get_field(raw, "path")
        if path is not None and not isinstance(path, str):
            raise InvalidPathError(f'{where}.path must be a string such as "name.givenName", not {path!r}')
        path = path.strip() if path else None
        operations.append(_Operation(op.lower(), path or None, get_field(raw, "value")))
    return operations


@dataclass(frozen=True)
class _Target:
    """What a path points at: the attribute, its extension URN, a sub-attribute and a value filter."""

    text: str
    attr: Attribute
    extension: str | None
    sub: Attribute | None
    selector: filters.Filter | None
    predicate: Callable[[dict[str, Any]], bool] | None

    @property
    def name(self) -> str:
        return f"{self.extension}:{self.attr.name}" if self.extension else self.attr.name


class _Patcher:
    def __init__(self, doc: dict[str, Any], registry: SchemaRegistry, resource_type: str, max_members: int) -> None:
        self.original = doc
        self.doc = copy.deepcopy(doc)
        self.registry = registry
        self.resource_type = resource_type
        self.max_members = max_members
        self.member_values = 0
        self.changes: list[MemberChange] = []
        if resource_type == "Group":
            self.doc.pop(MEMBERS, None)

    def result(self) -> PatchResult:
        check_immutable(self.original, self.doc, self.registry, self.resource_type, keep_omitted=False)
        return PatchResult(revalidate(self.doc, self.registry, self.resource_type), tuple(self.changes))

    # -- dispatch -------------------------------------------------------------------------------

    def apply(self, operation: _Operation, where: str) -> None:
        if operation.path is not None:
            self._at(operation.op, operation.path, operation.value, where)
            return
        if operation.op == "remove":
            raise NoTargetError(f"{where}: remove needs a path naming what to remove (RFC 7644 §3.5.2.2)")
        value = operation.value
        if not isinstance(value, dict) or not value:
            raise InvalidValueError(
                f"{where}: without a path, value must be an object of the attributes to {operation.op} "
                "(RFC 7644 §3.5.2.1, §3.5.2.3)"
            )
        self._each(operation.op, "", value, where)

    def _each(self, op: str, prefix: str, value: dict[str, Any], where: str) -> None:
        """The attributes of a path-less value (or of an extension object), each as if it had a path."""
        for key, item in value.items():
            if not isinstance(key, str) or (not prefix and key.lower() == "schemas"):
                continue
            if item is None and op == "replace":
                self._at("remove", prefix + key, None, where)  # null means unassigned (RFC 7643 §2.5)
            else:
                self._at(op, prefix + key, item, where)

    def _at(self, op: str, path: str, value: Any, where: str) -> None:
        urn = next((u for u in self.registry.extension_urns(self.resource_type) if u.lower() == path.lower()), None)
        if urn is not None:  # the whole extension: {"urn:…:User": {"department": "x"}} merges
            self._extension(op, urn, value, where)
            return
        target = self._target(path)
        if self.resource_type == "Group" and target.extension is None and target.attr.name == MEMBERS:
            self._members(op, target, value, where)
            return
        if target.attr.mutability == "readOnly" or (target.sub is not None and target.sub.mutability == "readOnly"):
            self._read_only(op, target, value)
            return
        if op != "remove" and value is None:
            raise InvalidValueError(f"{where}: {op} of {path!r} needs a value (to unassign it, use remove)")
        if target.sub is not None and target.selector is None and target.attr.multi_valued:
            raise InvalidPathError(
                f"{path!r} names every {target.attr.name} value; select one with a filter, "
                f'e.g. {target.attr.name}[type eq "work"].{target.sub.name}'
            )
        if target.selector is not None:
            self._selected(op, target, value)
        elif op == "remove":
            self._remove(target, value)
        elif target.sub is not None:  # name.givenName: merge {"givenName": value} into name
            self._set("add", replace(target, sub=None), {target.sub.name: value})
        else:
            self._set(op, target, value)

    def _extension(self, op: str, urn: str, value: Any, where: str) -> None:
        if op == "remove":
            schema = self.registry.schema(urn)
            if schema is not None and schema.attributes and all(a.mutability == "readOnly" for a in schema.attributes):
                # RFC 7644 §3.5.2.2: removing readOnly attributes is 400 mutability (the POSIX extensions)
                raise MutabilityError(f"{urn} is readOnly: the server sets it, and PATCH cannot remove it")
            self.doc.pop(urn, None)
            return
        if not isinstance(value, dict):
            raise InvalidValueError(f"{where}: the value for {urn} must be an object of that extension's attributes")
        self._each(op, f"{urn}:", extension_fields(urn, value), where)  # its own "schemas" (RFC 7643 §3)

    def _target(self, text: str) -> _Target:
        parsed = filters.parse_path(text)
        name = f"{parsed.attr.uri}:{parsed.attr.attr}" if parsed.attr.uri else parsed.attr.attr
        found = resolve(self.registry, self.resource_type, name)
        if found is None:
            raise InvalidPathError(f"{text!r}: {name!r} is not an attribute of {self.resource_type} on this server")
        attr = found.attribute
        sub: Attribute | None = None
        if parsed.sub_attr is not None:
            sub = attr.sub(parsed.sub_attr)
            if sub is None:
                kind = "sub-attribute" if attr.type == "complex" else "sub-attributes: it is not complex"
                raise InvalidPathError(f"{text!r}: {attr.name} has no {kind} {parsed.sub_attr!r}".rstrip())
        predicate = None
        if parsed.value_filter is not None:
            if attr.type != "complex":
                # the path is not quoted: its filter could hold the value of a writeOnly attribute (password)
                raise InvalidPathError(f"a [filter] selects values of complex attributes; {attr.name} is not")
            predicate = filters.compile_value_filter(parsed.value_filter, attr)  # invalidFilter (RFC 7644 Table 9)
        return _Target(text, attr, found.extension, sub, parsed.value_filter, predicate)

    def _block(self, extension: str | None, *, create: bool) -> dict[str, Any] | None:
        """The object holding the attribute: the document itself, or its extension's object."""
        if extension is None:
            return self.doc
        block = self.doc.get(extension)
        if not isinstance(block, dict):
            if not create:
                return None
            block = self.doc[extension] = {}
        return block

    # -- plain attributes ----------------------------------------------------------------------

    def _read_only(self, op: str, target: _Target, value: Any) -> None:
        """readOnly values cannot be patched; repeating the current value is accepted (Okta repeats ``id``)."""
        current = (self._block(target.extension, create=False) or {}).get(target.attr.name)
        same = value == current or (value in (None, [], {}) and current in (None, [], {}))
        if op != "remove" and target.sub is None and target.selector is None and same:
            return  # docs/okta-idp.md §7: the rename PATCH carries the group's own id
        raise MutabilityError(f"{target.name} is readOnly: the server sets it, and PATCH cannot {op} it")

    def _set(self, op: str, target: _Target, value: Any) -> None:
        block = self._block(target.extension, create=True)
        assert block is not None
        attr, name = target.attr, target.attr.name
        if attr.multi_valued:
            items = coerce_value(attr, value, target.text) or []
            current = [] if op == "replace" else list(block.get(name) or [])
            start = len(current)
            for item in items:  # add appends and drops exact duplicates (RFC 7644 §3.5.2.1)
                if item not in current:
                    current.append(item)
            settle_primary(current, range(start, len(current)))
            _store(block, name, current)
        elif attr.type == "complex":
            # add and replace both keep sub-attributes the value leaves out (RFC 7644 §3.5.2.1, §3.5.2.3)
            merged = {**(block.get(name) or {}), **(coerce_element(attr, value, target.text) or {})}
            _store(block, name, merged)
        else:
            block[name] = coerce_element(attr, value, target.text)

    def _remove(self, target: _Target, value: Any) -> None:
        block = self._block(target.extension, create=False)
        attr, name = target.attr, target.attr.name
        if block is None:
            return
        if target.sub is not None:
            parent = {k: v for k, v in (block.get(name) or {}).items() if k != target.sub.name}
            _store(block, name, parent)
            return
        if attr.required:
            raise MutabilityError(f"{target.name} is required and cannot be removed (RFC 7644 §3.5.2.2)")
        if attr.multi_valued and value is not None:
            # Entra's default dialect names the values to remove in "value" (docs/entra-idp.md §5).
            if not isinstance(value, list):
                raise InvalidValueError(f"the values to remove from {target.name} must be a JSON array")
            doomed = [coerce_element(attr, item, f"{target.text}[{i}]") for i, item in enumerate(value)]
            if None in doomed:
                raise InvalidValueError(
                    f'each value to remove from {target.name} must identify one, e.g. {{"value": …}}'
                )
            _store(block, name, [item for item in block.get(name) or [] if not any(_same(item, d) for d in doomed)])
            return
        block.pop(name, None)

    # -- filtered values -----------------------------------------------------------------------

    def _selected(self, op: str, target: _Target, value: Any) -> None:
        """``attr[filter]`` and ``attr[filter].sub``; a single-valued complex attribute is a list of one."""
        attr, name = target.attr, target.attr.name
        block = self._block(target.extension, create=op != "remove")
        if block is None:
            return
        current = block.get(name)
        items: list[dict[str, Any]] = list(current or []) if attr.multi_valued else ([current] if current else [])
        predicate = target.predicate
        assert predicate is not None
        hits = [index for index, item in enumerate(items) if predicate(item)]
        if op == "remove":
            if target.sub is None:  # no match: nothing to remove (RFC 7644 §3.5.2.2)
                items = [item for index, item in enumerate(items) if index not in hits]
            else:
                items = [
                    {k: v for k, v in item.items() if k != target.sub.name} if i in hits else item
                    for i, item in enumerate(items)
                ]
        else:
            items, hits = self._write_selected(op, target, value, items, hits)
            settle_primary(items, hits)
        if attr.multi_valued:
            _store(block, name, [item for item in items if item])
        else:
            _store(block, name, items[0] if items else None)

    def _write_selected(
        self, op: str, target: _Target, value: Any, items: list[dict[str, Any]], hits: list[int]
    ) -> tuple[list[dict[str, Any]], list[int]]:
        attr = target.attr
        if target.sub is not None:
            patch = {target.sub.name: coerce_value(target.sub, value, target.text)}
        else:
            patch = coerce_element(attr, value, target.text) or {}
        if hits:
            for index in hits:
                base = {} if op == "replace" and target.sub is None else items[index]
                items[index] = {**base, **patch}
            return items, hits
        # No value matches: create it from the filter's equalities. RFC 7644 §3.5.2.3 says noTarget
        # for replace, but Entra sets a new work email with replace emails[type eq "work"].value and
        # expects the element to appear (docs/entra-idp.md §4-§5, "filtered paths must create").
        seed = _equalities(target.selector, attr)
        if seed is None:
            raise NoTargetError(
                f"{target.text!r} matches no value, and its filter is not a plain "
                '`sub eq "x"` (and …) that says how to create one; add the whole value instead'
            )
        created = coerce_element(attr, {**seed, **patch}, target.text)
        if not attr.multi_valued and items:
            raise NoTargetError(f"{target.text!r} does not match the current {attr.name}; remove it first")
        items.append(created)
        return items, [len(items) - 1]

    # -- group members --------------------------------------------------------------------------

    def _members(self, op: str, target: _Target, value: Any, where: str) -> None:
        if target.sub is not None:
            raise InvalidPathError(f"{target.text!r}: a member's sub-attributes cannot be patched; add or remove it")
        if target.selector is not None:
            if op != "remove":
                raise InvalidPathError(
                    f'{target.text!r}: add members with path "members" and a value array, not a filter'
                )
            named = _equalities(target.selector, target.attr)
            if named is not None and list(named) == ["value"]:  # Okta, Entra's flag dialect (docs/okta-idp.md §7)
                self.changes.append(MemberRemove((str(named["value"]),)))
            else:
                assert target.predicate is not None
                self.changes.append(MemberRemoveWhere(filters.to_text(target.selector), target.predicate))
            return
        if op == "remove":
            if value is None:
                # RFC 7644 §3.5.2.2: remove without a filter or value unassigns every member. Kept on
                # purpose; Entra's remove names members in "value" and takes the branch below instead.
                self.changes.append(MemberClear())
                return
            ids = self._member_ids(value, where)
            if ids:
                self.changes.append(MemberRemove(ids))
            return
        if value is None:
            raise InvalidValueError(f'{where}: {op} of members needs a value array of {{"value": id}} objects')
        ids = self._member_ids(value, where)
        if op == "replace":  # a full push; [] clears the group (docs/okta-idp.md §7, §10 item 5)
            self.changes.append(MemberClear())
        if ids:
            self.changes.append(MemberAdd(ids))

    def _member_ids(self, value: Any, where: str) -> tuple[str, ...]:
        ids = tuple(ref["value"] for ref in member_refs(value, f"{where}.value"))
        self.member_values += len(ids)
        if self.member_values > self.max_members:
            raise PayloadTooLargeError(
                f"more than {self.max_members} member changes in one PATCH; send them in smaller requests"
            )
        return ids


def _store(block: dict[str, Any], name: str, value: Any) -> None:
    """Set a value, or unassign it when it is empty (RFC 7643 §2.5)."""
    if value in (None, [], {}):
        block.pop(name, None)
    else:
        block[name] = value


def _same(item: Any, given: Any) -> bool:
    """Whether ``item`` is a value named for removal: every sub-attribute ``given`` names is equal."""
    if isinstance(item, dict) and isinstance(given, dict):
        return all(item.get(key) == value for key, value in given.items())
    return bool(item == given)


def _equalities(node: filters.Filter | None, attr: Attribute) -> dict[str, Any] | None:
    """``{sub: value}`` for a filter made only of ``sub eq value`` joined by ``and``, else None."""
    if isinstance(node, filters.And):
        left, right = _equalities(node.left, attr), _equalities(node.right, attr)
        if left is None or right is None or any(right.get(k, v) != v for k, v in left.items()):
            return None  # not only equalities, or contradictory ones
        return {**left, **right}
    if isinstance(node, filters.Compare) and node.op == "eq" and node.value is not None:
        sub = attr.sub(node.path.attr) if node.path.uri is None and node.path.sub is None else None
        return None if sub is None else {sub.name: node.value}
    return None
