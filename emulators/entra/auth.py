"""How Entra authenticates to the target (docs/entra.md §1): a long-lived secret token, or OAuth 2.0
client credentials against a token endpoint the admin gives, with the secret in the header, body or both.

The OAuth strategy fetches a token before the first request and again when the cached one has
expired; ``ensure_token`` is the start-of-cycle check ("gets a new one if needed", §1).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Generator, Sequence
from typing import Literal
from urllib.parse import quote

import httpx

from emulators.core.errors import ConfigurationError
from emulators.entra.profile import EntraProfile, split_tenant_url
from scimcore.client import BearerAuth, EventHooks, Target, make_http

CredentialsIn = Literal["basic", "post", "both"]
_EXPIRY_MARGIN = 60.0  # refresh a minute before expiry (inferred)


def secret_token_auth(token: str) -> httpx.Auth:
    """The portal's Secret Token: the admin pastes the bare token and Entra adds ``Bearer `` (§1)."""
    return BearerAuth(token)


class TokenEndpointError(ConfigurationError):
    """The token endpoint refused the client credentials or answered something that is not a token."""


class ClientCredentialsAuth(httpx.Auth):
    """OAuth 2.0 client credentials grant (RFC 6749 §4.4); ``client_secret_basic``/``_post``/both (§1 [DOC TUT26])."""

    def __init__(
        self,
        token_http: httpx.Client,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scopes: Sequence[str] = (),
        credentials_in: CredentialsIn = "basic",
        now: Callable[[], float],
    ) -> None:
        if credentials_in not in ("basic", "post", "both"):
            raise ConfigurationError(f"credentials_in must be basic, post or both, not {credentials_in!r}")
        self.token_http = token_http
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.scopes = tuple(scopes)
        self.credentials_in = credentials_in
        self._now = now
        self._token: str | None = None
        self._expires_at = 0.0
        self.fetches = 0

    def ensure_token(self) -> None:
        """Fetch a token when there is none or it is about to expire."""
        if self._token is None or self._now() >= self._expires_at - _EXPIRY_MARGIN:
            self._fetch()

    def _fetch(self) -> None:
        form = {"grant_type": "client_credentials"}
        if self.scopes:
            form["scope"] = " ".join(self.scopes)
        headers = {}
        if self.credentials_in in ("basic", "both"):
            # RFC 6749 §2.3.1: form-urlencode id and secret before base64
            pair = f"{quote(self.client_id, safe='')}:{quote(self._secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        if self.credentials_in in ("post", "both"):
            form |= {"client_id": self.client_id, "client_secret": self._secret}
        try:
            response = self.token_http.post(self.token_url, data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise TokenEndpointError(f"token endpoint {self.token_url} unreachable: {exc}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not response.is_success or not isinstance(token, str) or not token:
            error = body.get("error") if isinstance(body, dict) else response.text[:100]
            raise TokenEndpointError(f"token endpoint {self.token_url} answered {response.status_code}: {error}")
        expires_in = body.get("expires_in", 3600) if isinstance(body, dict) else 3600
        self._token = token
        self._expires_at = self._now() + float(expires_in)
        self.fetches += 1

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.ensure_token()
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def make_entra_http(
    target: Target, auth: httpx.Auth | None, profile: EntraProfile, *, hooks: EventHooks | None = None
) -> tuple[httpx.Client, EntraProfile | None]:
    """The client Entra uses: the profile's header set, its 60 s timeout, the flag stripped from the URL.

    Returns the client and the dialect the Tenant URL selected with ``?aadOptscim062020``, if any (§1).
    """
    flagged: EntraProfile | None = None
    if isinstance(target, str):
        target, flagged = split_tenant_url(target)
    http = make_http(target, auth, hooks=hooks, headers=profile.headers, timeout=profile.response_timeout)
    return http, flagged
