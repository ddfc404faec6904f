"""RFC 7643 schema definitions, served by /Schemas and used to resolve attribute paths."""

from scimcore.schemas.core import COMMON, ENTERPRISE_USER, GROUP, USER, core_registry
from scimcore.schemas.model import (
    Attribute,
    ResolvedPath,
    ResourceType,
    Schema,
    SchemaExtension,
    SchemaRegistry,
    attribute_from_scim,
    schema_from_scim,
)

__all__ = [
    "COMMON",
    "ENTERPRISE_USER",
    "GROUP",
    "USER",
    "Attribute",
    "ResolvedPath",
    "ResourceType",
    "Schema",
    "SchemaExtension",
    "SchemaRegistry",
    "attribute_from_scim",
    "core_registry",
    "schema_from_scim",
]
