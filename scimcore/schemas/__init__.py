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
from scimcore.schemas.posix import POSIX_GROUP, POSIX_GROUP_URN, POSIX_USER, POSIX_USER_URN

__all__ = [
    "COMMON",
    "ENTERPRISE_USER",
    "GROUP",
    "POSIX_GROUP",
    "POSIX_GROUP_URN",
    "POSIX_USER",
    "POSIX_USER_URN",
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
