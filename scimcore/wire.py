"""One HTTP exchange on the wire, and the cassette format that stores exchanges as JSON lines.

Pure standard library: the mitmproxy recorder writes cassettes from its own environment, and
replay, fidelity diffs and evidence read them back through this module. The format is described
in docs/cassette.md. Secrets are redacted by :func:`to_line`, so nothing unredacted is ever written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import parse_qsl, quote, urlsplit

CASSETTE_VERSION = 1
REDACTED = "[REDACTED]"

# Headers whose whole value is a secret; Authorization keeps its scheme word (see redact_headers).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
SECRET_KEYS = frozenset({"password"})

Headers = tuple[tuple[str, str], ...]
# The first path segment a SCIM endpoint serves under its base URL (RFC 7644 §3.2, §3.4.3, §3.7, §4, §3.11).
RESOURCE_SEGMENTS = frozenset({"Users", "Groups", "ServiceProviderConfig", "ResourceTypes", "Schemas", "Bulk", "Me"})
# Extra header, JSON field or query parameter names to redact (lower case), e.g. from ``aup record --redact``.
Names = Iterable[str]


class CassetteError(ValueError):
    """A cassette line that cannot be read: malformed JSON, a missing field or an unknown version."""


@dataclass(frozen=True)
class Exchange:
    """One request and its response, as seen on the wire.

    ``url`` is the path and query exactly as sent, percent-encoding kept, so that encodings
    (``%20`` versus ``+``) survive a round trip. Bodies hold the parsed JSON value, the text when
    the body is not JSON, or None when there was no body.
    """

    method: str
    url: str
    request_headers: Headers
    request_body: Any
    status: int
    response_headers: Headers
    response_body: Any
    started: str
    elapsed_ms: float
    source: str = ""
    error: str = ""  # why there is no response (status 0): upstream down, client gone; empty otherwise

    @property
    def path(self) -> str:
        """The URL path without the query."""
        return urlsplit(self.url).path

    @property
    def query(self) -> list[tuple[str, str]]:
        """The decoded query parameters in order; ``+`` and ``%20`` both decode to a space."""
        return parse_qsl(urlsplit(self.url).query, keep_blank_values=True)

    @property
    def resource_path(self) -> str:
        """The path below the SCIM base URL: ``/scim/acme/v2/Users/7`` -> ``/Users/7``."""
        return resource_path(self.path)

    def request_header(self, name: str) -> str | None:
        return _header(self.request_headers, name)

    def response_header(self, name: str) -> str | None:
        return _header(self.response_headers, name)


def resource_path(path: str) -> str:
    """The part of a path from its SCIM resource segment on (``/.search`` at the root included); the
    path itself when it has none, so servers with any base path compare and replay alike."""
    segments = path.split("/")
    for index, segment in enumerate(segments):
        if segment in RESOURCE_SEGMENTS or (segment == ".search" and index == len(segments) - 1):
            return "/" + "/".join(segments[index:])
    return path


def _header(headers: Headers, name: str) -> str | None:
    folded = name.lower()
    return next((value for key, value in headers if key.lower() == folded), None)


def decode_body(content: bytes) -> Any:
    """A body as stored in an Exchange: the JSON value, else the text, else None when empty."""
    if not content:
        return None
    text = content.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _folded(names: Names) -> frozenset[str]:
    return frozenset(name.lower() for name in names)


def redact_headers(headers: Headers, names: Names = ()) -> Headers:
    """Hide credentials, cookies and the headers in ``names``; an Authorization scheme word is kept."""
    secret = SECRET_HEADERS | _folded(names)
    out: list[tuple[str, str]] = []
    for name, value in headers:
        if name.lower() not in secret:
            out.append((name, value))
        elif name.lower().endswith("authorization") and " " in value.strip():
            out.append((name, f"{value.strip().split(' ', 1)[0]} {REDACTED}"))
        else:
            out.append((name, REDACTED))
    return tuple(out)


def redact_body(body: Any, names: Names = ()) -> Any:
    """Replace every ``password`` value (and every field in ``names``), including PATCH operations on them."""
    return _redact_json(body, SECRET_KEYS | _folded(names))


def _redact_json(body: Any, secret: frozenset[str]) -> Any:
    if isinstance(body, list):
        return [_redact_json(item, secret) for item in body]
    if not isinstance(body, dict):
        return body
    out: dict[str, Any] = {}
    patched = _patched_attribute(body.get("path"))
    patches_secret = patched in secret
    for key, value in body.items():
        if value is not None and (key.lower() in secret or (patches_secret and key == "value")):
            out[key] = REDACTED
        else:
            out[key] = _redact_json(value, secret)
    return out


def _patched_attribute(path: Any) -> str:
    """The attribute a PATCH path ends in, lower case: ``urn:...:User:employeeNumber`` -> ``employeenumber``."""
    if not isinstance(path, str):
        return ""
    last = path.rsplit(":", 1)[-1] if path.lower().startswith("urn:") else path
    return last.rsplit(".", 1)[-1].lower()


def redact_url(url: str, names: Names = ()) -> str:
    """Hide the values of the query parameters named in ``names``; everything else is kept byte for byte."""
    secret = _folded(names)
    path, sep, query = url.partition("?")
    if not sep or not secret:
        return url
    pairs = []
    for pair in query.split("&"):
        key, eq, _ = pair.partition("=")
        decoded = parse_qsl(key, keep_blank_values=True)
        name = decoded[0][0] if decoded else key
        pairs.append(f"{key}={quote(REDACTED)}" if eq and name.lower() in secret else pair)
    return f"{path}?{'&'.join(pairs)}"


def redact(exchange: Exchange, names: Names = ()) -> Exchange:
    """The exchange with credentials, cookies, passwords and the ``names`` hidden; applied before any write."""
    names = _folded(names)
    return replace(
        exchange,
        url=redact_url(exchange.url, names),
        request_headers=redact_headers(exchange.request_headers, names),
        request_body=redact_body(exchange.request_body, names),
        response_headers=redact_headers(exchange.response_headers, names),
        response_body=redact_body(exchange.response_body, names),
    )


def to_line(exchange: Exchange, *, redact_names: Names = ()) -> str:
    """The exchange, redacted (also the fields in ``redact_names``), as one cassette line (without the newline)."""
    ex = redact(exchange, redact_names)
    record: dict[str, Any] = {
        "v": CASSETTE_VERSION,
        "source": ex.source,
        "started": ex.started,
        "elapsed_ms": ex.elapsed_ms,
        "request": {
            "method": ex.method,
            "url": ex.url,
            "headers": [list(pair) for pair in ex.request_headers],
            "body": ex.request_body,
        },
        "response": {
            "status": ex.status,
            "headers": [list(pair) for pair in ex.response_headers],
            "body": ex.response_body,
        },
    }
    if ex.error:
        record["error"] = ex.error
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def from_line(line: str) -> Exchange:
    """Parse one cassette line; CassetteError says what is wrong."""
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise CassetteError(f"not JSON: {exc}") from None
    if not isinstance(record, dict):
        raise CassetteError("a cassette line must be a JSON object")
    version = record.get("v")
    if version != CASSETTE_VERSION:
        raise CassetteError(f"cassette version {version!r} is not supported (this reader reads {CASSETTE_VERSION})")
    try:
        request, response = record["request"], record["response"]
        return Exchange(
            method=str(request["method"]),
            url=str(request["url"]),
            request_headers=_headers_from(request.get("headers", [])),
            request_body=request.get("body"),
            status=int(response["status"]),
            response_headers=_headers_from(response.get("headers", [])),
            response_body=response.get("body"),
            started=str(record.get("started", "")),
            elapsed_ms=float(record.get("elapsed_ms", 0.0)),
            source=str(record.get("source", "")),
            error=str(record.get("error", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CassetteError(f"missing or malformed field: {exc}") from None


def _headers_from(pairs: Sequence[Sequence[str]]) -> Headers:
    if not all(isinstance(pair, (list, tuple)) and len(pair) == 2 for pair in pairs):
        raise CassetteError("headers must be a list of [name, value] pairs")
    return tuple((str(name), str(value)) for name, value in pairs)


class CassetteWriter:
    """Appends exchanges to a cassette file, one flushed line each, so a crash loses at most one line.

    ``redact_names`` adds header, JSON field and query parameter names to what is always redacted.
    """

    def __init__(self, path: str | Path, *, append: bool = True, redact_names: Names = ()) -> None:
        self.path = Path(path)
        self._redact = _folded(redact_names)
        self._file: IO[str] = self.path.open("a" if append else "w", encoding="utf-8")

    def write(self, exchange: Exchange) -> None:
        self._file.write(to_line(exchange, redact_names=self._redact) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CassetteWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def write_cassette(
    path: str | Path, exchanges: Iterable[Exchange], *, append: bool = False, redact_names: Names = ()
) -> int:
    """Write exchanges (redacted) to ``path``; returns how many were written."""
    count = 0
    with CassetteWriter(path, append=append, redact_names=redact_names) as writer:
        for exchange in exchanges:
            writer.write(exchange)
            count += 1
    return count


def iter_cassette(path: str | Path) -> Iterator[Exchange]:
    """The exchanges of a cassette in order; blank lines are skipped, errors name the line."""
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield from_line(line)
            except CassetteError as exc:
                raise CassetteError(f"{path}:{number}: {exc}") from None


def read_cassette(path: str | Path) -> list[Exchange]:
    return list(iter_cassette(path))
