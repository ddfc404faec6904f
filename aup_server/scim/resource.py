"""Resource bodies to stored documents: canonical names, checked types, mutability (RFC 7643 §2, RFC 7644 §3.3).

``normalize`` turns a POST or PUT body into the document the store keeps; ``revalidate`` checks a
document PATCH produced. Both return core attributes at the top level and extension attributes under
their URN, every name in its schema spelling (names are case-insensitive, RFC 7643 §2.1), ``schemas``
recomputed from the data, and null or empty-array values dropped (unassigned, RFC 7643 §2.5). For a
Group the validated ``members`` stay in the document as ``[{"value": id, "type"?: "User"|"Group"}]``;
the service stores them as rows. ``password`` (writeOnly) stays too; the store hashes it.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from aup_server.errors import InvalidSyntaxError, InvalidValueError, MutabilityError
from scimcore.schemas import GROUP, Attribute, ResolvedPath, Schema, SchemaRegistry

MEMBERS = "members"
MEMBER_TYPES = ("User", "Group")
_HINT = "configure an extension schema for it, or leave it out"


def normalize(
    body: Any, registry: SchemaRegistry, resource_type: str, *, existing: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The document to store for a POST body, or for a PUT body when ``existing`` is the stored document.

    readOnly attributes the client echoes back (``id``, ``meta``, a User's ``groups``) are ignored
    (RFC 7644 §3.5.1; Okta sends ``groups: []`` in every POST, docs/okta-idp.md §4).
    """
    if not isinstance(body, dict):
        raise InvalidSyntaxError("the request body must be a JSON object")
    _check_schemas(body, registry, resource_type)
    doc = _Normalizer(registry, resource_type, keep_read_only=False).document(body)
    if existing is not None:
        check_immutable(existing, doc, registry, resource_type, keep_omitted=True)
        extensions = registry.extension_urns(resource_type)
        doc["schemas"] = [doc["schemas"][0], *(urn for urn in extensions if doc.get(urn))]
    return doc


def revalidate(doc: dict[str, Any], registry: SchemaRegistry, resource_type: str) -> dict[str, Any]:
    """Check a document PATCH produced; readOnly values already in it are kept as they are."""
    return _Normalizer(registry, resource_type, keep_read_only=True).document(doc)


def coerce_value(attr: Attribute, value: Any, where: str) -> Any:
    """One attribute's whole value, checked and canonicalised; None when it is unassigned."""
    return _Normalizer(None, "", keep_read_only=False).value(attr, value, where)


def coerce_element(attr: Attribute, value: Any, where: str) -> Any:
    """One value of ``attr`` (one element when it is multi-valued), checked and canonicalised."""
    return _Normalizer(None, "", keep_read_only=False).single(attr, value, where)


def member_refs(value: Any, where: str = MEMBERS) -> list[dict[str, Any]]:
    """Group members as ``{"value": id, "type"?: "User"|"Group"}``, duplicates dropped.

    ``display`` and ``$ref`` are ignored; a member without a string ``value`` is an error, never
    silently skipped, so no request that names members can turn into a no-op.
    """
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidValueError(f'{where} must be a JSON array of {{"value": id}} objects, not {_kind(value)}')
    attr = GROUP.attribute(MEMBERS)
    assert attr is not None
    refs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, raw in enumerate(value):
        if raw is None:
            continue
        item = coerce_element(attr, raw, f"{where}[{i}]") or {}
        member_id = item.get("value")
        if not isinstance(member_id, str) or not member_id:
            raise InvalidValueError(f'{where}[{i}] needs "value": the id of a User (or Group) of this server')
        ref: dict[str, Any] = {"value": member_id}
        declared = item.get("type")
        if declared is not None:
            canonical = next((t for t in MEMBER_TYPES if t.lower() == declared.lower()), None)
            if canonical is None:
                raise InvalidValueError(f"{where}[{i}].type must be User or Group, not {declared!r}")
            ref["type"] = canonical
        if member_id not in seen:
            seen.add(member_id)
            refs.append(ref)
    return refs


def resolve(registry: SchemaRegistry, resource_type: str, path: str) -> ResolvedPath | None:
    """Resolve ``[urn:]attr[.sub]`` like the registry, plus two spellings clients use.

    Common attributes may be core-qualified (``urn:…:core:2.0:User:externalId``, RFC 7643 §3.1). A bare
    name no core attribute has may name an extension attribute when exactly one extension defines it:
    Entra sends ``manager[value eq "…"]`` unqualified (docs/entra-idp.md §4).
    """
    found = registry.resolve(resource_type, path)
    if found is not None:
        return found
    urn, rest = registry.split_urn(resource_type, path)
    if urn is not None:
        core = registry.resource_type(resource_type).schema
        return registry.resolve(resource_type, rest) if rest and urn == core else None
    hits = [
        hit
        for ext in registry.extension_urns(resource_type)
        if (hit := registry.resolve(resource_type, f"{ext}:{path}")) is not None
    ]
    return hits[0] if len(hits) == 1 else None


def _check_schemas(body: dict[str, Any], registry: SchemaRegistry, resource_type: str) -> None:
    """``schemas``, when sent, must be a list naming the endpoint's core schema (RFC 7643 §3).

    A body without ``schemas`` is read as the endpoint's core schema: the endpoint already says what
    it is, and refusing would only fail hand-written clients. Unknown URIs that carry no data are
    ignored, since Entra lists a Microsoft URI in group creates (docs/entra-idp.md §4); the result's
    ``schemas`` is recomputed from the data.
    """
    schemas = get_field(body, "schemas")
    if schemas is None:
        return
    core = registry.resource_type(resource_type).schema
    if not isinstance(schemas, list) or not all(isinstance(urn, str) for urn in schemas):
        raise InvalidSyntaxError(f'"schemas" must be a list of schema URNs that includes "{core}"')
    if core.lower() not in {urn.lower() for urn in schemas}:
        raise InvalidSyntaxError(f'"schemas" must include the core schema "{core}" for a {resource_type}')


def extension_fields(urn: str, value: dict[str, Any]) -> dict[str, Any]:
    """The attributes of an extension object, without the object's own ``schemas`` (RFC 7643 §3).

    ``schemas`` names the schemas that define "the attributes present in the current JSON structure",
    so an extension object may carry one naming its extension (scim2-models sends it in every extension
    object). It is checked like a resource's own and never stored: a ``schemas`` that leaves out the
    extension's URN claims attributes this object cannot hold, and is 400 invalidSyntax.
    """
    fields: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(key, str) and key.lower() == "schemas":
            named = isinstance(item, list) and all(isinstance(u, str) for u in item)
            if item is not None and not (named and urn.lower() in {u.lower() for u in item}):
                raise InvalidSyntaxError(
                    f'{urn}: "schemas" inside an extension object must be a list of schema URNs that includes "{urn}"'
                )
            continue
        fields[key] = item
    return fields


def get_field(body: dict[str, Any], name: str) -> Any:
    """The value of a message attribute, whose name is matched case-insensitively."""
    folded = name.lower()
    return next((value for key, value in body.items() if key.lower() == folded), None)


class _Normalizer:
    """One pass over a body; ``keep_read_only`` keeps readOnly values (PATCH results) instead of dropping them."""

    def __init__(self, registry: SchemaRegistry | None, resource_type: str, *, keep_read_only: bool) -> None:
        self.registry = registry
        self.resource_type = resource_type
        self.keep_read_only = keep_read_only

    # -- documents ------------------------------------------------------------------------------

    def document(self, body: dict[str, Any]) -> dict[str, Any]:
        registry = self.registry
        assert registry is not None
        schemas = list(registry.schemas_of(self.resource_type))
        core, extensions = schemas[0], {schema.id: schema for schema in schemas[1:]}
        doc: dict[str, Any] = {}
        blocks: dict[str, dict[str, Any]] = {}
        for key, value in body.items():
            if not isinstance(key, str):
                raise InvalidSyntaxError("attribute names must be strings")
            if key.lower() == "schemas":
                continue
            if not key.lower().startswith("urn:"):
                attr = registry.common.attribute(key) or core.attribute(key)
                if attr is None:
                    raise self._unknown(key, core)
                if self.resource_type == "Group" and attr.name == MEMBERS and value:
                    if MEMBERS in doc:
                        raise InvalidSyntaxError("attribute 'members' is given twice (names are case-insensitive)")
                    doc[MEMBERS] = member_refs(value)  # validated here, stored as rows by the service
                else:
                    self._put(doc, attr, value, key)
                continue
            urn, rest = registry.split_urn(self.resource_type, key)
            if urn == core.id and rest:  # a fully qualified core name (RFC 7644 §3.10)
                self._put(doc, registry.common.attribute(rest) or self._attribute(core, rest, key), value, key)
                continue
            schema = extensions.get(urn or "")
            if schema is None:
                raise InvalidSyntaxError(
                    f"{key!r} is not a schema extension of {self.resource_type} on this server; {_HINT}"
                )
            block = blocks.setdefault(schema.id, {})
            if rest:
                self._put(block, self._attribute(schema, rest, key), value, key)
            elif isinstance(value, dict):
                for name, item in extension_fields(schema.id, value).items():
                    self._put(block, self._attribute(schema, name, f"{schema.id}:{name}"), item, f"{schema.id}:{name}")
            elif value is not None:
                raise InvalidValueError(f"{schema.id} must be an object holding that extension's attributes")
        self._check_required(core, doc)
        out: dict[str, Any] = {"schemas": [core.id], **doc}
        for urn, block in blocks.items():
            if block:
                self._check_required(extensions[urn], block, urn)
                out[urn] = block
                out["schemas"].append(urn)
        return out

    def _attribute(self, schema: Schema, name: str, where: str) -> Attribute:
        if "." in name:
            raise InvalidSyntaxError(
                f"{where!r}: dotted names are for PATCH paths; nest the sub-attribute in an object instead"
            )
        attr = schema.attribute(name)
        if attr is None:
            raise self._unknown(where, schema)
        return attr

    @staticmethod
    def _unknown(name: str, schema: Schema) -> InvalidSyntaxError:
        return InvalidSyntaxError(f"attribute {name!r} is not defined by schema {schema.id}; {_HINT}")

    def _put(self, block: dict[str, Any], attr: Attribute, value: Any, where: str) -> None:
        if attr.name in block:
            raise InvalidSyntaxError(f"attribute {attr.name!r} is given twice (names are case-insensitive)")
        if attr.mutability == "readOnly":
            if self.keep_read_only and value is not None:
                block[attr.name] = value
            return
        coerced = self.value(attr, value, where)
        if coerced is not None:
            block[attr.name] = coerced

    def _check_required(self, schema: Schema, block: dict[str, Any], prefix: str = "") -> None:
        """Required attributes must have a value (RFC 7643 §2.2); a blank string identifies nothing."""
        for attr in schema.attributes:
            if attr.required and attr.mutability != "readOnly":
                value = block.get(attr.name)
                if value is None or (isinstance(value, str) and not value.strip()):
                    name = f"{prefix}:{attr.name}" if prefix else attr.name
                    raise InvalidValueError(f"{name} is required for a {self.resource_type} and must not be blank")

    # -- values ---------------------------------------------------------------------------------

    def value(self, attr: Attribute, value: Any, where: str) -> Any:
        if value is None:
            return None
        if not attr.multi_valued:
            return self.single(attr, value, where)
        if attr.text_lines and isinstance(value, str):
            value = [line for line in value.splitlines() if line.strip()]  # one value per line (docs/posix.md)
        if not isinstance(value, list):
            raise InvalidValueError(
                f"{where} is multi-valued: send a JSON array of values, e.g. [{{...}}], not a single {_kind(value)}"
            )
        items = [self.single(attr, item, f"{where}[{i}]") for i, item in enumerate(value) if item is not None]
        items = [item for item in items if item is not None]
        primaries = sum(1 for item in items if isinstance(item, dict) and item.get("primary") is True)
        if primaries > 1:
            raise InvalidValueError(f"{where}: at most one value may be primary (RFC 7643 §2.4)")
        return items or None

    def single(self, attr: Attribute, value: Any, where: str) -> Any:
        if value is None:
            return None
        if attr.type != "complex":
            return _scalar(attr, value, where)
        if not isinstance(value, dict):
            if not attr.multi_valued and attr.sub("value") is not None and isinstance(value, str):
                # Entra sends the manager as a bare id (docs/entra-idp.md §4); it means {"value": id}.
                value = {"value": value}
            else:
                raise InvalidValueError(f"{where} must be an object with sub-attributes, not {_kind(value)}")
        out: dict[str, Any] = {}
        for key, item in value.items():
            sub = attr.sub(key) if isinstance(key, str) else None
            if sub is None:
                named = "a key" if is_secret(attr) else f"sub-attribute {key!r}"
                raise InvalidSyntaxError(f"{where}: {named} is not defined for {attr.name!r}")
            self._put(out, sub, item, f"{where}.{sub.name}")
        return out or None


def settle_primary(items: list[Any], touched: Iterable[int]) -> None:
    """At most one value is primary: the last value this operation made primary wins (RFC 7643 §2.4)."""
    chosen = [i for i in touched if isinstance(items[i], dict) and items[i].get("primary") is True]
    if not chosen:
        return
    for index, item in enumerate(items):
        if index != chosen[-1] and isinstance(item, dict) and item.get("primary") is True:
            items[index] = {**item, "primary": False}


def _scalar(attr: Attribute, value: Any, where: str) -> Any:
    """A simple value checked against the attribute's type (RFC 7643 §2.3); strings are kept as sent."""
    kind = attr.type
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            # Entra's default dialect sends "True"/"False" (docs/entra-idp.md §5).
            return value.lower() == "true"
    elif kind in ("string", "reference"):
        if isinstance(value, str):
            return value
    elif kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind == "decimal":
        # an integer is exact however long (math.isfinite would overflow converting one past 1e308)
        if (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and math.isfinite(value)
        ):
            return value
    elif kind == "dateTime":
        if isinstance(value, str) and _is_datetime(value):
            return value
        raise InvalidValueError(
            f"{where} must be an xsd:dateTime string such as 2024-05-01T12:00:00Z, not {_shown(attr, value)}"
        )
    elif kind == "binary" and isinstance(value, str):
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidValueError(f"{where} must be base64-encoded binary data") from None
        return value
    raise InvalidValueError(f"{where} must be a {kind}, not {_shown(attr, value)}")


def is_secret(attr: Attribute) -> bool:
    """Whether no value of ``attr`` may be shown anywhere: writeOnly or never returned (RFC 7643 §2.2, §7)."""
    return attr.mutability == "writeOnly" or attr.returned == "never"


def _shown(attr: Attribute, value: Any) -> str:
    """A rejected value for an error detail: its JSON type, plus the value itself (cut short) unless secret."""
    if is_secret(attr):
        return f"{_kind(value)} (values of {attr.name} are never shown)"
    text = repr(value)
    return f"{_kind(value)} {text if len(text) <= 80 else text[:77] + '...'}"


def _is_datetime(text: str) -> bool:
    if "T" not in text.upper():
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _kind(value: Any) -> str:
    """The JSON type name of a value, for error messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    names: dict[type, str] = {dict: "object", list: "array", str: "string"}
    return names.get(type(value), type(value).__name__)


def check_immutable(
    before: dict[str, Any], after: dict[str, Any], registry: SchemaRegistry, resource_type: str, *, keep_omitted: bool
) -> None:
    """An immutable value, once set, never changes (RFC 7643 §2.2); MutabilityError otherwise.

    With ``keep_omitted`` (PUT) a value ``after`` leaves out is copied from ``before``; without it
    (PATCH) removing the value is a change like any other.
    """
    for index, schema in enumerate(registry.schemas_of(resource_type)):
        urn = schema.id if index else None
        old_block = before.get(urn) if urn else before
        for attr in schema.attributes:
            if attr.mutability != "immutable" or not isinstance(old_block, dict) or attr.name not in old_block:
                continue
            new_block = after.setdefault(urn, {}) if urn else after
            old = old_block[attr.name]
            if keep_omitted and attr.name not in new_block:
                new_block[attr.name] = old
            elif new_block.get(attr.name) != old:
                shown = "set" if is_secret(attr) else f"{old!r}"
                raise MutabilityError(f"{attr.name} is immutable: it is {shown} and cannot be changed")
