"""``create_app``: the only way to build the SCIM service provider (Flask application factory)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from aup_server.api import scim_blueprint
from aup_server.api.http import scim_response
from aup_server.auth import DEFAULT_TENANT
from aup_server.config import ServerConfig
from aup_server.errors import (
    InternalError,
    InvalidSyntaxError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    ScimError,
)
from aup_server.oauth import TOKEN_PATH, OAuthError, TokenIssuer, parse_client
from aup_server.posix import registry_extensions
from aup_server.ratelimit import RateLimiter
from aup_server.service import ResourceService
from aup_server.store import Store, check_store_matches, open_store
from scimcore.schemas import SchemaRegistry, core_registry

log = logging.getLogger("aup_server")


@dataclass
class AupState:
    """Per-app state kept in ``app.extensions["aup"]``: nothing is read from module globals."""

    config: ServerConfig
    store: Store
    registry: SchemaRegistry
    service: ResourceService
    limiter: RateLimiter | None
    issuer: TokenIssuer | None = None  # the OAuth token endpoint's clients and tokens, when configured


def create_app(config: ServerConfig | Mapping[str, Any] | None = None, *, store: Store | None = None) -> Flask:
    """Build the app. Without ``store`` it opens ``open_store(config)`` (SQLite in memory by default).

    A ``store`` opened elsewhere brings its own ``db`` and ``unique_group_names``: a config that leaves
    them out takes the store's, and one that disagrees is a ValueError rather than silently ignored.
    """
    config = _server_config(config, store)
    if store is None:
        store = open_store(config)
    else:
        check_store_matches(config, store)
    registry = core_registry(registry_extensions(config))

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.url_map.strict_slashes = False
    limiter = (
        RateLimiter(config.rate_limit_per_minute, config.rate_limit_burst)
        if config.rate_limit_per_minute is not None
        else None
    )
    issuer = TokenIssuer(parse_client(client) for client in config.oauth_clients) if config.oauth_clients else None
    service = ResourceService(store, registry, config)
    app.extensions["aup"] = AupState(config, store, registry, service, limiter, issuer)
    if issuer is not None:
        app.add_url_rule(TOKEN_PATH, "oauth_token", _token_endpoint(issuer), methods=["POST"])

    bp = scim_blueprint()
    app.register_blueprint(bp, url_prefix="/scim/v2", url_defaults={"tenant": DEFAULT_TENANT})
    app.register_blueprint(bp, url_prefix="/scim/<tenant>/v2", name="scim_tenant")
    _register_error_handlers(app)
    return app


def _token_endpoint(issuer: TokenIssuer) -> Callable[[], Response]:
    """POST /oauth/token: a form-encoded token request (RFC 6749 §4.4.2), a JSON answer never cached (§5.1)."""

    def token() -> Response:
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        try:
            if request.mimetype != "application/x-www-form-urlencoded":
                raise OAuthError("invalid_request", "send the token request as application/x-www-form-urlencoded")
            body = issuer.issue(request.form.to_dict(), request.headers.get("Authorization"))
        except OAuthError as exc:
            response = jsonify(exc.body())
            response.status_code = exc.status
            response.headers.update({**headers, **exc.headers})
            return response
        response = jsonify(body)
        response.headers.update(headers)
        return response

    return token


def _server_config(config: ServerConfig | Mapping[str, Any] | None, store: Store | None) -> ServerConfig:
    """The config to serve with; its store settings default to those of ``store`` when one is given."""
    if isinstance(config, ServerConfig):
        config.validate()
        return config
    if store is None:
        return ServerConfig() if config is None else ServerConfig.from_mapping(config)
    opened = {"db": store.db, "unique_group_names": store.rules.unique_group_names}
    return ServerConfig.from_mapping({**opened, **(config or {})})


def _register_error_handlers(app: Flask) -> None:
    """Every error leaves as SCIM Error JSON (RFC 7644 §3.12); tracebacks go to the log, never the client."""

    @app.errorhandler(ScimError)
    def scim_error(exc: ScimError) -> Response:
        return scim_response(exc.to_scim(), exc.status, exc.headers)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        mapped: ScimError
        if status == 404:
            mapped = NotFoundError("no such endpoint; SCIM resources live under /scim/v2 or /scim/<tenant>/v2")
        elif status == 405 and isinstance(exc, MethodNotAllowed):
            allowed = ", ".join(sorted(exc.valid_methods or ()))
            mapped = MethodNotAllowedError(f"method not allowed here; allowed: {allowed}", headers={"Allow": allowed})
        elif status == 413:
            limit = app.extensions["aup"].config.max_body_bytes
            mapped = PayloadTooLargeError(
                f"the bulk request exceeds maxPayloadSize ({limit} bytes) (RFC 7644 §3.7.4)"
                if request.path.endswith("/Bulk")
                else f"the request body exceeds the {limit}-byte limit"
            )
        elif status == 400:
            mapped = InvalidSyntaxError(f"malformed request: {exc.description}")
        else:
            return scim_response(
                {
                    "schemas": InternalError("").to_scim()["schemas"],
                    "status": str(status),
                    "detail": exc.description,
                },
                status,
            )
        return scim_response(mapped.to_scim(), mapped.status, mapped.headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        err = InternalError("internal server error; the request was not applied")
        return scim_response(err.to_scim(), 500)
