"""Schema and attribute definitions (RFC 7643 §2.2, §7) as frozen, hashable objects.

Attribute names are case-insensitive (RFC 7643 §2.1), so every lookup here folds case and
returns the definition, whose ``name`` is the canonical spelling to store and return.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from scimcore import urns

AttrType = Literal["string", "boolean", "decimal", "integer", "dateTime", "binary", "reference", "complex"]
Mutability = Literal["readOnly", "readWrite", "immutable", "writeOnly"]
Returned = Literal["always", "never", "default", "request"]
Uniqueness = Literal["none", "server", "global"]


@dataclass(frozen=True)
class Attribute:
    """One attribute definition with the RFC 7643 §2.2 characteristics and their defaults."""

    name: str
    type: AttrType = "string"
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: Mutability = "readWrite"
    returned: Returned = "default"
    uniqueness: Uniqueness = "none"
    description: str = ""
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    sub_attributes: tuple[Attribute, ...] = ()
    # A multi-valued string attribute that also takes one string of newline-separated values, stored as
    # the list of its lines: the SSH-key source, which a non-gallery Entra app can only send as one string.
    text_lines: bool = False

    def sub(self, name: str) -> Attribute | None:
        """The sub-attribute called ``name`` (any case), or None."""
        folded = name.lower()
        for sub in self.sub_attributes:
            if sub.name.lower() == folded:
                return sub
        return None

    def to_scim(self) -> dict[str, Any]:
        """The attribute as it appears in a /Schemas response (RFC 7643 §7)."""
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": self.mutability,
            "returned": self.returned,
            "uniqueness": self.uniqueness,
        }
        if self.canonical_values:
            out["canonicalValues"] = list(self.canonical_values)
        if self.reference_types:
            out["referenceTypes"] = list(self.reference_types)
        if self.type == "complex":
            out["subAttributes"] = [sub.to_scim() for sub in self.sub_attributes]
        return out


@dataclass(frozen=True)
class Schema:
    """A schema: its URN and its top-level attributes."""

    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]

    def attribute(self, name: str) -> Attribute | None:
        """The top-level attribute called ``name`` (any case), or None."""
        folded = name.lower()
        for attr in self.attributes:
            if attr.name.lower() == folded:
                return attr
        return None

    def to_scim(self, location: str | None = None) -> dict[str, Any]:
        """The schema resource served by /Schemas (RFC 7643 §7)."""
        out: dict[str, Any] = {
            "schemas": [urns.SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": [attr.to_scim() for attr in self.attributes],
        }
        meta: dict[str, Any] = {"resourceType": "Schema"}
        if location:
            meta["location"] = location
        out["meta"] = meta
        return out


@dataclass(frozen=True)
class SchemaExtension:
    """An extension schema attached to a resource type (RFC 7643 §6)."""

    schema: str
    required: bool = False


@dataclass(frozen=True)
class ResourceType:
    """A resource type: its endpoint, core schema and extensions (RFC 7643 §6)."""

    name: str
    endpoint: str
    schema: str
    description: str = ""
    extensions: tuple[SchemaExtension, ...] = ()

    def to_scim(self, location: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schemas": [urns.RESOURCE_TYPE],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.schema,
            "schemaExtensions": [{"schema": ext.schema, "required": ext.required} for ext in self.extensions],
        }
        meta: dict[str, Any] = {"resourceType": "ResourceType"}
        if location:
            meta["location"] = location
        out["meta"] = meta
        return out


@dataclass(frozen=True)
class ResolvedPath:
    """Where an attribute path points: the schema holding it, the attribute, and an optional sub-attribute.

    ``extension`` is the URN under which the value is nested in a resource document, or None for
    attributes of the core schema, which live at the top level.
    """

    schema: Schema
    attribute: Attribute
    sub_attribute: Attribute | None
    extension: str | None

    @property
    def target(self) -> Attribute:
        """The attribute whose characteristics (type, caseExact) govern a comparison on this path."""
        return self.sub_attribute or self.attribute


@dataclass
class SchemaRegistry:
    """All schemas and resource types a server (or a client) knows; the single place paths are resolved."""

    schemas: dict[str, Schema] = field(default_factory=dict)
    resource_types: dict[str, ResourceType] = field(default_factory=dict)
    # id, externalId and meta belong to every resource but to no schema (RFC 7643 §3.1).
    common: Schema = field(default_factory=lambda: Schema("", "Common", "", ()))

    @classmethod
    def build(
        cls, schemas: Iterable[Schema], resource_types: Iterable[ResourceType], common: Schema | None = None
    ) -> SchemaRegistry:
        registry = cls()
        if common is not None:
            registry.common = common
        for schema in schemas:
            registry.schemas[schema.id.lower()] = schema
        for rtype in resource_types:
            registry.resource_types[rtype.name] = rtype
            for urn in (rtype.schema, *(ext.schema for ext in rtype.extensions)):
                if urn.lower() not in registry.schemas:
                    raise ValueError(f"resource type {rtype.name} names unknown schema {urn}")
        return registry

    def schema(self, urn: str) -> Schema | None:
        return self.schemas.get(urn.lower())

    def resource_type(self, name: str) -> ResourceType:
        return self.resource_types[name]

    def schemas_of(self, resource_type: str) -> Iterator[Schema]:
        """The core schema, then each extension schema, of a resource type."""
        rtype = self.resource_types[resource_type]
        yield self.schemas[rtype.schema.lower()]
        for ext in rtype.extensions:
            yield self.schemas[ext.schema.lower()]

    def extension_urns(self, resource_type: str) -> tuple[str, ...]:
        """The extension URNs of a resource type in their canonical spelling."""
        return tuple(ext.schema for ext in self.resource_types[resource_type].extensions)

    def split_urn(self, resource_type: str, path: str) -> tuple[str | None, str]:
        """Split ``urn:…:User:name.givenName`` into (schema URN, ``name.givenName``).

        Paths without a known URN prefix come back as (None, path). URNs contain colons and
        may contain dots (``…:2.0:User``), so the split is on the longest known schema URN.
        """
        if not path.lower().startswith(urns.URN_PREFIX):
            return None, path
        folded = path.lower()
        best: Schema | None = None
        for schema in self.schemas_of(resource_type):
            urn = schema.id.lower()
            if (folded == urn or folded.startswith(urn + ":")) and (best is None or len(urn) > len(best.id)):
                best = schema
        if best is None:
            return path, ""  # an unknown URN: the caller reports it
        rest = path[len(best.id) + 1 :] if len(path) > len(best.id) else ""
        return best.id, rest

    def resolve(self, resource_type: str, path: str) -> ResolvedPath | None:
        """Resolve ``[urn:]attr[.sub]`` against a resource type, or None when nothing matches."""
        urn, rest = self.split_urn(resource_type, path)
        if not rest:
            return None
        attr_name, _, sub_name = rest.partition(".")
        core = next(self.schemas_of(resource_type))
        if urn is None:
            candidates = [self.common, core]
        else:
            schema = self.schema(urn)
            if schema is None:
                return None
            candidates = [schema]
        for schema in candidates:
            attr = schema.attribute(attr_name)
            if attr is None:
                continue
            sub: Attribute | None = None
            if sub_name:
                sub = attr.sub(sub_name)
                if sub is None:
                    return None
            extension = None if schema.id in (core.id, self.common.id) else schema.id
            return ResolvedPath(schema=schema, attribute=attr, sub_attribute=sub, extension=extension)
        return None


_ATTR_TYPES = ("string", "boolean", "decimal", "integer", "dateTime", "binary", "reference", "complex")


def attribute_from_scim(data: dict[str, Any]) -> Attribute:
    """Parse an attribute definition in its RFC 7643 §7 form; ValueError names what is wrong."""
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"attribute definition without a name: {data!r}")
    attr_type = data.get("type", "string")
    if attr_type not in _ATTR_TYPES:
        raise ValueError(f"attribute {name!r}: type must be one of {', '.join(_ATTR_TYPES)}, not {attr_type!r}")
    subs = tuple(attribute_from_scim(sub) for sub in data.get("subAttributes", ()))
    if attr_type == "complex" and not subs:
        raise ValueError(f"complex attribute {name!r} needs subAttributes")
    return Attribute(
        name=name,
        type=attr_type,
        multi_valued=bool(data.get("multiValued", False)),
        required=bool(data.get("required", False)),
        case_exact=bool(data.get("caseExact", False)),
        mutability=data.get("mutability", "readWrite"),
        returned=data.get("returned", "default"),
        uniqueness=data.get("uniqueness", "none"),
        description=str(data.get("description", "")),
        canonical_values=tuple(data.get("canonicalValues", ())),
        reference_types=tuple(data.get("referenceTypes", ())),
        sub_attributes=subs,
    )


def schema_from_scim(data: dict[str, Any]) -> Schema:
    """Parse a schema in its RFC 7643 §7 form (as served by /Schemas or written in a config file)."""
    urn = data.get("id")
    if not isinstance(urn, str) or not urn.lower().startswith(urns.URN_PREFIX):
        raise ValueError(f"schema id must be a URN such as urn:example:scim:1.0:User, not {urn!r}")
    attrs = data.get("attributes")
    if not isinstance(attrs, list) or not attrs:
        raise ValueError(f"schema {urn}: 'attributes' must be a non-empty list")
    return Schema(
        id=urn,
        name=str(data.get("name", urn.rsplit(":", 1)[-1])),
        description=str(data.get("description", "")),
        attributes=tuple(attribute_from_scim(attr) for attr in attrs),
    )
