"""Discovery endpoints (RFC 7644 §4): ServiceProviderConfig, ResourceTypes, Schemas."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app

from aup_server.api.http import base_url, scim_response
from aup_server.config import ServerConfig
from aup_server.errors import NotFoundError
from aup_server.scim.pagination import Page, list_response
from scimcore import urns
from scimcore.schemas import SchemaRegistry


def service_provider_config(config: ServerConfig, base: str) -> dict[str, Any]:
    """What this server supports (RFC 7643 §5); every feature advertised here is implemented."""
    return {
        "schemas": [urns.SERVICE_PROVIDER_CONFIG],
        "documentationUri": "https://github.com/aup-harness/aup",
        "patch": {"supported": True},
        "bulk": {
            "supported": True,
            "maxOperations": config.bulk_max_operations,
            "maxPayloadSize": config.max_body_bytes,
        },
        "filter": {"supported": True, "maxResults": config.max_count},
        # RFC 9865 §4; index paging stays the default so clients written for RFC 7644 see no change (§2.5).
        "pagination": {
            "cursor": True,
            "index": True,
            "defaultPaginationMethod": "index",
            "defaultPageSize": config.default_count,
            "maxPageSize": config.max_count,
            "cursorTimeout": config.cursor_timeout,
        },
        "changePassword": {"supported": True},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "A named bearer token issued by 'aup token create', scoped to one tenant",
                "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base}/ServiceProviderConfig"},
    }


def register(bp: Blueprint) -> None:
    def registry() -> SchemaRegistry:
        reg: SchemaRegistry = current_app.extensions["aup"].registry
        return reg

    @bp.get("/ServiceProviderConfig")
    def get_service_provider_config(tenant: str) -> Response:
        return scim_response(service_provider_config(current_app.extensions["aup"].config, base_url()))

    @bp.get("/ResourceTypes")
    def list_resource_types(tenant: str) -> Response:
        types = [rt.to_scim(f"{base_url()}/ResourceTypes/{rt.name}") for rt in registry().resource_types.values()]
        return scim_response(list_response(types, len(types), Page(1, len(types))))

    @bp.get("/ResourceTypes/<name>")
    def get_resource_type(tenant: str, name: str) -> Response:
        rtype = registry().resource_types.get(name)
        if rtype is None:
            raise NotFoundError(f"no resource type {name!r}; see {base_url()}/ResourceTypes")
        return scim_response(rtype.to_scim(f"{base_url()}/ResourceTypes/{rtype.name}"))

    @bp.get("/Schemas")
    def list_schemas(tenant: str) -> Response:
        schemas = [s.to_scim(f"{base_url()}/Schemas/{s.id}") for s in registry().schemas.values()]
        return scim_response(list_response(schemas, len(schemas), Page(1, len(schemas))))

    @bp.get("/Schemas/<path:urn>")
    def get_schema(tenant: str, urn: str) -> Response:
        schema = registry().schema(urn)
        if schema is None:
            raise NotFoundError(f"no schema {urn!r}; see {base_url()}/Schemas")
        return scim_response(schema.to_scim(f"{base_url()}/Schemas/{schema.id}"))
