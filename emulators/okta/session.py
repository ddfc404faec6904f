"""The SCIM calls Okta makes, with its headers, encodings, 429 handling and error rules.

Every request goes through ``OktaSession.call``: the profile's exact header set, ``%20`` filters,
the 429 algorithm through the injected clock (docs/okta.md §8), and any other non-2xx answer
turned into a ``ScimCallError`` that fails the task.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx

from emulators.core.clock import Clock
from emulators.core.retry import send_with_rate_limit
from emulators.okta.profile import OktaProfile
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
        body = response_json(response)  # Okta parses any JSON whatever the media type (docs/okta.md §8)
        if isinstance(body, dict):
            detail = str(body.get("detail") or body.get("Detail") or "")
        elif response.text:
            detail = response.text[:200]
        request = response.request
        return cls(request.method, request.url.raw_path.decode("ascii"), response.status_code, detail)


def _field(doc: dict[str, Any], name: str) -> Any:
    """A ListResponse field; Okta also accepts lowercase spellings (docs/okta.md §3)."""
    return doc[name] if name in doc else doc.get(name.lower())


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
        return response_json(response)

    def find(self, endpoint: str, attribute: str, value: str) -> dict[str, Any] | None:
        """The first resource matching ``attribute eq "value"`` (docs/okta.md §4.1, §7), or None.

        A no-match may be an empty ListResponse or a 404; both mean "not found" (§4.1).
        """
        query: Query = (("filter", eq_filter(attribute, value)), *self.profile.lookup_page)
        found = self.call("GET", endpoint, query=query, absent_ok=True)
        if not isinstance(found, dict):
            return None
        resources = _field(found, "Resources") or []
        return resources[0] if resources and isinstance(resources[0], dict) else None

    def read_all(self, endpoint: str) -> list[dict[str, Any]]:
        """Page through a list endpoint by ``startIndex`` += page size until ``totalResults`` are read (§3)."""
        resources: list[dict[str, Any]] = []
        start, total = 1, None
        size = self.profile.import_page_size
        while total is None or start <= total:
            page = self.call("GET", endpoint, query=(("startIndex", start), ("count", size)))
            if not isinstance(page, dict):
                raise ScimCallError("GET", endpoint, 200, "the answer is not a ListResponse")
            items = _field(page, "Resources") or []
            total = int(_field(page, "totalResults") or 0)
            resources.extend(item for item in items if isinstance(item, dict))
            if not items:
                break
            start += size
        return resources
