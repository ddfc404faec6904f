"""The SCIM calls Entra makes: its headers, form-encoded queries, 429 handling and failure codes.

Every request goes through ``EntraSession.call``. A 429 is waited out through the injected clock
(docs/entra-idp.md §7) and, if it persists, becomes a ``TooManyRequests`` failure that the cycle
engine retries next cycle; any other error answer becomes a ``ProvisioningFailure`` with the code
the provisioning log shows. So does a successful answer Entra cannot use: another media type, paging
fields that are not integers, a resource without ``id``, or members it excluded (the profile's answer rules).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import httpx

from emulators.core.clock import Clock
from emulators.core.retry import RateLimitExhaustedError, send_with_rate_limit
from emulators.entra.log import Code
from emulators.entra.profile import EntraProfile
from scimcore.client import ScimClient, eq_filter

Query = Sequence[tuple[str, str | int]]
EXCLUDE_MEMBERS = ("excludedAttributes", "members")  # first on every group read (§2, §3.4)


class ProvisioningFailure(Exception):
    """One object's request failed; ``code`` is what the provisioning log shows (§6-§7)."""

    def __init__(self, code: str, detail: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.status = status


def _code_for(status: int) -> Code:
    if status == 409:
        return Code.ENTRY_CONFLICT
    if status == 429:
        return Code.TOO_MANY_REQUESTS
    if status >= 500:
        return Code.INTERNAL_SERVER_ERROR
    return Code.PROTOCOL_ERROR


def _media_type(response: httpx.Response) -> str:
    return str(response.headers.get("Content-Type", "")).split(";", 1)[0].strip().lower()


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("detail") or "") if isinstance(body, dict) else ""


class EntraSession:
    def __init__(self, http: httpx.Client, profile: EntraProfile, clock: Clock) -> None:
        self.profile = profile
        self.clock = clock
        self.scim = ScimClient(
            http, headers=profile.headers, body_headers=profile.body_headers, space=profile.query_space
        )

    def call(self, method: str, path: str, *, query: Query = (), body: Any = None, absent_ok: bool = False) -> Any:
        """Send one request; the JSON answer (None when empty, or on 404 when ``absent_ok``)."""
        try:
            response = send_with_rate_limit(
                lambda: self.scim.request(method, path, query=query, body=body), self.profile.rate_limit, self.clock
            )
        except RateLimitExhaustedError as exc:
            raise ProvisioningFailure(Code.TOO_MANY_REQUESTS, str(exc), 429) from None
        except httpx.TimeoutException:
            timeout = self.profile.response_timeout
            raise ProvisioningFailure(Code.TIMEOUT, f"{method} {path}: no answer within {timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise ProvisioningFailure(Code.PROTOCOL_ERROR, f"{method} {path}: {exc}") from None
        if absent_ok and response.status_code == 404:
            return None
        if not response.is_success:
            detail = f"{method} {path} answered {response.status_code}"
            if text := _detail(response):
                detail += f": {text}"
            raise ProvisioningFailure(_code_for(response.status_code), detail, response.status_code)
        if not response.content:
            return None
        accepted = self.profile.answer_media_types
        if accepted and _media_type(response) not in accepted:  # §1 (documented); the failure is inferred
            shown = response.headers.get("Content-Type") or "none"
            raise ProvisioningFailure(
                Code.SERVICE_INCOMPATIBLE, f"{method} {path}: Content-Type {shown}, not {' or '.join(accepted)}"
            )
        try:
            return response.json()
        except ValueError:
            raise ProvisioningFailure(Code.SERVICE_INCOMPATIBLE, f"{method} {path}: the answer is not JSON") from None

    def _check_resource(self, endpoint: str, doc: dict[str, Any], where: str) -> None:
        """A returned resource carries what Entra reads (§6: id), and no members where it excluded them (§3.4)."""
        missing = [name for name in self.profile.resource_required if not doc.get(name)]
        if missing:
            raise ProvisioningFailure(Code.SERVICE_INCOMPATIBLE, f"{where}: the resource has no {', '.join(missing)}")
        if endpoint == "/Groups" and self.profile.members_excluded and doc.get("members"):
            raise ProvisioningFailure(
                Code.MULTIPLE_ENTRIES, f"{where}: members returned although excludedAttributes=members was sent"
            )

    def _check_counts(self, endpoint: str, found: dict[str, Any]) -> None:
        """A ListResponse's paging fields are JSON integers (§4 Get User by query; RFC 7644 §3.4.2)."""
        if not self.profile.integer_list_counts:
            return
        for key in ("totalResults", "startIndex", "itemsPerPage"):
            if key in found and not _is_integer(found[key]):
                raise ProvisioningFailure(
                    Code.SERVICE_INCOMPATIBLE, f"GET {endpoint}: {key} is {found[key]!r}, not a JSON integer"
                )

    def resource(self, endpoint: str, scim_id: str) -> dict[str, Any] | None:
        """GET a linked object by id (groups without members, §2); None when it is gone (404)."""
        query: Query = (EXCLUDE_MEMBERS,) if endpoint == "/Groups" else ()
        found = self.call("GET", f"{endpoint}/{scim_id}", query=query, absent_ok=True)
        if found is not None and not isinstance(found, dict):
            raise ProvisioningFailure(Code.SERVICE_INCOMPATIBLE, f"GET {endpoint}/{scim_id}: not a resource")
        if found is not None:
            self._check_resource(endpoint, found, f"GET {endpoint}/{scim_id}")
        return found

    def search(self, endpoint: str, attribute: str, value: str) -> list[dict[str, Any]]:
        """``GET endpoint?filter=attribute eq "value"`` (§2); groups put ``excludedAttributes=members`` first."""
        query: list[tuple[str, str | int]] = [EXCLUDE_MEMBERS] if endpoint == "/Groups" else []
        query.append(("filter", eq_filter(attribute, value)))
        found = self.call("GET", endpoint, query=query)
        resources = found.get("Resources") if isinstance(found, dict) else None
        if not isinstance(found, dict) or "totalResults" not in found:
            raise ProvisioningFailure(Code.SERVICE_INCOMPATIBLE, f"GET {endpoint}: the answer is not a ListResponse")
        self._check_counts(endpoint, found)
        items = [item for item in resources or () if isinstance(item, dict)]
        for item in items:
            self._check_resource(endpoint, item, f"GET {endpoint}")
        return items

    def probe(self, user_attribute: str, group_attribute: str | None) -> None:
        """Test connection and the start of every cycle: random-GUID queries that must find nothing (§2, §11.3).

        Raises ``ProvisioningFailure`` with ``EncounteredQuarantineException`` when the answer is not a
        200 with an empty ListResponse (a 404 is a failure, §6).
        """
        probes = [("/Users", user_attribute)]
        if group_attribute is not None and self.profile.probe_groups:
            probes.append(("/Groups", group_attribute))
        for endpoint, attribute in probes:
            try:
                found = self.search(endpoint, attribute, str(uuid.uuid4()))
            except ProvisioningFailure as exc:
                raise ProvisioningFailure(
                    Code.QUARANTINE, f"test connection failed: {exc.detail}", exc.status
                ) from None
            if found:
                raise ProvisioningFailure(Code.QUARANTINE, f"test connection: {endpoint} matched a random value")
