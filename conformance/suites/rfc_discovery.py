"""Discovery (RFC 7644 §4, RFC 7643 §5-§7): what the server says about itself, read-only."""

from __future__ import annotations

import json
from typing import Any

from conformance.context import SPC_FEATURES, CheckContext
from conformance.model import Level
from conformance.registry import Suite
from scimcore import urns

SUITE = Suite("rfc")


def _listed(ctx: CheckContext, path: str) -> list[dict[str, Any]]:
    """``/ResourceTypes`` and ``/Schemas`` answer a ListResponse (RFC 7644 §4); resources are objects."""
    doc = ctx.list_response(ctx.scim.get(path))
    items = [item for item in doc.get("Resources") or [] if isinstance(item, dict)]
    ctx.expect(items, f"GET {path} lists nothing", expected="at least the User and Group entries", actual="[]")
    return items


@SUITE.check(
    "rfc7644-4-spc",
    "GET /ServiceProviderConfig describes every feature with a boolean 'supported'",
    level=Level.MUST,
    ref="RFC 7644 §4; RFC 7643 §5",
    tags={"discovery"},
)
def service_provider_config(ctx: CheckContext) -> None:
    doc = ctx.fetch("/ServiceProviderConfig")
    ctx.expect(
        urns.SERVICE_PROVIDER_CONFIG in (doc.get("schemas") or []),
        "the document does not name the ServiceProviderConfig schema",
        expected=urns.SERVICE_PROVIDER_CONFIG,
        actual=json.dumps(doc.get("schemas")),
    )
    for feature in SPC_FEATURES:
        entry = doc.get(feature)
        ctx.expect(
            isinstance(entry, dict) and isinstance(entry.get("supported"), bool),
            f"'{feature}' is missing or has no boolean 'supported'",
            expected=f'"{feature}": {{"supported": true|false, ...}}',
            actual=json.dumps(entry),
        )
    schemes = doc.get("authenticationSchemes")
    ctx.expect(
        isinstance(schemes, list),
        "authenticationSchemes is missing or not an array",
        expected="an array (RFC 7643 §5, REQUIRED)",
        actual=json.dumps(schemes),
    )


@SUITE.check(
    "rfc7644-4-resource-types",
    "GET /ResourceTypes lists User and Group with their endpoints and schemas",
    level=Level.MUST,
    ref="RFC 7644 §4; RFC 7643 §6",
    tags={"discovery"},
)
def resource_types(ctx: CheckContext) -> None:
    items = _listed(ctx, "/ResourceTypes")
    by_schema = {item.get("schema"): item for item in items}
    for schema, endpoint in ((urns.USER, "/Users"), (urns.GROUP, "/Groups")):
        entry = by_schema.get(schema)
        ctx.expect(
            entry,
            f"no resource type has schema {schema}",
            expected=schema,
            actual=json.dumps(sorted(str(key) for key in by_schema)),
        )
        assert entry is not None
        ctx.expect(
            entry.get("endpoint") == endpoint,
            f"the resource type of {schema} does not name endpoint {endpoint}",
            expected=endpoint,
            actual=json.dumps(entry.get("endpoint")),
        )
        ctx.expect(
            isinstance(entry.get("name"), str) and entry.get("name"),
            f"the resource type of {schema} has no name",
            expected="a name such as 'User'",
            actual=json.dumps(entry.get("name")),
        )


@SUITE.check(
    "rfc7644-4-schemas",
    "GET /Schemas defines the core User and Group schemas with their attributes",
    level=Level.MUST,
    ref="RFC 7644 §4; RFC 7643 §7",
    tags={"discovery"},
)
def schemas(ctx: CheckContext) -> None:
    items = _listed(ctx, "/Schemas")
    by_id = {item.get("id"): item for item in items}
    for schema, attribute in ((urns.USER, "userName"), (urns.GROUP, "displayName")):
        entry = by_id.get(schema)
        ctx.expect(
            entry,
            f"/Schemas has no entry for {schema}",
            expected=schema,
            actual=json.dumps(sorted(str(key) for key in by_id)),
        )
        assert entry is not None
        names = {str(attr.get("name")).lower() for attr in entry.get("attributes") or [] if isinstance(attr, dict)}
        ctx.expect(
            attribute.lower() in names,
            f"the {schema} schema does not define '{attribute}'",
            expected=f"an attribute definition named {attribute}",
            actual=json.dumps(sorted(names)),
        )


@SUITE.check(
    "rfc7644-4-schema-by-id",
    "GET /Schemas/{urn} returns that one schema",
    level=Level.SHOULD,
    ref="RFC 7644 §4 (a specific schema MAY be retrieved by its URI); RFC 7643 §7",
    tags={"discovery"},
)
def schema_by_id(ctx: CheckContext) -> None:
    doc = ctx.fetch(f"/Schemas/{urns.USER}")
    ctx.expect(
        doc.get("id") == urns.USER,
        "the schema returned is not the one asked for",
        expected=urns.USER,
        actual=json.dumps(doc.get("id")),
    )


@SUITE.check(
    "rfc7644-4-resource-type-by-id",
    "GET /ResourceTypes/User returns that one resource type",
    level=Level.SHOULD,
    ref="RFC 7644 §4; RFC 7643 §6",
    tags={"discovery"},
)
def resource_type_by_id(ctx: CheckContext) -> None:
    doc = ctx.fetch("/ResourceTypes/User")
    ctx.expect(
        doc.get("schema") == urns.USER,
        "/ResourceTypes/User is not the User resource type",
        expected=urns.USER,
        actual=json.dumps(doc.get("schema")),
    )


@SUITE.check(
    "rfc7644-4-discovery-read-only",
    "Writes to the discovery endpoints are refused with 405",
    level=Level.SHOULD,
    ref="RFC 7644 §4 (discovery endpoints are read-only); §3.12 Table 8 (405)",
    tags={"discovery", "errors"},
)
def discovery_read_only(ctx: CheckContext) -> None:
    body = json.dumps({"schemas": [urns.SERVICE_PROVIDER_CONFIG]}).encode()
    for method, path in (
        ("POST", "/ServiceProviderConfig"),
        ("PUT", "/ServiceProviderConfig"),
        ("PATCH", "/Schemas"),
        ("DELETE", "/ResourceTypes"),
        ("POST", "/Schemas"),
    ):
        response = ctx.raw(
            method, path, content=None if method == "DELETE" else body, headers={"Content-Type": urns.MEDIA_TYPE}
        )
        ctx.expect_status(response, 405, what=f"{method} {path}")


@SUITE.check(
    "rfc7644-4-discovery-schema-definitions",
    "Each attribute definition in /Schemas carries type, multiValued and mutability",
    level=Level.SHOULD,
    ref="RFC 7643 §7 (attribute definitions)",
    tags={"discovery"},
)
def attribute_definitions(ctx: CheckContext) -> None:
    for entry in _listed(ctx, "/Schemas"):
        for attr in entry.get("attributes") or []:
            if not isinstance(attr, dict):
                ctx.fail(f"{entry.get('id')} has an attribute that is not an object", actual=json.dumps(attr))
            missing = [key for key in ("name", "type", "multiValued", "mutability") if key not in attr]
            ctx.expect(
                not missing,
                f"{entry.get('id')} attribute {attr.get('name')!r} lacks {', '.join(missing)}",
                expected="name, type, multiValued, mutability",
                actual=json.dumps(sorted(attr)),
            )
