"""HTTP layer: one blueprint mounted per URL shape, thin views, SCIM errors rendered in one place."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request

from aup_server.api import discovery, resources
from aup_server.auth import DEFAULT_TENANT, authenticate, check_tenant
from aup_server.errors import NotFoundError
from aup_server.oauth import TokenIssuer
from aup_server.store.base import TokenRecord


def scim_blueprint() -> Blueprint:
    """All SCIM routes; the app mounts it at /scim/v2 (default tenant) and /scim/<tenant>/v2."""
    bp = Blueprint("scim", __name__)

    @bp.url_value_preprocessor
    def pull_tenant(endpoint: str | None, values: dict[str, object] | None) -> None:
        tenant = (values or {}).get("tenant", DEFAULT_TENANT)
        g.tenant = tenant

    @bp.before_request
    def require_token() -> None:
        tenant = str(g.tenant)
        try:
            check_tenant(tenant)
        except ValueError:
            raise NotFoundError(f"no SCIM endpoint at {request.path}") from None
        state = current_app.extensions["aup"]
        g.token = _oauth_token(state.issuer, tenant) or authenticate(
            state.store, request.headers.get("Authorization"), tenant
        )
        if state.limiter is not None:
            state.limiter.check(tenant, g.token.name)

    discovery.register(bp)
    resources.register(bp)
    return bp


def _oauth_token(issuer: TokenIssuer | None, tenant: str) -> TokenRecord | None:
    """The caller, when its bearer token came from the OAuth token endpoint (aup_server/oauth.py) for ``tenant``."""
    if issuer is None:
        return None
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    holder = issuer.holder(token.strip(), tenant) if scheme.lower() == "bearer" and token.strip() else None
    return TokenRecord(f"oauth:{holder}", tenant, "", None) if holder else None
