"""Tenants and named bearer tokens: tokens are random, shown once, stored only as SHA-256 digests.

A token is scoped to one tenant. Lookups go by digest and the digests are then compared with
``hmac.compare_digest``, so timing reveals nothing about the secret (docs/domain.md §3 item 9).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from aup_server.errors import UnauthorizedError
from aup_server.store.base import TokenRecord, TokenStore

DEFAULT_TENANT = "default"
TOKEN_PREFIX = "aup_"  # noqa: S105 - a public prefix that makes leaked tokens easy to scan for
_TENANT_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_RESERVED_TENANTS = frozenset({"v2"})  # /scim/v2/... is the default tenant's prefix


def check_tenant(name: str) -> str:
    """Return ``name`` if it is a valid tenant name, else raise ValueError saying what is allowed."""
    if not _TENANT_RE.match(name) or name in _RESERVED_TENANTS:
        raise ValueError(
            f"invalid tenant name {name!r}: use 1-63 lowercase letters, digits or '-', starting with a letter or digit"
            " (and not 'v2')"
        )
    return name


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(store: TokenStore, name: str, tenant: str = DEFAULT_TENANT) -> str:
    """Create a named token for ``tenant`` and return the secret; only its digest is kept."""
    check_tenant(tenant)
    if not name.strip():
        raise ValueError("a token needs a name, e.g. 'okta' or 'entra'")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    store.add_token(name, tenant, digest(secret))
    return secret


def authenticate(store: TokenStore, authorization: str | None, tenant: str) -> TokenRecord:
    """The token record behind an ``Authorization: Bearer`` header, or 401 (RFC 6750 §3).

    Fails closed: no header, an empty token, an unknown, revoked or other tenant's token are all 401,
    with the same detail so the answer does not reveal which tenants or tokens exist.
    """
    challenge = {"WWW-Authenticate": 'Bearer realm="aup"'}
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError(
            "missing bearer token: send 'Authorization: Bearer <token>' (create one with 'aup token create')",
            headers=challenge,
        )
    wanted = digest(token)
    record = store.find_token(wanted)
    stored_digest = wanted if record else digest("")
    if (
        record is None
        or not hmac.compare_digest(stored_digest, wanted)
        or record.revoked is not None
        or record.tenant != tenant
    ):
        raise UnauthorizedError("invalid bearer token for this SCIM endpoint", headers={**challenge})
    return record
