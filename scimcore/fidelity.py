"""Fidelity diff: do two cassettes show the same IdP traffic?

Each request is normalised to what an IdP chooses: method, path below the SCIM base, decoded query,
header set, and body, with the values no two runs share replaced by placeholders: server-assigned
ids (numbered in order of first appearance, so a request aimed at the wrong resource still shows),
random GUIDs, timestamps and passwords (Okta sends a random one, docs/okta-idp.md §12). The two
sequences are aligned like lines of text and every difference is reported per request and field.
Responses are the server's business and are not compared.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from scimcore.wire import REDACTED, Exchange

ID = "<id{}>"
GUID_MARK, TIMESTAMP_MARK, PASSWORD_MARK, IGNORED_MARK = "<guid>", "<timestamp>", "<password>", "<ignored>"
GUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
# Set by the transport, the HTTP library or a proxy on the way, not chosen by the IdP. Accept-Encoding
# depends on which compression packages are installed (httpx adds br and zstd only with brotli and zstandard).
TRANSPORT_HEADERS = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "upgrade", "accept-encoding"}
    | {"via", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip", "date"}
)
_TOKEN = re.compile(r"[\w.:-]+")
_ASSIGNED_IDS = frozenset({"Users", "Groups"})  # /Schemas and /ResourceTypes ids are names, not assigned


class IdTable:
    """A mapping applied to whole id tokens in strings: ``members[value eq "7"]`` maps, ``17`` and ``7.1`` do not."""

    def __init__(self) -> None:
        self.mapping: dict[str, str] = {}
        self._odd: re.Pattern[str] | None = None  # ids with characters outside a token, matched as alternatives

    def add(self, old: str, new: str) -> None:
        if old and self.mapping.get(old) != new:
            self.mapping[old] = new
            if not _TOKEN.fullmatch(old):
                odd = sorted((key for key in self.mapping if not _TOKEN.fullmatch(key)), key=len, reverse=True)
                self._odd = re.compile("|".join(map(re.escape, odd)))

    def __contains__(self, value: object) -> bool:
        return value in self.mapping

    def text(self, value: str) -> str:
        if not self.mapping:
            return value
        # an id is a whole token: "1" stays in "1.0.0" and "2.0:PatchOp", so short numeric ids are safe
        value = _TOKEN.sub(lambda match: self.mapping.get(match.group(0), match.group(0)), value)
        if self._odd is not None:
            value = self._odd.sub(lambda match: self.mapping[match.group(0)], value)
        return value

    def json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, dict):
            return {key: self.json(item) for key, item in value.items()}
        return value


def resource_ids(body: Any) -> Iterator[str]:
    """Every ``id`` of a resource in a response body (a resource, a ListResponse, a Bulk response)."""
    if isinstance(body, list):
        for item in body:
            yield from resource_ids(item)
    elif isinstance(body, dict):
        if isinstance(body.get("id"), str):
            yield body["id"]
        for key, value in body.items():
            if key != "id" and isinstance(value, (dict, list)) and key not in ("members", "groups", "manager"):
                yield from resource_ids(value)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


@dataclass(frozen=True)
class Request:
    """One IdP request, normalised for comparison."""

    index: int  # 1-based position in its cassette
    method: str
    template: str  # path below the SCIM base with ids as {id}: what aligns two runs
    path: str  # the same with numbered id placeholders: what shows a request aimed at another resource
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: Any

    @property
    def signature(self) -> str:
        query = "&".join(f"{key}={value}" for key, value in self.query)
        return f"{self.method} {self.template}" + (f"?{query}" if query else "")


class Normaliser:
    """Turns the exchanges of one cassette into Requests; server ids are learnt from the responses as they come."""

    def __init__(self, ignore: Iterable[str] = ()) -> None:
        self.ignore = frozenset(name.lower() for name in ignore)
        self.ids = IdTable()

    def _name(self, server_id: str) -> str:
        if server_id not in self.ids:
            self.ids.add(server_id, ID.format(len(self.ids.mapping) + 1))
        return self.ids.mapping[server_id]

    def request(self, index: int, exchange: Exchange) -> Request:
        segments = unquote(exchange.resource_path).split("/")  # ["", "Users", id, ...]
        if len(segments) > 2 and segments[1] in _ASSIGNED_IDS and segments[2] and segments[2] != ".search":
            self._name(segments[2])  # also an id the recording never saw assigned (pre-existing data)
        path = self.value("/".join(segments))
        template = re.sub(r"<id\d+>", "{id}", path)
        query = tuple((key, self._query_value(key, value)) for key, value in exchange.query)
        headers = tuple(sorted(self._headers(exchange.request_headers)))
        normalised = Request(index, exchange.method.upper(), template, path, query, headers, self.body(exchange))
        self.learn(exchange)
        return normalised

    def learn(self, exchange: Exchange) -> None:
        for server_id in resource_ids(exchange.response_body):
            self._name(server_id)
        location = exchange.response_header("Location")
        if location:
            self._name(location.rstrip("/").rsplit("/", 1)[-1])

    def value(self, text: str) -> str:
        text = self.ids.text(text)
        if TIMESTAMP.match(text):
            return TIMESTAMP_MARK
        return GUID.sub(GUID_MARK, text)

    def _query_value(self, key: str, value: str) -> str:
        return IGNORED_MARK if key.lower() in self.ignore else self.value(value)

    def _headers(self, headers: Sequence[tuple[str, str]]) -> Iterator[tuple[str, str]]:
        for name, value in headers:
            folded = name.lower()
            if folded in TRANSPORT_HEADERS:
                continue
            if folded in self.ignore:
                yield folded, IGNORED_MARK
            elif folded.endswith("authorization"):
                yield folded, value.split(" ", 1)[0] if " " in value else REDACTED  # the scheme word is the dialect
            else:
                yield folded, self.value(value)

    def body(self, exchange: Exchange) -> Any:
        return self._json(exchange.request_body)

    def _json(self, value: Any, key: str = "") -> Any:
        if key.lower() in self.ignore:
            return IGNORED_MARK
        if key.lower() == "password" and isinstance(value, str):
            return PASSWORD_MARK
        if isinstance(value, str):
            return self.value(value)
        if isinstance(value, list):
            return [self._json(item) for item in value]
        if isinstance(value, dict):
            # a PATCH operation on the password carries it in "value" (docs/okta-idp.md §6)
            sets_password = str(value.get("path", "")).lower() == "password"
            return {
                name: PASSWORD_MARK if sets_password and name == "value" else self._json(item, name)
                for name, item in value.items()
            }
        return value


def normalise(exchanges: Iterable[Exchange], ignore: Iterable[str] = ()) -> list[Request]:
    normaliser = Normaliser(ignore)
    return [normaliser.request(index, exchange) for index, exchange in enumerate(exchanges, start=1)]


@dataclass(frozen=True)
class FieldDifference:
    where: str  # "method", "path", "query", "header content-type", "body.name.givenName"
    a: Any
    b: Any


@dataclass(frozen=True)
class Row:
    """One line of the aligned diff: a request of A, of B, or both."""

    kind: str  # "same", "changed", "only-a", "only-b"
    a: Request | None
    b: Request | None
    fields: tuple[FieldDifference, ...] = ()


MISSING = object()


def compare_requests(a: Request, b: Request) -> list[FieldDifference]:
    out = [FieldDifference(name, getattr(a, name), getattr(b, name)) for name in ("method", "path", "query")]
    out = [diff for diff in out if diff.a != diff.b]
    a_headers, b_headers = _grouped(a.headers), _grouped(b.headers)
    for name in sorted(a_headers.keys() | b_headers.keys()):
        if a_headers.get(name) != b_headers.get(name):
            out.append(FieldDifference(f"header {name}", _one(a_headers.get(name)), _one(b_headers.get(name))))
    out.extend(json_differences(a.body, b.body, "body"))
    return out


def _grouped(headers: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        grouped.setdefault(name, []).append(value)
    return grouped


def _one(values: list[str] | None) -> Any:
    if values is None:
        return MISSING
    return values[0] if len(values) == 1 else values


def json_differences(a: Any, b: Any, where: str) -> Iterator[FieldDifference]:
    """Differences between two JSON values; objects compare without regard to key order, arrays in order."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(a.keys() | b.keys()):
            yield from json_differences(a.get(key, MISSING), b.get(key, MISSING), f"{where}.{key}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for position, (left, right) in enumerate(zip(a, b, strict=True)):
            yield from json_differences(left, right, f"{where}[{position}]")
    elif json_type(a) != json_type(b) or a != b:
        yield FieldDifference(where, a, b)


@dataclass
class FidelityDiff:
    rows: list[Row] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return all(row.kind == "same" for row in self.rows)

    def counts(self) -> Mapping[str, int]:
        kinds = ("same", "changed", "only-a", "only-b")
        return {kind: sum(1 for row in self.rows if row.kind == kind) for kind in kinds}

    def render(self, a_name: str = "A", b_name: str = "B", *, context: bool = True) -> str:
        """The aligned diff: ``=`` same, ``~`` changed (with its fields), ``-`` only in A, ``+`` only in B."""
        mark = {"same": " ", "changed": "~", "only-a": "-", "only-b": "+"}
        lines = [f"--- {a_name}", f"+++ {b_name}"]
        for row in self.rows:
            if row.kind == "same" and not context:
                continue
            left = f"#{row.a.index}" if row.a else ""
            right = f"#{row.b.index}" if row.b else ""
            shown = row.a or row.b
            assert shown is not None
            lines.append(f"{mark[row.kind]} {left:>5} {right:>5}  {shown.signature}")
            for diff in row.fields:
                lines.append(f"{'':15}{diff.where}: {_show(diff.a)} | {_show(diff.b)}")
        counts = self.counts()
        lines.append(
            f"{counts['same']} same, {counts['changed']} changed, "
            f"{counts['only-a']} only in {a_name}, {counts['only-b']} only in {b_name}"
        )
        return "\n".join(lines)


def _show(value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 200 else text[:197] + "..."


def diff_requests(a: Sequence[Request], b: Sequence[Request]) -> FidelityDiff:
    """Align two request sequences by signature (method, path template, query) and compare each pair."""
    matcher = difflib.SequenceMatcher(None, [r.signature for r in a], [r.signature for r in b], autojunk=False)
    result = FidelityDiff()
    for tag, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        pairs = min(a_end - a_start, b_end - b_start) if tag in ("equal", "replace") else 0
        for offset in range(pairs):
            left, right = a[a_start + offset], b[b_start + offset]
            fields = tuple(compare_requests(left, right))
            result.rows.append(Row("changed" if fields else "same", left, right, fields))
        result.rows.extend(Row("only-a", request, None) for request in a[a_start + pairs : a_end])
        result.rows.extend(Row("only-b", None, request) for request in b[b_start + pairs : b_end])
    return result


def diff_cassettes(a: Iterable[Exchange], b: Iterable[Exchange], ignore: Iterable[str] = ()) -> FidelityDiff:
    """Compare two cassettes as IdP traffic; ``ignore`` names fields, headers or query parameters to skip."""
    names = tuple(ignore)
    return diff_requests(normalise(a, names), normalise(b, names))
