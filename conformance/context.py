"""What a check gets: a wiretapped client of the target, a run-id prefix for its data, expectations, cleanup."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.model import CheckFailed, CheckSkipped
from scimcore import urns
from scimcore.client import EventHooks, ScimClient, Wiretap
from scimcore.target import Target

JSON_TYPES = (urns.MEDIA_TYPE, "application/json")
SPC_FEATURES = ("patch", "bulk", "filter", "changePassword", "sort", "etag")
NAME_DIGITS = 5  # names numbered up to 99,999 per run, all the same length


@dataclass(frozen=True)
class Capabilities:
    """What ``/ServiceProviderConfig`` advertises (RFC 7643 §5); all False when it could not be read."""

    document: Mapping[str, Any] = field(default_factory=dict)

    def supported(self, feature: str) -> bool:
        """``feature.supported`` is true; ``cursor`` reads ``pagination.cursor`` (RFC 9865 §4)."""
        if feature == "cursor":
            pagination = self.document.get("pagination")
            return isinstance(pagination, Mapping) and pagination.get("cursor") is True
        entry = self.document.get(feature)
        return isinstance(entry, Mapping) and entry.get("supported") is True

    def setting(self, feature: str, name: str) -> Any:
        entry = self.document.get(feature)
        return entry.get(name) if isinstance(entry, Mapping) else None


@dataclass(frozen=True)
class Endpoint:
    """The service provider under test and the one auth every client of a run shares (an OAuth token is
    fetched once, not per client)."""

    target: Target
    auth: httpx.Auth | None

    @classmethod
    def of(cls, target: Target) -> Endpoint:
        return cls(target, target.auth())

    @property
    def timeout(self) -> float:
        return self.target.timeout

    def client(
        self, *, hooks: EventHooks | None = None, headers: Sequence[tuple[str, str]] | None = None
    ) -> httpx.Client:
        return self.target.http(self.auth, hooks=hooks, headers=headers)


def describe(response: httpx.Response) -> str:
    """``401 application/scim+json {"detail": ...}``: a short line for failure messages."""
    body = response.text.strip().replace("\n", " ")
    if len(body) > 200:
        body = body[:197] + "..."
    ctype = response.headers.get("content-type", "-")
    return f"{response.status_code} {ctype} {body}".rstrip()


class CheckContext:
    """Per-check helpers. Every resource a check creates is named with the run prefix and removed afterwards."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        run_id: str,
        capabilities: Capabilities,
        wiretap: Wiretap,
        http: httpx.Client,
        names: Iterator[int] | None = None,
    ) -> None:
        """``names`` numbers the names of one run across its checks, so data kept by ``--keep`` never collides."""
        self.endpoint = endpoint
        self.run_id = run_id
        self.capabilities = capabilities
        self.wiretap = wiretap
        self.http = http
        self.scim = ScimClient(http)
        self.notes: list[str] = []
        self._cleanup: list[str] = []
        self._counter = names if names is not None else itertools.count(1)
        self._clients: list[httpx.Client] = []

    # -- data ---------------------------------------------------------------------------------------------------

    def name(self, stem: str = "u") -> str:
        """A fresh name carrying the run prefix (so a final sweep can find what a failed cleanup left).

        The number has a fixed width, so no name is a prefix of another: checks select their own data with
        ``sw "<name>"``, and with checks running in parallel ``...-f3`` must not also match ``...-f31``."""
        return f"{self.run_id}-{stem}{next(self._counter):0{NAME_DIGITS}d}"

    def user_body(self, user_name: str | None = None, **extra: Any) -> dict[str, Any]:
        """A complete, valid User: the attributes IdPs send on create."""
        user_name = user_name or self.name("u") + "@example.com"
        body: dict[str, Any] = {
            "schemas": [urns.USER],
            "userName": user_name,
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "displayName": "Ada Lovelace",
            "emails": [{"value": user_name, "type": "work", "primary": True}],
            "active": True,
        }
        body.update(extra)
        return body

    def create(self, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST a prerequisite resource; a refusal skips the check (the create checks judge creation itself)."""
        response = self.scim.post(endpoint, dict(body))
        if response.status_code != 201:
            raise CheckSkipped(f"prerequisite POST {endpoint} answered {describe(response)}")
        doc = self.json(response)
        rid = doc.get("id") if isinstance(doc, dict) else None
        if not isinstance(doc, dict) or not isinstance(rid, str) or not rid:
            raise CheckSkipped(f"prerequisite POST {endpoint} returned no id")
        self.track(f"{endpoint}/{rid}")
        return doc

    def create_user(self, user_name: str | None = None, **extra: Any) -> dict[str, Any]:
        return self.create("/Users", self.user_body(user_name, **extra))

    def create_group(self, display_name: str | None = None, members: Sequence[str] = ()) -> dict[str, Any]:
        body: dict[str, Any] = {"schemas": [urns.GROUP], "displayName": display_name or self.name("g")}
        if members:
            body["members"] = [{"value": rid} for rid in members]
        return self.create("/Groups", body)

    def track(self, path: str) -> None:
        """Delete ``path`` when the check ends (groups before the users they hold: reverse creation order)."""
        if path not in self._cleanup:
            self._cleanup.append(path)

    def forget(self, path: str) -> None:
        """The check deleted ``path`` itself."""
        if path in self._cleanup:
            self._cleanup.remove(path)

    def cleanup_paths(self) -> list[str]:
        return list(reversed(self._cleanup))

    def client(self, *, headers: Sequence[tuple[str, str]] | None = None, hooks: Any = None) -> httpx.Client:
        """Another client of the target (its own header set), wiretapped like the check's own."""
        merged: dict[str, list[Callable[..., Any]]] = {name: list(fns) for name, fns in self.wiretap.hooks.items()}
        for name, fns in (hooks or {}).items():
            merged.setdefault(name, []).extend(fns)
        http = self.endpoint.client(hooks=merged, headers=headers)
        self._clients.append(http)
        return http

    def close(self) -> None:
        for http in self._clients:
            http.close()
        self._clients.clear()

    def raw(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> httpx.Response:
        """A request exactly as given: malformed bodies, other media types, no credentials."""
        sent = {"Accept": urns.MEDIA_TYPE, **(headers or {})}
        if authenticated:
            return self.http.request(method, path, content=content, headers=sent)
        return self.http.request(method, path, content=content, headers=sent, auth=None)

    # -- expectations -------------------------------------------------------------------------------------------

    def expect(self, condition: object, reason: str, *, expected: str = "", actual: str = "") -> None:
        if not condition:
            raise CheckFailed(reason, expected=expected, actual=actual)

    def fail(self, reason: str, *, expected: str = "", actual: str = "") -> None:
        raise CheckFailed(reason, expected=expected, actual=actual)

    def skip(self, reason: str) -> None:
        raise CheckSkipped(reason)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def expect_status(self, response: httpx.Response, *codes: int, what: str = "") -> None:
        if response.status_code not in codes:
            request = response.request
            label = what or f"{request.method} {request.url.path}"
            wanted = " or ".join(str(code) for code in codes)
            raise CheckFailed(f"{label} answered {response.status_code}", expected=wanted, actual=describe(response))

    def json(self, response: httpx.Response) -> Any:
        """The body as JSON; a body that is not JSON fails the check (RFC 7644 §3.1: JSON bodies)."""
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError):
            raise CheckFailed(
                "the response body is not JSON", expected="a JSON body", actual=describe(response)
            ) from None

    def obj(self, response: httpx.Response, *, status: int | Iterable[int] = 200) -> dict[str, Any]:
        """Expect the status, then a JSON object body."""
        codes = (status,) if isinstance(status, int) else tuple(status)
        self.expect_status(response, *codes)
        doc = self.json(response)
        if not isinstance(doc, dict):
            raise CheckFailed("the response body is not a JSON object", expected="an object", actual=describe(response))
        return doc

    def expect_error(self, response: httpx.Response, status: int, scim_type: str | None = None) -> dict[str, Any]:
        """RFC 7644 §3.12: the status, and an Error body whose ``status`` repeats it as a string."""
        self.expect_status(response, status)
        doc = self.json(response) if response.content else None
        self.expect(
            isinstance(doc, dict) and urns.ERROR in (doc.get("schemas") or []),
            f"the {status} response carries no SCIM Error body",
            expected=f'{{"schemas": ["{urns.ERROR}"], "status": "{status}", ...}}',
            actual=describe(response),
        )
        assert isinstance(doc, dict)
        self.expect(
            str(doc.get("status")) == str(status),
            "the Error body's status does not match the HTTP status",
            expected=f'"status": "{status}"',
            actual=f'"status": {json.dumps(doc.get("status"))}',
        )
        if scim_type is not None:
            self.expect(
                doc.get("scimType") == scim_type,
                f"the {status} Error has the wrong scimType",
                expected=f'"scimType": "{scim_type}"',
                actual=f'"scimType": {json.dumps(doc.get("scimType"))}',
            )
        return doc

    def list_response(self, response: httpx.Response) -> dict[str, Any]:
        """RFC 7644 §3.4.2: 200 and a ListResponse with an integer totalResults and a Resources array."""
        doc = self.obj(response)
        self.expect(
            urns.LIST_RESPONSE in (doc.get("schemas") or []),
            "the list response does not name the ListResponse schema",
            expected=urns.LIST_RESPONSE,
            actual=json.dumps(doc.get("schemas")),
        )
        total = doc.get("totalResults")
        self.expect(
            isinstance(total, int) and not isinstance(total, bool),
            "totalResults is missing or not an integer",
            expected="an integer totalResults",
            actual=json.dumps(total),
        )
        resources = doc.get("Resources", [])
        self.expect(
            isinstance(resources, list),
            "Resources is not an array",
            expected="an array",
            actual=type(resources).__name__,
        )
        return doc

    def ids(self, doc: Mapping[str, Any]) -> list[str]:
        return [str(item.get("id")) for item in doc.get("Resources") or [] if isinstance(item, dict)]

    def search(self, endpoint: str, flt: str, **params: str | int) -> dict[str, Any]:
        query: list[tuple[str, str | int]] = [("filter", flt), *params.items()]
        return self.list_response(self.scim.get(endpoint, query))

    def fetch(self, path: str) -> dict[str, Any]:
        return self.obj(self.scim.get(path))
