"""How Entra authenticates to the target (docs/entra-idp.md §1): a long-lived secret token, or OAuth 2.0
client credentials against a token endpoint the admin gives, with the secret in the header, body or both.

The OAuth strategy is ``scimcore.target.ClientCredentialsAuth``: it fetches a token before the first
request and again when the cached one has expired; ``ensure_token`` is the start-of-cycle check ("gets a
new one if needed", §1). Here only what is Entra's: its errors stop a job as configuration errors.
"""

from __future__ import annotations

import httpx

from emulators.core.errors import ConfigurationError
from emulators.entra.profile import EntraProfile, split_tenant_url
from scimcore import target
from scimcore.client import BearerAuth, Destination, EventHooks, make_http
from scimcore.target import CredentialsIn

__all__ = ["ClientCredentialsAuth", "CredentialsIn", "TokenEndpointError", "make_entra_http", "secret_token_auth"]


def secret_token_auth(token: str) -> httpx.Auth:
    """The portal's Secret Token: the admin pastes the bare token and Entra adds ``Bearer `` (§1)."""
    return BearerAuth(token)


class TokenEndpointError(ConfigurationError, target.TokenEndpointError):
    """The token endpoint refused the client credentials or answered something that is not a token."""


class ClientCredentialsAuth(target.ClientCredentialsAuth):
    """OAuth 2.0 client credentials grant (RFC 6749 §4.4); ``client_secret_basic``/``_post``/both (§1 (documented)).

    A refused or broken token endpoint quarantines the job like any configuration error (§7).
    """

    error = TokenEndpointError


def make_entra_http(
    target: Destination, auth: httpx.Auth | None, profile: EntraProfile, *, hooks: EventHooks | None = None
) -> tuple[httpx.Client, EntraProfile | None]:
    """The client Entra uses: the profile's header set, its 60 s timeout, the flag stripped from the URL.

    Returns the client and the dialect the Tenant URL selected with ``?aadOptscim062020``, if any (§1).
    """
    flagged: EntraProfile | None = None
    if isinstance(target, str):
        target, flagged = split_tenant_url(target)
    http = make_http(target, auth, hooks=hooks, headers=profile.headers, timeout=profile.response_timeout)
    return http, flagged
