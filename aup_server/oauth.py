"""An OAuth 2.0 token endpoint for the client credentials grant (RFC 6749 §4.4), so clients that authenticate the
way Entra's OAuth option does (``aup entra-sync --token-url``, ``aup conformance --token-url``) can be tried
against ``aup serve``.

Clients are configured as ``CLIENT_ID:SECRET`` (optionally ``@TENANT``). A client authenticates with HTTP Basic or
with ``client_id``/``client_secret`` in the form (§2.3.1), gets a bearer token valid for ``lifetime`` seconds
(§5.1), and that token is accepted by the SCIM endpoints of its tenant only. Issued tokens live in memory as
SHA-256 digests: a restart forgets them, as an expiry would, and a client asks again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aup_server.auth import DEFAULT_TENANT, TOKEN_PREFIX, check_tenant

TOKEN_PATH = "/oauth/token"  # noqa: S105 - a URL path, not a secret
LIFETIME_S = 3600
GRANT = "client_credentials"


@dataclass(frozen=True)
class Client:
    client_id: str
    secret_digest: str
    tenant: str


def parse_client(text: str) -> Client:
    """``CLIENT_ID:SECRET`` or ``CLIENT_ID:SECRET@TENANT``; ValueError says what is wrong."""
    credentials, _, tenant = text.rpartition("@") if "@" in text else (text, "", DEFAULT_TENANT)
    client_id, sep, secret = credentials.partition(":")
    if not sep or not client_id or not secret:
        raise ValueError(f"an OAuth client is CLIENT_ID:SECRET or CLIENT_ID:SECRET@TENANT, not {text!r}")
    return Client(client_id, _digest(secret), check_tenant(tenant or DEFAULT_TENANT))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class OAuthError(Exception):
    """An error response of RFC 6749 §5.2: ``error`` code, description, HTTP status and extra headers."""

    def __init__(self, error: str, description: str, status: int = 400, headers: Mapping[str, str] | None = None):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status
        self.headers = dict(headers or {})

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class TokenIssuer:
    """The configured clients and the tokens issued to them (digests only, each with its tenant and expiry)."""

    def __init__(
        self, clients: Iterable[Client], *, lifetime: int = LIFETIME_S, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.clients = {client.client_id: client for client in clients}
        self.lifetime = lifetime
        self._now = now
        self._tokens: dict[str, tuple[str, str, float]] = {}  # digest -> (client id, tenant, expires at)
        self._lock = threading.Lock()

    def issue(self, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
        """The token response (§5.1) for a token request, or OAuthError (§5.2)."""
        client = self._authenticate(form, authorization)
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant != GRANT:
            raise OAuthError("unsupported_grant_type", f"only grant_type={GRANT} is supported")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._lock:
            self._expire()
            self._tokens[_digest(token)] = (client.client_id, client.tenant, self._now() + self.lifetime)
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.lifetime}

    def holder(self, token: str, tenant: str) -> str | None:
        """The client id an unexpired token was issued to, when it is for ``tenant``; else None."""
        with self._lock:
            found = self._tokens.get(_digest(token))
            if found is None:
                return None
            client_id, token_tenant, expires = found
            if expires <= self._now():
                del self._tokens[_digest(token)]
                return None
        return client_id if token_tenant == tenant else None

    def _expire(self) -> None:
        now = self._now()
        for key in [key for key, (_, _, expires) in self._tokens.items() if expires <= now]:
            del self._tokens[key]

    def _authenticate(self, form: Mapping[str, str], authorization: str | None) -> Client:
        """Client authentication by HTTP Basic or by the form, never both (§2.3.1, §2.3)."""
        basic = _basic(authorization)
        in_form = form.get("client_id"), form.get("client_secret")
        if basic is not None and any(in_form):
            raise OAuthError("invalid_request", "use one client authentication method, not Basic and the form")
        client_id, secret = basic if basic is not None else in_form
        challenge = {"WWW-Authenticate": 'Basic realm="aup"'} if basic is not None else {}
        client = self.clients.get(client_id or "")
        given = _digest(secret or "")
        expected = client.secret_digest if client is not None else _digest("")
        if client is None or not secret or not hmac.compare_digest(given, expected):
            raise OAuthError("invalid_client", "client authentication failed", 401, challenge)
        return client


def _basic(authorization: str | None) -> tuple[str, str] | None:
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        pair = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "the Basic credentials are not base64 of id:secret", 401) from None
    client_id, _, secret = pair.partition(":")
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))  # form-encoded first (§2.3.1)
