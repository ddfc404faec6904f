"""What every IdP's wire dialect has, under one name each: the shared base of ``OktaProfile`` and
``EntraProfile`` (and of any IdP added later). IdP-specific settings are fields of the subclasses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from emulators.core.retry import RateLimitPolicy

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, kw_only=True)
class IdpProfile:
    """One wire dialect of an IdP, as frozen data with a provenance entry per field.

    ``name`` selects it (``--profile``, ``--dialect``); ``source`` labels its exchanges in cassettes;
    ``headers`` are sent on every request and replace httpx's defaults; ``body_headers`` go only with a
    body; ``query_space`` is how a space is encoded in a query (``%20`` or ``+``); ``rate_limit`` is how
    it waits out a 429. ``list_paging`` is how it reads a whole list (``index``: startIndex and count, RFC 7644
    §3.4.2.4; ``cursor``: RFC 9865), ``uses_bulk`` whether it batches writes in /Bulk (RFC 7644 §3.7).
    """

    name: str
    source: str
    headers: Headers
    body_headers: Headers
    query_space: str
    rate_limit: RateLimitPolicy
    list_paging: Literal["index", "cursor"] = "index"
    uses_bulk: bool = False
    provenance: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def user_agent(self) -> str | None:
        """The User-Agent it sends, or None when it sends none of its own."""
        return dict(self.headers).get("User-Agent")
