"""Client plumbing: one httpx.Client per target, auth strategies, a Wiretap, and SCIM verbs on raw dicts.

Every SCIM client in the project (emulators, conformance checks) talks through the ``httpx.Client``
made here, whatever the target: a base URL, an in-process WSGI app, or a test transport.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, quote_plus

import httpx

from scimcore import urns
from scimcore.wire import Exchange, decode_body

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Destination = str | httpx.BaseTransport | WSGIApp
EventHooks = Mapping[str, Sequence[Callable[..., Any]]]

# Base URL used when the target is not a URL (an in-process app or a test transport).
IN_PROCESS_BASE_URL = "http://scim.test"
# Where the in-process reference server serves SCIM (aup_server mounts it at /scim/v2).
IN_PROCESS_SCIM_URL = f"{IN_PROCESS_BASE_URL}/scim/v2"

_STARTED = "scimcore.started"


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>``: OAuth access tokens and header tokens whose prefix the client adds."""

    def __init__(self, token: str) -> None:
        self._value = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._value
        yield request


class HeaderTokenAuth(httpx.Auth):
    """A header value sent verbatim, whatever it holds (``Bearer abc``, ``SSWS abc``, or a bare token)."""

    def __init__(self, value: str, header: str = "Authorization") -> None:
        self._header = header
        self._value = value

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._header] = self._value
        yield request


class Wiretap:
    """Event hooks that record every exchange of a client, for evidence, assertions and cassettes.

    Exchanges are kept as sent (unredacted) in memory; ``sink`` receives each one as it completes,
    for example ``CassetteWriter.write``, which redacts before writing.
    """

    def __init__(
        self,
        source: str = "",
        *,
        sink: Callable[[Exchange], None] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.source = source
        self.exchanges: list[Exchange] = []
        self._sink = sink
        self._now = now

    @property
    def hooks(self) -> dict[str, list[Callable[..., Any]]]:
        """The event hooks to hand to ``make_http`` or ``httpx.Client(event_hooks=...)``."""
        return {"request": [self.on_request], "response": [self.on_response]}

    def on_request(self, request: httpx.Request) -> None:
        request.extensions[_STARTED] = self._now()

    def on_response(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        started: datetime = request.extensions.get(_STARTED) or self._now()
        elapsed = (self._now() - started).total_seconds() * 1000
        exchange = Exchange(
            method=request.method,
            url=request.url.raw_path.decode("ascii"),
            request_headers=_raw_headers(request.headers),
            request_body=decode_body(request.content),
            status=response.status_code,
            response_headers=_raw_headers(response.headers),
            response_body=decode_body(response.content),
            started=started.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            elapsed_ms=round(elapsed, 3),
            source=self.source,
        )
        self.exchanges.append(exchange)
        if self._sink is not None:
            self._sink(exchange)

    def clear(self) -> None:
        self.exchanges.clear()


def _raw_headers(headers: httpx.Headers) -> tuple[tuple[str, str], ...]:
    """Headers with their names spelled as sent."""
    return tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in headers.raw)


def make_http(
    target: Destination,
    auth: httpx.Auth | None = None,
    *,
    hooks: EventHooks | None = None,
    base_url: str = IN_PROCESS_BASE_URL,
    headers: Sequence[tuple[str, str]] | None = None,
    timeout: float = 60.0,
    verify: ssl.SSLContext | bool = True,
) -> httpx.Client:
    """One ``httpx.Client`` for a base URL, an in-process WSGI app, or a transport (e.g. ``MockTransport``).

    ``base_url`` applies to the non-URL targets and may carry a path (``IN_PROCESS_SCIM_URL``).
    ``headers``, when given, *replace* httpx's default header set (Accept, Accept-Encoding,
    Connection, User-Agent), so a client can control exactly which headers go on the wire.
    ``verify`` is the TLS setting of a URL target: True (system CAs), False, or an SSL context.
    """
    transport: httpx.BaseTransport | None
    if isinstance(target, httpx.BaseTransport):
        transport = target
    elif isinstance(target, str):
        transport, base_url = None, target
    elif callable(target):
        transport = httpx.WSGITransport(app=target)
    else:
        raise TypeError(f"target must be a base URL, a WSGI app or an httpx transport, not {type(target).__name__}")
    client = httpx.Client(
        base_url=base_url,
        transport=transport,
        auth=auth,
        event_hooks={name: list(fns) for name, fns in (hooks or {}).items()},
        timeout=timeout,
        verify=verify,
    )
    if headers is not None:
        for name in list(client.headers):
            del client.headers[name]
        client.headers.update(list(headers))
    return client


def response_json(response: httpx.Response) -> Any:
    """The JSON of an answer whatever its media type; None when the body is empty or not JSON."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def encode_query(params: Sequence[tuple[str, str | int]], *, space: str = "%20") -> str:
    """A query string with every reserved character percent-encoded; spaces as ``%20`` or ``+``."""
    if space not in ("%20", "+"):
        raise ValueError(f"space must be '%20' or '+', not {space!r}")
    encode = quote_plus if space == "+" else quote
    return "&".join(f"{encode(str(key), safe='')}={encode(str(value), safe='')}" for key, value in params)


def eq_filter(attribute: str, value: str) -> str:
    """``attribute eq "value"`` with the value quoted as a JSON string (RFC 7644 §3.4.2.2)."""
    return f"{attribute} eq {json.dumps(value, ensure_ascii=False)}"


def encode_json(body: Any) -> bytes:
    """Compact UTF-8 JSON, key order kept."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class ScimClient:
    """SCIM verbs on raw dicts over one ``httpx.Client``.

    It sends exactly the headers it is given (plus ``body_headers`` when there is a body) and
    encodes the query itself, so dialects that care about the wire (header sets, ``%20`` versus
    ``+``, key order) get what they ask for.
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        headers: Sequence[tuple[str, str]] = (("Accept", urns.MEDIA_TYPE),),
        body_headers: Sequence[tuple[str, str]] = (("Content-Type", urns.MEDIA_TYPE),),
        space: str = "%20",
    ) -> None:
        self.http = http
        self.headers = tuple(headers)
        self.body_headers = tuple(body_headers)
        self.space = space

    def request(
        self, method: str, path: str, *, query: Sequence[tuple[str, str | int]] = (), body: Any = None
    ) -> httpx.Response:
        url = f"{path}?{encode_query(query, space=self.space)}" if query else path
        headers = list(self.headers)
        content = None
        if body is not None:
            headers.extend(self.body_headers)
            content = encode_json(body)
        return self.http.request(method, url, headers=headers, content=content)

    def get(self, path: str, query: Sequence[tuple[str, str | int]] = ()) -> httpx.Response:
        return self.request("GET", path, query=query)

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.request("POST", path, body=body)

    def put(self, path: str, body: Any) -> httpx.Response:
        return self.request("PUT", path, body=body)

    def patch(self, path: str, body: Any) -> httpx.Response:
        return self.request("PATCH", path, body=body)

    def delete(self, path: str) -> httpx.Response:
        return self.request("DELETE", path)
