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
from urllib.parse import parse_qsl, urlsplit

CASSETTE_VERSION = 1
REDACTED = "[REDACTED]"

# Headers whose whole value is a secret; Authorization keeps its scheme word (see redact_headers).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
SECRET_KEYS = frozenset({"password"})

Headers = tuple[tuple[str, str], ...]


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

    @property
    def path(self) -> str:
        """The URL path without the query."""
        return urlsplit(self.url).path

    @property
    def query(self) -> list[tuple[str, str]]:
        """The decoded query parameters in order; ``+`` and ``%20`` both decode to a space."""
        return parse_qsl(urlsplit(self.url).query, keep_blank_values=True)

    def request_header(self, name: str) -> str | None:
        return _header(self.request_headers, name)

    def response_header(self, name: str) -> str | None:
        return _header(self.response_headers, name)


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


def redact_headers(headers: Headers) -> Headers:
    """Hide credentials and cookies; an Authorization scheme word (``Bearer``, ``Basic``) is kept."""
    out: list[tuple[str, str]] = []
    for name, value in headers:
        if name.lower() not in SECRET_HEADERS:
            out.append((name, value))
        elif name.lower().endswith("authorization") and " " in value.strip():
            out.append((name, f"{value.strip().split(' ', 1)[0]} {REDACTED}"))
        else:
            out.append((name, REDACTED))
    return tuple(out)


def redact_body(body: Any) -> Any:
    """Replace every ``password`` value, including PATCH operations whose path is ``password``."""
    if isinstance(body, list):
        return [redact_body(item) for item in body]
    if not isinstance(body, dict):
        return body
    out: dict[str, Any] = {}
    patches_password = str(body.get("path", "")).lower() in SECRET_KEYS
    for key, value in body.items():
        if value is not None and (key.lower() in SECRET_KEYS or (patches_password and key == "value")):
            out[key] = REDACTED
        else:
            out[key] = redact_body(value)
    return out


def redact(exchange: Exchange) -> Exchange:
    """The exchange with credentials, cookies and passwords hidden; applied before any write."""
    return replace(
        exchange,
        request_headers=redact_headers(exchange.request_headers),
        request_body=redact_body(exchange.request_body),
        response_headers=redact_headers(exchange.response_headers),
        response_body=redact_body(exchange.response_body),
    )


def to_line(exchange: Exchange) -> str:
    """The exchange, redacted, as one cassette line (without the newline)."""
    ex = redact(exchange)
    record = {
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
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CassetteError(f"missing or malformed field: {exc}") from None


def _headers_from(pairs: Sequence[Sequence[str]]) -> Headers:
    if not all(isinstance(pair, (list, tuple)) and len(pair) == 2 for pair in pairs):
        raise CassetteError("headers must be a list of [name, value] pairs")
    return tuple((str(name), str(value)) for name, value in pairs)


class CassetteWriter:
    """Appends exchanges to a cassette file, one flushed line each, so a crash loses at most one line."""

    def __init__(self, path: str | Path, *, append: bool = True) -> None:
        self.path = Path(path)
        self._file: IO[str] = self.path.open("a" if append else "w", encoding="utf-8")

    def write(self, exchange: Exchange) -> None:
        self._file.write(to_line(exchange) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CassetteWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def write_cassette(path: str | Path, exchanges: Iterable[Exchange], *, append: bool = False) -> int:
    """Write exchanges (redacted) to ``path``; returns how many were written."""
    count = 0
    with CassetteWriter(path, append=append) as writer:
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
