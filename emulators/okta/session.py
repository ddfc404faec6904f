"""The SCIM calls Okta makes, with its headers, encodings, 429 handling and error rules.

Every request goes through ``OktaSession.call``: the profile's exact header set, ``%20`` filters,
the 429 algorithm through the injected clock (docs/okta-idp.md §8), and any other non-2xx answer
turned into a ``ScimCallError`` that fails the task. So is a 200 Okta cannot use (the profile's answer
rules): a list without the ListResponse schema or with paging fields that are not integers (§3), a user
whose ``active`` is not a boolean (§9). The media type is not checked: Okta parses any JSON (§8).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx

from emulators.core.clock import Clock
from emulators.core.retry import send_with_rate_limit
from emulators.okta.profile import OktaProfile
from scimcore import urns
from scimcore.client import ScimClient, eq_filter, response_json

Query = Sequence[tuple[str, str | int]]


class ScimCallError(Exception):
    """A SCIM call answered with an error status; the message carries the server's ``detail``."""

    def __init__(self, method: str, url: str, status: int, detail: str) -> None:
        super().__init__(f"{method} {url} answered {status}" + (f": {detail}" if detail else ""))
        self.status = status
        self.detail = detail

    @classmethod
    def from_response(cls, response: httpx.Response) -> ScimCallError:
        detail = ""
        body = response_json(response)  # Okta parses any JSON whatever the media type (docs/okta-idp.md §8)
        if isinstance(body, dict):
            detail = str(body.get("detail") or body.get("Detail") or "")
        elif response.text:
            detail = response.text[:200]
        request = response.request
        return cls(request.method, request.url.raw_path.decode("ascii"), response.status_code, detail)


def _field(doc: dict[str, Any], name: str) -> Any:
    """A ListResponse field; Okta also accepts lowercase spellings (docs/okta-idp.md §3)."""
    return doc[name] if name in doc else doc.get(name.lower())


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class OktaSession:
    def __init__(
        self,
        http: httpx.Client,
        profile: OktaProfile,
        clock: Clock,
        on_wait: Callable[[float, int], None] | None = None,
    ) -> None:
        self.profile = profile
        self.clock = clock
        self.on_wait = on_wait
        self.scim = ScimClient(
            http, headers=profile.headers, body_headers=profile.body_headers, space=profile.query_space
        )

    def call(self, method: str, path: str, *, query: Query = (), body: Any = None, absent_ok: bool = False) -> Any:
        """Send one request; the JSON answer (None when empty, or on 404 when ``absent_ok``)."""
        response = send_with_rate_limit(
            lambda: self.scim.request(method, path, query=query, body=body),
            self.profile.rate_limit,
            self.clock,
            self.on_wait,
        )
        if absent_ok and response.status_code == 404:
            return None
        if not response.is_success:
            raise ScimCallError.from_response(response)
        answer = response_json(response)
        if method == "GET" and path.startswith("/Users/") and isinstance(answer, dict):
            self.check_user(path, answer)
        return answer

    def check_user(self, where: str, doc: dict[str, Any]) -> None:
        """A user Okta reads has a boolean ``active`` (docs/okta-idp.md §9 (documented))."""
        if self.profile.boolean_active and "active" in doc and not isinstance(doc["active"], bool):
            raise ScimCallError("GET", where, 200, f"active is {doc['active']!r}, not a JSON boolean")

    def list_response(self, endpoint: str, answer: Any) -> dict[str, Any]:
        """``answer`` read as a ListResponse (docs/okta-idp.md §3); one Okta cannot read fails the task."""
        if not isinstance(answer, dict):
            raise ScimCallError("GET", endpoint, 200, "the answer is not a ListResponse")
        if self.profile.list_schema_required and urns.LIST_RESPONSE not in (answer.get("schemas") or ()):
            raise ScimCallError("GET", endpoint, 200, f"schemas does not list {urns.LIST_RESPONSE}")
        for key in ("totalResults", "startIndex", "itemsPerPage") if self.profile.integer_list_counts else ():
            value = _field(answer, key)
            if value is not None and not _is_integer(value):
                raise ScimCallError("GET", endpoint, 200, f"{key} is {value!r}, not a JSON integer")
        for item in _field(answer, "Resources") or () if endpoint == "/Users" else ():
            if isinstance(item, dict):
                self.check_user(endpoint, item)
        return answer

    def find(self, endpoint: str, attribute: str, value: str) -> dict[str, Any] | None:
        """The first resource matching ``attribute eq "value"`` (docs/okta-idp.md §4.1, §7), or None.

        A no-match may be an empty ListResponse or a 404; both mean "not found" (§4.1).
        """
        query: Query = (("filter", eq_filter(attribute, value)), *self.profile.lookup_page)
        found = self.call("GET", endpoint, query=query, absent_ok=True)
        if found is None:
            return None
        found = self.list_response(endpoint, found)
        resources = _field(found, "Resources") or []
        return resources[0] if resources and isinstance(resources[0], dict) else None

    def read_all(self, endpoint: str) -> list[dict[str, Any]]:
        """Page through a list endpoint by ``startIndex`` += page size until ``totalResults`` are read (§3)."""
        resources: list[dict[str, Any]] = []
        start, total = 1, None
        size = self.profile.import_page_size
        while total is None or start <= total:
            page = self.list_response(
                endpoint, self.call("GET", endpoint, query=(("startIndex", start), ("count", size)))
            )
            items = _field(page, "Resources") or []
            total = int(_field(page, "totalResults") or 0)
            resources.extend(item for item in items if isinstance(item, dict))
            if not items:
                break
            start += size
        return resources
