"""Where a SCIM server is and how to authenticate to it: the one ``Target`` every client in the project uses.

A Target is a base URL (or an in-process WSGI app or transport mounted at that URL), one kind of
credentials, a timeout and the TLS setting. ``Target.auth`` makes its ``httpx.Auth`` and ``Target.http``
its ``httpx.Client`` (through ``make_http``). Secrets never appear in a repr.
"""

from __future__ import annotations

import base64
import enum
import ssl
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal
from urllib.parse import quote

import httpx

from scimcore.client import IN_PROCESS_SCIM_URL, BearerAuth, EventHooks, HeaderTokenAuth, WSGIApp, make_http

AuthKind = Literal["bearer", "header", "basic", "oauth", "none"]
CredentialsIn = Literal["basic", "post", "both"]
DEFAULT_TIMEOUT_S = 60.0  # Entra expects an answer within about 60 s; Okta's limit is not published
_EXPIRY_MARGIN = 60.0  # refresh an access token a minute before it expires


@dataclass(frozen=True)
class Bearer:
    """``Authorization: Bearer <token>`` (RFC 6750 §2.1): the client adds the prefix."""

    token: str = field(repr=False)
    kind: ClassVar[AuthKind] = "bearer"


@dataclass(frozen=True)
class HeaderValue:
    """A header value sent verbatim, whatever it holds (``Bearer abc``, ``SSWS abc``, a bare token)."""

    value: str = field(repr=False)
    header: str = "Authorization"
    kind: ClassVar[AuthKind] = "header"


@dataclass(frozen=True)
class Basic:
    """``Authorization: Basic base64(user:password)`` (RFC 7617)."""

    username: str
    password: str = field(repr=False)
    kind: ClassVar[AuthKind] = "basic"


@dataclass(frozen=True)
class ClientCredentials:
    """OAuth 2.0 client credentials grant (RFC 6749 §4.4): a token URL, a client id and secret, scopes, and
    where the credentials go in the token request (``client_secret_basic``, ``_post`` or both, §2.3.1)."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...] = ()
    credentials_in: CredentialsIn = "basic"
    kind: ClassVar[AuthKind] = "oauth"


Credentials = Bearer | HeaderValue | Basic | ClientCredentials


class TokenEndpointError(Exception):
    """The token endpoint refused the client credentials or answered something that is not a token."""


class ClientCredentialsAuth(httpx.Auth):
    """Sends ``Bearer <access token>``, fetching a token before the first request and again near its expiry.

    ``error`` is the exception raised when the token endpoint fails; a subclass may name its own.
    """

    error: ClassVar[type[Exception]] = TokenEndpointError

    def __init__(
        self,
        token_http: httpx.Client | Callable[[], httpx.Client],
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scopes: Sequence[str] = (),
        credentials_in: CredentialsIn = "basic",
        now: Callable[[], float],
    ) -> None:
        if credentials_in not in ("basic", "post", "both"):
            raise ValueError(f"credentials_in must be basic, post or both, not {credentials_in!r}")
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

    @classmethod
    def of(
        cls,
        grant: ClientCredentials,
        token_http: httpx.Client | Callable[[], httpx.Client],
        *,
        now: Callable[[], float],
    ) -> ClientCredentialsAuth:
        return cls(
            token_http,
            grant.token_url,
            grant.client_id,
            grant.client_secret,
            scopes=grant.scopes,
            credentials_in=grant.credentials_in,
            now=now,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.token_url!r}, client_id={self.client_id!r})"

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
            if isinstance(self.token_http, httpx.Client):
                response = self.token_http.post(self.token_url, data=form, headers=headers)
            else:  # a client made for this fetch and closed after it: tokens are fetched rarely
                with self.token_http() as token_http:
                    response = token_http.post(self.token_url, data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise self.error(f"token endpoint {self.token_url} unreachable: {exc}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not response.is_success or not isinstance(token, str) or not token:
            error = body.get("error") if isinstance(body, dict) else response.text[:100]
            raise self.error(f"token endpoint {self.token_url} answered {response.status_code}: {error}")
        expires_in = body.get("expires_in", 3600) if isinstance(body, dict) else 3600
        self._token = token
        self._expires_at = self._now() + float(expires_in)
        self.fetches += 1

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.ensure_token()
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


class _Default(enum.Enum):
    CREDENTIALS = "credentials"


FROM_CREDENTIALS = _Default.CREDENTIALS  # "the auth the target's credentials make", the default of ``http``
AuthChoice = httpx.Auth | None | _Default


@dataclass(frozen=True)
class Target:
    """A SCIM service provider: its base URL, credentials, timeout and TLS setting.

    ``app`` (a WSGI app or an httpx transport) reaches the server in process; ``base_url`` then only
    names where it is mounted. ``label`` replaces the base URL in reports.
    """

    base_url: str = IN_PROCESS_SCIM_URL
    credentials: Credentials | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    verify: ssl.SSLContext | bool = True  # TLS of a URL target: system CAs, off, or a given CA bundle
    app: WSGIApp | httpx.BaseTransport | None = None
    label: str = ""

    @property
    def auth_kind(self) -> AuthKind:
        return "none" if self.credentials is None else self.credentials.kind

    @property
    def description(self) -> str:
        return self.label or (f"{self.base_url} (in process)" if self.app is not None else self.base_url)

    def auth(
        self, *, token_http: httpx.Client | None = None, now: Callable[[], float] = time.monotonic
    ) -> httpx.Auth | None:
        """The ``httpx.Auth`` of the credentials; an OAuth one fetches its tokens through ``token_http``
        (by default a client with this target's timeout and TLS setting, made for each fetch and closed)."""
        creds = self.credentials
        if creds is None:
            return None
        if isinstance(creds, Bearer):
            return BearerAuth(creds.token)
        if isinstance(creds, HeaderValue):
            return HeaderTokenAuth(creds.value, creds.header)
        if isinstance(creds, Basic):
            return httpx.BasicAuth(creds.username, creds.password)
        return ClientCredentialsAuth.of(creds, token_http or self.token_http, now=now)

    def token_http(self) -> httpx.Client:
        """A client for an OAuth token endpoint: this target's timeout and TLS setting, nothing else."""
        return httpx.Client(timeout=self.timeout, verify=self.verify)

    def http(
        self,
        auth: AuthChoice = FROM_CREDENTIALS,
        *,
        hooks: EventHooks | None = None,
        headers: Sequence[tuple[str, str]] | None = None,
        timeout: float | None = None,
    ) -> httpx.Client:
        """The one way a client of this target is made; pass ``auth`` to share one (an OAuth token cache)."""
        return make_http(
            self.app if self.app is not None else self.base_url,
            self.auth() if auth is FROM_CREDENTIALS else auth,
            hooks=hooks,
            base_url=self.base_url,
            headers=headers,
            timeout=timeout if timeout is not None else self.timeout,
            verify=self.verify,
        )
