"""Where the SCIM server is and how to reach it: one option set for every client command, and the pre-flight.

``connection_options`` adds ``--target``, ``--token``, ``--auth``, ``--auth-header``, ``--timeout``,
``--cacert`` and ``--insecure`` to a command and hands it one ``ConnectionOptions``; ``resolve`` turns
them into the validated ``scimcore.target.Target``. ``preflight`` asks the target one discovery question
before any real request, so a wrong base URL, a refused token, a login page, a redirect, a TLS failure or a
timeout stops the run with one line and exit 2 instead of a run full of failures.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import click
import httpx

from aup.commands.exits import UsageProblem
from scimcore import urns
from scimcore.client import response_json
from scimcore.target import (
    DEFAULT_TIMEOUT_S,
    FROM_CREDENTIALS,
    AuthChoice,
    Basic,
    Bearer,
    ClientCredentials,
    Credentials,
    HeaderValue,
    Target,
)

CliAuthKind = Literal["bearer", "header", "basic", "none"]
AUTH_KINDS: tuple[CliAuthKind, ...] = ("bearer", "header", "basic", "none")
# Base paths servers commonly mount SCIM under; probed to suggest the right one after a 404.
_BASE_PATH_GUESSES = ("/scim/v2", "/v2", "/scim", "/api/scim/v2", "/scim/v2.0")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ConnectionOptions:
    """The connection options as given on the command line, not yet validated."""

    target: str | None = None
    token: str | None = None
    auth: CliAuthKind = "bearer"
    auth_header: str | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    cacert: Path | None = None
    insecure: bool = False

    @property
    def given(self) -> bool:
        return self.target is not None

    def credentials_given(self) -> bool:
        return bool(self.token or self.auth_header)

    def resolve(
        self,
        *,
        allowed: Sequence[CliAuthKind] = AUTH_KINDS,
        who: str = "",
        oauth: ClientCredentials | None = None,
    ) -> Target:
        """The validated target; UsageProblem (exit 2) names the first problem.

        ``oauth``: the caller authenticates with OAuth client credentials instead (Entra), so no token is needed.
        """
        if self.target is None:
            raise UsageProblem("--target is required: the SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2")
        parts = urlsplit(self.target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageProblem(f"--target must be an http(s) SCIM base URL, not {self.target!r}")
        kind: CliAuthKind = self.auth
        token = self.token
        if self.auth_header is not None:
            if self.token:
                raise UsageProblem("give either --token or --auth-header, not both")
            kind, token = "header", self.auth_header
        if kind not in allowed:
            hint = f" ({who})" if who else ""
            raise UsageProblem(f"--auth {kind} is not available here{hint}; use {' or '.join(allowed)}")
        if oauth is None and kind != "none" and not token:
            raise UsageProblem("--token is required (or set AUP_SCIM_TOKEN); use --auth none for an open server")
        if kind == "basic" and ":" not in (token or ""):
            raise UsageProblem("with --auth basic, --token must be USER:PASSWORD")
        if self.insecure and self.cacert is not None:
            raise UsageProblem("give either --cacert or --insecure, not both")
        if self.timeout <= 0:
            raise UsageProblem("--timeout must be a positive number of seconds")
        verify: ssl.SSLContext | bool = True
        if self.insecure:
            verify = False
        elif self.cacert is not None:
            try:
                verify = ssl.create_default_context(cafile=str(self.cacert))
            except (OSError, ssl.SSLError) as exc:
                raise UsageProblem(f"cannot use --cacert {self.cacert}: {exc}") from None
        credentials = oauth if oauth is not None else _credentials(kind, token or "")
        return Target(self.target.rstrip("/"), credentials, timeout=self.timeout, verify=verify)


def _credentials(kind: CliAuthKind, token: str) -> Credentials | None:
    if kind == "none":
        return None
    if kind == "header":
        return HeaderValue(token)
    if kind == "basic":
        user, _, password = token.partition(":")
        return Basic(user, password)
    return Bearer(token)


def connection_options(*, target_help: str = "SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2") -> Callable[[F], F]:
    """Add the shared connection options; the command receives them as ``connection: ConnectionOptions``."""
    options = (
        click.option("--target", metavar="URL", help=target_help),
        click.option("--token", envvar="AUP_SCIM_TOKEN", metavar="T", help="Credential (env AUP_SCIM_TOKEN)."),
        click.option(
            "--auth",
            "auth_kind",
            type=click.Choice(AUTH_KINDS),
            default="bearer",
            show_default=True,
            help="bearer sends 'Bearer <token>'; header sends --token verbatim; basic takes USER:PASSWORD.",
        ),
        click.option("--auth-header", metavar="VALUE", help="Authorization header sent verbatim, e.g. 'SSWS abc'."),
        click.option(
            "--timeout",
            type=float,
            default=DEFAULT_TIMEOUT_S,
            show_default=True,
            metavar="SECONDS",
            help="Give up on an answer after this long.",
        ),
        click.option(
            "--cacert",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Trust this CA bundle (PEM) for an https target (SSL_CERT_FILE works too).",
        ),
        click.option("--insecure", is_flag=True, help="Do not verify the target's TLS certificate."),
    )

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs["connection"] = ConnectionOptions(
                target=kwargs.pop("target"),
                token=kwargs.pop("token"),
                auth=kwargs.pop("auth_kind"),
                auth_header=kwargs.pop("auth_header"),
                timeout=kwargs.pop("timeout"),
                cacert=kwargs.pop("cacert"),
                insecure=kwargs.pop("insecure"),
            )
            return fn(*args, **kwargs)

        decorated: Any = wrapper
        for option in reversed(options):
            decorated = option(decorated)
        return decorated  # type: ignore[no-any-return]

    return decorate


# -- pre-flight ------------------------------------------------------------------------------------


@dataclass
class Preflight:
    """What the pre-flight learned: the ServiceProviderConfig (when served) and notes worth showing."""

    capabilities: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def preflight(target: Target, auth: AuthChoice = FROM_CREDENTIALS) -> Preflight:
    """Ask the target ``GET /ServiceProviderConfig`` and ``GET /Users?startIndex=1&count=1``; UsageProblem if
    the answers show it is not a reachable SCIM endpoint that takes these credentials (RFC 7644 §4, §3.4.2).

    A server without ``/ServiceProviderConfig`` passes when ``/Users`` answers as SCIM (Okta and Entra never
    read it); a 5xx passes too, so the run can report it as the target's failure. Pass ``auth`` to reuse
    the one the run will use (an OAuth token is then fetched once).
    """
    base = target.base_url
    auth = target.auth() if auth is FROM_CREDENTIALS else auth
    result = Preflight()
    with target.http(auth, headers=(("Accept", urns.MEDIA_TYPE),)) as http:
        spc = _ask(http, base, "/ServiceProviderConfig")
        body = response_json(spc)
        if spc.is_success:
            if not isinstance(body, dict):
                raise UsageProblem(f"{base} is not a SCIM endpoint: GET /ServiceProviderConfig answered {_what(spc)}")
            result.capabilities = body
        else:
            result.notes.append(f"GET /ServiceProviderConfig answered {spc.status_code}")
        users = _ask(http, base, "/Users", (("startIndex", "1"), ("count", "1")))
        listing = response_json(users)
        if users.status_code == 404 and result.capabilities is None:
            hint = _suggest_base(target, auth)
            raise UsageProblem(f"{base} is not a SCIM base URL: /ServiceProviderConfig and /Users answer 404" + hint)
        if users.is_success and not isinstance(listing, dict):
            raise UsageProblem(f"{base} is not a SCIM endpoint: GET /Users answered {_what(users)}")
        if not users.is_success and users.status_code < 500 and not _scim_error(listing):
            raise UsageProblem(f"{base} is not a SCIM endpoint: GET /Users answered {_what(users)}")
        if users.status_code >= 500:
            result.notes.append(f"GET /Users answered {users.status_code}")
    return result


def _ask(http: httpx.Client, base: str, path: str, query: Sequence[tuple[str, str]] = ()) -> httpx.Response:
    where = f"{base}{path}"
    try:
        response = http.get(path, params=list(query))
    except httpx.TimeoutException:
        raise UsageProblem(f"no answer from {where} within {http.timeout.read or 0:g} s (see --timeout)") from None
    except httpx.ConnectError as exc:
        raise UsageProblem(f"cannot connect to {base}: {_reason(exc)}") from None
    except httpx.TransportError as exc:
        raise UsageProblem(f"cannot talk to {base}: {_reason(exc)}") from None
    if response.is_redirect:
        location = response.headers.get("Location", "?")
        raise UsageProblem(
            f"{where} answered {response.status_code}, a redirect to {location}: give the SCIM base URL itself "
            "(IdPs do not follow redirects; a redirect to a login page means the path is not the API)"
        )
    if response.status_code in (401, 403):
        detail = _detail(response)
        given = http.auth is not None
        problem = "refused the credentials" if given else "needs credentials"
        raise UsageProblem(
            f"{base} {problem} ({response.status_code}{': ' + detail if detail else ''}); check --token and --auth"
        )
    return response


def _reason(exc: httpx.TransportError) -> str:
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(exc.__context__, ssl.SSLError):
        return f"TLS failure ({text}); trust the server's CA with --cacert FILE, or use --insecure"
    return text


def _scim_error(body: Any) -> bool:
    return isinstance(body, dict) and urns.ERROR in (body.get("schemas") or ())


def _detail(response: httpx.Response) -> str:
    body = response_json(response)
    return str(body.get("detail") or "")[:160] if isinstance(body, dict) else ""


def _what(response: httpx.Response) -> str:
    """A short account of a non-SCIM answer: status, media type, and a hint for the usual suspects."""
    media = response.headers.get("Content-Type", "no Content-Type").split(";")[0].strip()
    text = response.text[:300].lower()
    looks = " (an HTML page: a login page, proxy or web app, not the SCIM API)" if "<html" in text else ""
    if not looks and response.content and response_json(response) is None:
        looks = " (not JSON)"
    return f"{response.status_code} {media}{looks}"


def _suggest_base(target: Target, auth: httpx.Auth | None) -> str:
    """'; did you mean …/scim/v2?' when a usual base path under the given URL answers as SCIM."""
    stem = target.base_url.rstrip("/")
    for guess in _BASE_PATH_GUESSES:
        if stem.endswith(guess):
            continue
        candidate = stem + guess
        try:
            guess_target = replace(target, base_url=candidate)
            with guess_target.http(auth, headers=(("Accept", urns.MEDIA_TYPE),), timeout=5.0) as http:
                answer = http.get("/ServiceProviderConfig")
        except httpx.HTTPError:
            continue
        if answer.is_success and isinstance(response_json(answer), dict):
            return f"; did you mean {candidate}?"
    return ""
