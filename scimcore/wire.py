"""One HTTP exchange on the wire, and the cassette format that stores exchanges as JSON lines.

Pure standard library: the mitmproxy recorder writes cassettes from its own environment, and
replay, fidelity diffs and evidence read them back through this module. The format is described
in docs/cassette.md. Secrets are redacted by :func:`to_line`, so nothing unredacted is ever written.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import parse_qsl, quote, unquote_plus, urlsplit

CASSETTE_VERSION = 1
REDACTED = "[REDACTED]"

# Headers whose whole value is a secret; Authorization keeps its scheme word (see redact_headers).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
# Names whose values are secrets wherever they appear: a JSON member (bare or URN-qualified, any case, at any
# depth), a PATCH path, a form field or a query parameter. ``password`` is the one SCIM defines (RFC 7643 §4.1.1);
# the others are what OAuth 2.0 token requests and responses carry (RFC 6749 §2.3.1, §4.4, §5.1, §6; RFC 7523
# §2.1-2.2; RFC 6750 §2.3; OpenID Connect Core §3.1.3.3) and what API clients commonly name their keys.
SECRET_NAMES = frozenset(
    {
        "password",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "assertion",
        "client_assertion",
    }
)
SECRET_KEYS = SECRET_NAMES  # the former name
# Authentication schemes whose word is kept in a redacted Authorization header (IANA "HTTP Authentication
# Scheme Registry", plus NTLM, AWS's and Okta's SSWS); any other first word may be the credential itself.
AUTH_SCHEMES = frozenset(
    {
        "basic",
        "bearer",
        "concealed",
        "digest",
        "dpop",
        "gnap",
        "hoba",
        "mutual",
        "negotiate",
        "oauth",
        "privatetoken",
        "scram-sha-1",
        "scram-sha-256",
        "vapid",
        "ntlm",
        "aws4-hmac-sha256",
        "ssws",
    }
)
# Headers whose value is a URL: its query and fragment are redacted as a request URL's.
_URL_HEADERS = frozenset({"location", "content-location", "referer"})
_QUOTED_REDACTED = json.dumps(REDACTED)
# JSON members holding a filter or a PATCH path, whose literals are hidden when they compare a secret.
_FILTER_MEMBERS = frozenset({"filter", "path"})

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
    # How a JSON body was encoded when not as plain UTF-8: "UTF-8 BOM", "UTF-16LE", "UTF-32BE BOM", ...
    request_encoding: str = ""
    response_encoding: str = ""

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
    return decode_body_encoded(content)[0]


_BOMS = (
    (codecs.BOM_UTF32_BE, "UTF-32BE"),
    (codecs.BOM_UTF32_LE, "UTF-32LE"),
    (codecs.BOM_UTF16_BE, "UTF-16BE"),
    (codecs.BOM_UTF16_LE, "UTF-16LE"),
    (codecs.BOM_UTF8, "UTF-8"),
)
_CODECS = {
    "utf-8": "UTF-8",
    "utf-16-be": "UTF-16BE",
    "utf-16-le": "UTF-16LE",
    "utf-32-be": "UTF-32BE",
    "utf-32-le": "UTF-32LE",
}


def body_encoding(content: bytes) -> tuple[str, str]:
    """The Python codec that decodes ``content`` and its charset name as stored, "" for plain UTF-8.

    The detection is JSON's own (RFC 8259 §8.1, RFC 7159 §8.1 and RFC 4627 §3: a byte order mark, else the
    pattern of zero bytes in the first four), the one ``json.loads`` applies to bytes, as the server does.
    The name is the IANA charset name, followed by `` BOM`` when a byte order mark led the body.
    """
    codec = json.detect_encoding(content)
    for bom, name in _BOMS:
        if content.startswith(bom) and codec in ("utf-32", "utf-16", "utf-8-sig"):
            return codec, f"{name} BOM"
    name = _CODECS.get(codec, "UTF-8")
    return codec, "" if name == "UTF-8" else name


def decode_body_encoded(content: bytes) -> tuple[Any, str]:
    """A body as stored in an Exchange, and its encoding when that was not plain UTF-8 (see body_encoding).

    JSON is parsed exactly as the server parses it (``json.loads`` on the bytes, so a BOM, UTF-16 or UTF-32
    body is read as JSON and redacted as such). Anything else is kept as text, decoded in the detected
    encoding with undecodable bytes replaced.
    """
    if not content:
        return None, ""
    codec, name = body_encoding(content)
    try:
        return json.loads(content), name
    except (ValueError, RecursionError):
        pass
    text = content.decode(codec, errors="replace").removeprefix("\ufeff")
    try:
        return json.loads(text), name
    except (ValueError, RecursionError):
        return text, name


def _fold(name: str) -> str:
    """An attribute, parameter or header name as compared: case-insensitively (RFC 7643 §2.1, RFC 9110 §5.1).

    The server compares names with ``str.lower``; casefolding that as well matches at least what it matches.
    """
    return name.strip().lower().casefold()


def _folded(names: Names) -> frozenset[str]:
    return frozenset(_fold(name) for name in names)


# A value filter in a path or parameter name (``emails[type eq "work"]``); quoted strings may hold ``]``.
_VALUE_FILTER = re.compile(r'\[(?:[^\]"]|"(?:[^"\\]|\\.)*"?)*\]?')


def attribute_names(text: str) -> frozenset[str]:
    """The folded attribute names a JSON member name, PATCH path or parameter name refers to.

    Mirrors how the server resolves them (RFC 7644 §3.5.2, §3.10): surrounding spaces are ignored, a schema
    URN prefix is dropped (an attribute name holds no colon, RFC 7643 §2.1, so the name is what follows the
    last one), value filters are skipped, and each part of ``attr.subAttr`` counts:
    ``urn:…:User:emails[type eq "work"].value`` -> {``emails``, ``value``}.
    """
    text = _VALUE_FILTER.sub("", text).strip()
    if text.lower().startswith("urn:"):
        text = text.rsplit(":", 1)[-1]
    return frozenset(_fold(part) for part in text.split("."))


def is_secret_name(text: str, names: Names = ()) -> bool:
    """Whether a JSON member, PATCH path, form field or query parameter named ``text`` holds a secret."""
    return not attribute_names(text).isdisjoint(SECRET_NAMES | _folded(names))


def _secret(text: str, secret: frozenset[str]) -> bool:
    return not attribute_names(text).isdisjoint(secret)


def redact_headers(headers: Headers, names: Names = ()) -> Headers:
    """Hide credentials, cookies and the headers in ``names``; an Authorization scheme word is kept.

    Header names compare case-insensitively (RFC 9110 §5.1). A URL in Location, Content-Location or Referer
    has its query redacted as the request's is.
    """
    folded = _folded(names)
    secret = SECRET_HEADERS | SECRET_NAMES | folded
    out: list[tuple[str, str]] = []
    for name, value in headers:
        key = _fold(name)
        if key in _URL_HEADERS:
            out.append((name, redact_url(value, folded)))
        elif key not in secret:
            out.append((name, value))
        elif key.endswith("authorization"):
            out.append((name, _credentials(value)))
        else:
            out.append((name, REDACTED))
    return tuple(out)


def _credentials(value: str) -> str:
    """``Bearer [REDACTED]``: the scheme word stays when it is an authentication scheme, else all is hidden."""
    scheme, _, rest = value.strip().partition(" ")
    if rest.strip() and _fold(scheme) in AUTH_SCHEMES:
        return f"{scheme} {REDACTED}"
    return REDACTED


def redact_body(body: Any, names: Names = ()) -> Any:
    """A body with every secret hidden (see docs/cassette.md, "Redaction").

    JSON: every member whose name refers to a secret attribute (:func:`attribute_names`, any case, bare
    or URN-qualified, at any depth), the ``value`` of every PATCH operation whose ``path`` refers to one,
    and the literals of a ``filter`` or ``path`` that compares one. Text: form fields named after a
    secret (``application/x-www-form-urlencoded``, as OAuth token requests send them); text that looks like
    JSON but does not parse is hidden whole if it mentions a secret name.
    """
    secret = SECRET_NAMES | _folded(names)
    try:
        if isinstance(body, str):
            return _redact_text(body, secret)
        return _redact_json(body, secret)
    except RecursionError:  # nested deeper than can be walked: hide it rather than risk a leak
        return REDACTED


def _redact_json(body: Any, secret: frozenset[str]) -> Any:
    if isinstance(body, list):
        return [_redact_json(item, secret) for item in body]
    if not isinstance(body, dict):
        return body
    keys = {key: _fold(key) if isinstance(key, str) else "" for key in body}
    # An operation's members match case-insensitively (RFC 7644 §3.5.2: "Op", "Path", "Value" are read too);
    # if any spelling of its path names a secret, every spelling of its value is hidden.
    patches_secret = any(
        folded == "path" and isinstance(body[key], str) and _secret(body[key], secret) for key, folded in keys.items()
    )
    out: dict[Any, Any] = {}
    for key, value in body.items():
        folded = keys[key]
        if value is None:
            out[key] = None
        elif (isinstance(key, str) and _secret(key, secret)) or (patches_secret and folded == "value"):
            out[key] = REDACTED
        elif folded in _FILTER_MEMBERS and isinstance(value, str):
            out[key] = _redact_filter(value, secret)
        else:
            out[key] = _redact_json(value, secret)
    return out


# A string literal of a SCIM filter (RFC 7644 §3.4.2.2: JSON strings), an unterminated one included.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?')
# A number literal standing alone (not the "2.0" inside a schema URN).
_NUMBER = re.compile(r"(?<![\w.:$-])-?\d[\w.+-]*")
_WORD = re.compile(r'[^\s()\[\]"]+')


def _redact_filter(text: str, secret: frozenset[str]) -> str:
    """A filter or PATCH path that names a secret attribute, with every literal value hidden."""
    words = _WORD.findall(_STRING.sub(" ", text))
    if not any(_secret(word, secret) for word in words):
        return text
    hidden = _STRING.sub(_QUOTED_REDACTED, text)
    return _NUMBER.sub(_QUOTED_REDACTED, hidden)


def _redact_text(text: str, secret: frozenset[str]) -> str:
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in ("{", "[") and any(name in _fold(text) for name in secret):
        return REDACTED  # meant as JSON, not parseable: no telling where the secret's value ends
    return _redact_pairs(text, secret) if "=" in text else text


def _redact_pairs(query: str, secret: frozenset[str]) -> str:
    """``a=1&password=x`` with the values of secret names hidden and a filter's literals hidden.

    Names are percent-decoded and matched as attribute names; every other pair is kept byte for byte.
    """
    return "&".join(_redact_pair(pair, secret) for pair in query.split("&"))


def _redact_pair(pair: str, secret: frozenset[str]) -> str:
    key, eq, value = pair.partition("=")
    if not eq:
        return pair
    decoded = parse_qsl(key + "=", keep_blank_values=True)
    name = decoded[0][0] if decoded else key
    if _secret(name, secret):
        return f"{key}={quote(REDACTED, safe='')}"
    if _fold(name) == "filter":
        text = unquote_plus(value)
        redacted = _redact_filter(text, secret)
        if redacted != text:
            return f"{key}={quote(redacted, safe='')}"
    return pair


def redact_url(url: str, names: Names = ()) -> str:
    """Hide the values of secret query parameters (and those in ``names``); everything else is kept byte for byte."""
    path, sep, query = url.partition("?")
    if not sep:
        path, sep, query = url.partition("#")
        return f"{path}#{_redact_pairs(query, SECRET_NAMES | _folded(names))}" if sep else url
    secret = SECRET_NAMES | _folded(names)
    query, hash_sep, fragment = query.partition("#")  # a fragment can carry tokens too (RFC 6749 §4.2.2)
    return f"{path}?{_redact_pairs(query, secret)}{hash_sep}{_redact_pairs(fragment, secret)}"


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
    if ex.request_encoding:
        record["request"]["encoding"] = ex.request_encoding
    if ex.response_encoding:
        record["response"]["encoding"] = ex.response_encoding
    if ex.error:
        record["error"] = ex.error
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    if _SURROGATE.search(line):  # a lone surrogate (a "\ud800" escape) cannot be written as UTF-8: escape it
        line = json.dumps(record, separators=(",", ":"))
    return line


_SURROGATE = re.compile("[\ud800-\udfff]")


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
            request_encoding=str(request.get("encoding", "")),
            response_encoding=str(response.get("encoding", "")),
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
