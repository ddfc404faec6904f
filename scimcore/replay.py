"""Replay a cassette against a SCIM server and compare what it answers with what was recorded.

Requests go out in recorded order. The ids the recorded server assigned are mapped to the ids the
target assigns, learnt from each pair of responses, and rewritten wherever they appear: paths,
query values (filters such as ``members[value eq "…"]``), bodies and member references. Responses
are compared by status and shape (keys, JSON types, array lengths); ``values=True`` also compares
values, except ids, timestamps, versions and locations, which no two servers share.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus

import httpx

from scimcore.client import encode_json
from scimcore.fidelity import MISSING, TIMESTAMP, IdTable, json_type
from scimcore.wire import REDACTED, Exchange, resource_path

# Not replayed: set by the transport, or credentials (the target's token is sent instead).
_SKIPPED_HEADERS = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "upgrade", "accept-encoding"}
    | {"authorization", "proxy-authorization", "cookie"}
)
# Values no two servers share; their presence still counts as shape.
VOLATILE_KEYS = frozenset({"id", "created", "lastmodified", "version", "location", "$ref"})


class ReplayError(Exception):
    """The target could not be reached, so the replay stopped."""


@dataclass(frozen=True)
class Difference:
    where: str  # "status" or a body path such as "body.Resources[0].name"
    recorded: Any
    replayed: Any


@dataclass(frozen=True)
class ReplayedExchange:
    index: int  # 1-based position in the cassette
    method: str
    url: str  # as sent to the target, below its base URL
    recorded_status: int
    status: int | None  # None when not sent
    differences: tuple[Difference, ...] = ()
    note: str = ""


@dataclass
class ReplayReport:
    exchanges: list[ReplayedExchange] = field(default_factory=list)

    @property
    def differing(self) -> list[ReplayedExchange]:
        return [ex for ex in self.exchanges if ex.differences]

    @property
    def ok(self) -> bool:
        return not self.differing

    def render(self, *, verbose: bool = False) -> str:
        lines = []
        for ex in self.exchanges:
            if not (ex.differences or ex.note or verbose):
                continue
            verdict = "differs" if ex.differences else ex.note or "same"
            status = f"{ex.recorded_status} -> {ex.status}" if ex.status is not None else "not sent"
            lines.append(f"#{ex.index} {ex.method} {ex.url}: {status}, {verdict}")
            for diff in ex.differences:
                lines.append(f"    {diff.where}: recorded {_show(diff.recorded)}, replayed {_show(diff.replayed)}")
        skipped = sum(1 for ex in self.exchanges if ex.status is None)
        sent = len(self.exchanges) - skipped
        lines.append(
            f"replayed {sent} exchange(s): {sent - len(self.differing)} same, {len(self.differing)} different"
            + (f", {skipped} skipped" if skipped else "")
        )
        return "\n".join(lines)


def _show(value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 160 else text[:157] + "..."


class Replayer:
    """Sends recorded requests through ``http`` (a client whose base URL is the target's SCIM base)."""

    def __init__(self, http: httpx.Client, *, values: bool = False) -> None:
        self.http = http
        self.values = values
        self.ids = IdTable()

    def replay(self, exchanges: Iterable[Exchange]) -> ReplayReport:
        report = ReplayReport()
        for index, exchange in enumerate(exchanges, start=1):
            report.exchanges.append(self.replay_one(index, exchange))
        return report

    def replay_one(self, index: int, exchange: Exchange) -> ReplayedExchange:
        url = self.target_url(exchange.url)
        if exchange.status == 0:
            # The recording has no response, so nobody knows whether the server acted on it.
            return ReplayedExchange(index, exchange.method, url, 0, None, note=f"skipped: {exchange.error}")
        headers = [
            (name, value)
            for name, value in exchange.request_headers
            if name.lower() not in _SKIPPED_HEADERS and value != REDACTED
        ]
        body = self.ids.json(exchange.request_body)
        content = None if body is None else encode_json(body) if not isinstance(body, str) else body.encode()
        try:
            response = self.http.request(exchange.method, url, headers=headers, content=content)
        except httpx.TransportError as exc:
            raise ReplayError(f"#{index} {exchange.method} {url}: {exc or type(exc).__name__}") from None
        replayed = _decode(response)
        self.learn(exchange.response_body, replayed)
        differences = []
        if response.status_code != exchange.status:
            differences.append(Difference("status", exchange.status, response.status_code))
        differences.extend(self.compare(exchange.response_body, replayed, "body"))
        return ReplayedExchange(index, exchange.method, url, exchange.status, response.status_code, tuple(differences))

    def target_url(self, recorded: str) -> str:
        """The recorded path and query below the target's base URL, with recorded ids mapped."""
        raw_path, sep, query = recorded.partition("?")
        path = self.ids.text(resource_path(raw_path)).lstrip("/")
        return f"{path}?{self._query(query)}" if sep else path

    def _query(self, query: str) -> str:
        """Map ids inside each value; a value without a mapped id keeps its exact recorded encoding."""
        out = []
        for pair in query.split("&"):
            key, eq, raw = pair.partition("=")
            decoded = parse_qsl(pair, keep_blank_values=True)
            if not eq or not decoded:
                out.append(pair)
                continue
            value = decoded[0][1]
            mapped = self.ids.text(value)
            if mapped == value:
                out.append(pair)
            else:
                encode = quote_plus if "+" in raw else quote
                out.append(f"{key}={encode(mapped, safe='')}")
        return "&".join(out)

    def learn(self, recorded: Any, replayed: Any) -> None:
        """Pair the resources of two responses and map recorded ids to replayed ones."""
        for old, new in _paired_ids(recorded, replayed):
            if old != new:
                self.ids.add(old, new)

    def compare(self, recorded: Any, replayed: Any, where: str, key: str = "") -> Iterator[Difference]:
        if recorded == REDACTED:
            return  # the recording hides it; nothing to compare with
        if json_type(recorded) != json_type(replayed):
            yield Difference(where, recorded, replayed)
        elif isinstance(recorded, dict):
            for name in sorted(recorded.keys() | replayed.keys()):
                left, right = recorded.get(name, MISSING), replayed.get(name, MISSING)
                if left is MISSING or right is MISSING:
                    yield Difference(f"{where}.{name}", left, right)
                else:
                    yield from self.compare(left, right, f"{where}.{name}", name)
        elif isinstance(recorded, list):
            if len(recorded) != len(replayed):
                yield Difference(f"{where} length", len(recorded), len(replayed))
                return
            for position, (left, right) in enumerate(zip(recorded, replayed, strict=True)):
                yield from self.compare(left, right, f"{where}[{position}]", key)
        elif self.values and not self._volatile(key, recorded) and self.ids.json(recorded) != replayed:
            yield Difference(where, recorded, replayed)

    @staticmethod
    def _volatile(key: str, value: Any) -> bool:
        return key.lower() in VOLATILE_KEYS or (isinstance(value, str) and bool(TIMESTAMP.match(value)))


def _decode(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _key(resource: dict[str, Any]) -> str | None:
    """What identifies a resource across servers: userName (case-insensitive, RFC 7643 §4.1.1), else displayName."""
    for name in ("userName", "displayName", "externalId"):
        if isinstance(resource.get(name), str):
            return f"{name}:{resource[name].lower() if name == 'userName' else resource[name]}"
    return None


def _paired_ids(recorded: Any, replayed: Any) -> Iterator[tuple[str, str]]:
    if not (isinstance(recorded, dict) and isinstance(replayed, dict)):
        return
    if isinstance(recorded.get("id"), str) and isinstance(replayed.get("id"), str):
        yield recorded["id"], replayed["id"]
    old, new = recorded.get("Resources"), replayed.get("Resources")
    if isinstance(old, list) and isinstance(new, list):
        yield from _paired_resources(old, new)


def _paired_resources(old: Sequence[Any], new: Sequence[Any]) -> Iterator[tuple[str, str]]:
    """Pair list members by userName/displayName; by position when the two lists have no keys."""
    by_key = {_key(item): item for item in new if isinstance(item, dict) and _key(item)}
    for position, item in enumerate(old):
        if not isinstance(item, dict):
            continue
        key = _key(item)
        match = by_key.get(key) if key else (new[position] if position < len(new) and len(old) == len(new) else None)
        if isinstance(match, dict):
            yield from _paired_ids(item, match)
