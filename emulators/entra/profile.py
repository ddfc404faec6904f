"""Entra's two SCIM wire dialects as frozen data: the default ``scim`` template and ``aadOptscim062020``.

Every field has a provenance entry pointing at docs/entra-idp.md. Where the reference marks a
fact as inferred ((inferred)) or unknown (§12), the entry says "inferred" or "unknown, documented
default chosen". Admin-chosen job settings (scope, target actions, thresholds) are ``EntraSettings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from emulators.core.concurrency import Mode
from emulators.core.errors import ConfigurationError
from emulators.core.profile import IdpProfile
from emulators.core.retry import RateLimitPolicy
from scimcore import urns

FLAG = "aadOptscim062020"
BooleanEncoding = Literal["string", "boolean"]
ManagerShape = Literal["string", "legacy-array"]
MembershipScope = Literal["group", "cycle"]  # one batch per group, or one per cycle across groups

# The schema URI Entra lists in group creates (docs/entra-idp.md §4, Create Group).
ADSCIM_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"

# docs/entra-idp.md §7 and §12: 429 handling is unknown; Retry-After honoured (2025 Q&A), else 60 s doubling.
ENTRA_RATE_LIMIT = RateLimitPolicy(default_wait=60.0, factor=2.0, max_attempts=5)


@dataclass(frozen=True, kw_only=True)
class EntraProfile(IdpProfile):
    op_add: str
    op_replace: str
    op_remove: str
    post_booleans: BooleanEncoding
    patch_booleans: BooleanEncoding
    pathless_replace: bool
    member_remove_by_filter: bool
    member_remove_ref: bool
    members_per_patch: int
    manager_shape: ManagerShape
    probe_groups: bool
    group_schemas: tuple[str, ...]
    response_timeout: float
    # What Entra requires of the server's answers (docs/entra-idp.md §13).
    members_excluded: bool = True
    answer_media_types: tuple[str, ...] = (urns.MEDIA_TYPE, "application/json")
    integer_list_counts: bool = True
    resource_required: tuple[str, ...] = ("id",)
    # How many membership PATCHes Entra has in flight at once, and over what (docs/entra-idp.md §3.5).
    membership_workers: int = 5
    membership_scope: MembershipScope = "cycle"

    def op(self, name: Literal["add", "replace", "remove"]) -> str:
        return {"add": self.op_add, "replace": self.op_replace, "remove": self.op_remove}[name]


_COMMON_PROVENANCE = {
    "headers": "docs/entra-idp.md §1 and §12: User-Agent and Accept are unknown, documented default chosen: "
    "none sent (Authorization comes from the auth strategy)",
    "body_headers": "docs/entra-idp.md §1: Content-Type application/scim+json on POST and PATCH (documented)",
    "query_space": "docs/entra-idp.md §2: form-encoded queries (+, %22, %40) (observed)",
    "post_booleans": "docs/entra-idp.md §4 Create User sends active:true (documented); §12 lists the string form "
    "(https://github.com/AzureAD/SCIMReferenceCode/issues/21) as a conflict: unknown, documented default chosen; "
    "replace(profile, post_booleans='string') "
    'sends the observed "True" (Microsoft staff)',
    "member_remove_ref": "docs/entra-idp.md §4 Remove Members carries $ref:null (documented); §5 shows the value "
    "alone (documented): conflict, documented default (§4) chosen",
    "members_per_patch": "docs/entra-idp.md §3.4 and §12: one member per PATCH as documented; no maximum is "
    "known: unknown, documented default chosen",
    "manager_shape": "docs/entra-idp.md §4 Manager and §12: bare string on the enterprise URN path (observed); "
    "the legacy array is in older Microsoft text: unknown, observed current form chosen",
    "probe_groups": "docs/entra-idp.md §2: a random user and group are fetched (documented); the group query form "
    "is inferred",
    "group_schemas": "docs/entra-idp.md §4 Create Group (documented)",
    "list_paging": "docs/entra-idp.md §6: servers must support listing and paging by startIndex and count "
    "(documented); the provisioning service itself filters by the matching attribute rather than paging "
    "(inferred); no Microsoft text mentions cursor pagination (RFC 9865)",
    "uses_bulk": "docs/entra-idp.md §2: 'we don't support SCIM /Bulk today' (documented)",
    "response_timeout": "docs/entra-idp.md §1 and §7: answer within about 60 s (Microsoft staff)",
    "rate_limit": "docs/entra-idp.md §7 and §12: 429 is 'automatically retried'; Retry-After handling is "
    "unknown, documented default chosen: honour an integer Retry-After, else 60 s doubling, 5 attempts per "
    "cycle, then retried next cycle (never dropped)",
    "membership_workers": "docs/entra-idp.md §3.5: single-member PATCHes to one group arrive concurrently "
    "(observed); 'up to 5 requests at a time' seen by one server (observed); the maximum is "
    "unknown, observed figure chosen",
    "membership_scope": "docs/entra-idp.md §3.5: concurrency within a group is observed (observed); "
    "that one batch spans every group of a cycle is inferred",
    "members_excluded": "docs/entra-idp.md §3.4: group reads carry excludedAttributes=members, and members in the "
    "answer cause SystemForCrossDomainIdentityManagementMultipleEntriesInResponse (documented); failing on a "
    "non-empty members list (an empty one is tolerated) is inferred",
    "answer_media_types": "docs/entra-idp.md §1: servers should reply with application/scim+json (documented); "
    "application/json accepted (RFC 7644 §3.1, 2017-2019 examples (documented)) and any other type of a body "
    "failing as SystemForCrossDomainIdentityManagementServiceIncompatible (§6) are inferred",
    "integer_list_counts": "docs/entra-idp.md §4 Get User by query: a ListResponse with totalResults, startIndex, "
    "itemsPerPage as JSON numbers (documented); RFC 7644 §3.4.2 (integers); a string failing as "
    "SystemForCrossDomainIdentityManagementServiceIncompatible (§6 parse failures) is inferred",
    "resource_required": "docs/entra-idp.md §6: id is required in every returned resource, except inside an empty "
    "ListResponse, and a POST is answered 201 with id (documented); the log code of §6 parse failures",
}

ENTRA_DEFAULT = EntraProfile(
    name="scim",
    source="entra-scim",
    headers=(),
    body_headers=(("Content-Type", urns.MEDIA_TYPE),),
    query_space="+",
    op_add="Add",
    op_replace="Replace",
    op_remove="Remove",
    post_booleans="boolean",
    patch_booleans="string",
    pathless_replace=False,
    member_remove_by_filter=False,
    member_remove_ref=True,
    members_per_patch=1,
    manager_shape="string",
    probe_groups=True,
    group_schemas=(urns.GROUP, ADSCIM_GROUP),
    response_timeout=60.0,
    rate_limit=ENTRA_RATE_LIMIT,
    provenance=MappingProxyType(
        {
            **_COMMON_PROVENANCE,
            "ops": "docs/entra-idp.md §5: capitalised Add, Replace, Remove without the flag (documented)",
            "patch_booleans": "docs/entra-idp.md §5: 'False'/'True' strings from the Switch expression "
            "(documented; Microsoft staff)",
            "pathless_replace": "docs/entra-idp.md §5: one op per attribute, each with a path (documented)",
            "member_remove_by_filter": "docs/entra-idp.md §4-§5: Remove with path members and a value array "
            "(documented)",
        }
    ),
)

ENTRA_SCIM062020 = replace(
    ENTRA_DEFAULT,
    name=FLAG,
    source="entra-aadoptscim062020",
    op_add="add",
    op_replace="replace",
    op_remove="remove",
    patch_booleans="boolean",
    pathless_replace=True,
    member_remove_by_filter=True,
    provenance=MappingProxyType(
        {
            **_COMMON_PROVENANCE,
            "ops": "docs/entra-idp.md §5: the flag makes ops lowercase (documented)",
            "patch_booleans": "docs/entra-idp.md §5: disable sends value false (boolean) (documented)",
            "pathless_replace": "docs/entra-idp.md §5: filter paths keep their own op, the rest go into one "
            "path-less replace with dotted and URN keys (documented; observed)",
            "member_remove_by_filter": "docs/entra-idp.md §5: remove by members[value eq ...] with no value "
            "(documented)",
        }
    ),
)

PROFILES: Mapping[str, EntraProfile] = MappingProxyType({"scim": ENTRA_DEFAULT, FLAG: ENTRA_SCIM062020})


def profile_named(name: str) -> EntraProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigurationError(f"unknown Entra dialect {name!r}; use one of {', '.join(PROFILES)}") from None


def split_tenant_url(url: str) -> tuple[str, EntraProfile | None]:
    """The Tenant URL without feature flags, and the dialect a ``?aadOptscim062020`` flag selects.

    docs/entra-idp.md §1: admins append the flag as a query string; whether it reaches the server is
    unknown, so it is stripped before sending (inferred). Other query parameters are kept.
    """
    parts = urlsplit(url)
    params = [item for item in parts.query.split("&") if item]
    flagged = any(item.split("=", 1)[0].lower() == FLAG.lower() for item in params)
    kept = "&".join(item for item in params if item.split("=", 1)[0].lower() != FLAG.lower())
    base = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), kept, parts.fragment))
    return base, ENTRA_SCIM062020 if flagged else None


Scope = Literal["assigned", "all"]


@dataclass(frozen=True)
class EscrowPolicy:
    """When a failed object is tried again, and when its escrow is dropped (docs/entra-idp.md §7).

    The schedule of Microsoft's quarantine page is chosen: first retry 6 h after the failure, then 12 h and 24 h
    after the first failure, then every 24 h, up to 28 days. A Microsoft staff answer
    (https://learn.microsoft.com/en-us/answers/questions/1319983) describes another schedule; the two conflict
    (§12), so this is the documented default.
    """

    retry_after_first_failure: tuple[float, ...] = (6 * 3600.0, 12 * 3600.0, 24 * 3600.0)
    then_every: float = 24 * 3600.0
    give_up_after: float = 28 * 24 * 3600.0
    # Microsoft's quarantine page: "after which the escrow entry is removed and the job is disabled"
    # (docs/entra-idp.md §7);
    # False keeps the job running after a drop (the emulator's earlier behaviour).
    disable_job_on_drop: bool = True

    def next_retry(self, first_failure: float, failures: int) -> float:
        """The time of the next attempt after ``failures`` failed attempts."""
        steps = self.retry_after_first_failure
        if failures <= len(steps):
            return first_failure + steps[failures - 1]
        return first_failure + steps[-1] + (failures - len(steps)) * self.then_every


@dataclass(frozen=True)
class QuarantinePolicy:
    """docs/entra-idp.md §7: escrow proportion thresholds, the slowed cycle, and the 4-week disable."""

    evaluate_from: int = 5000
    proportion: float = 0.40
    failures: int = 40000
    absolute: int = 60000
    interval: float = 24 * 3600.0
    disable_after: float = 28 * 24 * 3600.0


@dataclass(frozen=True)
class EntraSettings:
    """The provisioning job as an admin configures it (docs/entra-idp.md §3.3, §8, §9)."""

    scope: Scope = "assigned"
    create: bool = True
    update: bool = True
    delete: bool = True
    skip_out_of_scope_deletions: bool = False
    accidental_deletion_threshold: int | None = None
    cycle_interval: float = 40 * 60.0
    hard_delete_after: float = 30 * 24 * 3600.0
    on_demand_group_members: int = 5
    # A gallery app may map multi-valued and complex custom extension attributes; a non-gallery app (the
    # "scim" template aup emulates) may not (docs/entra-idp.md §4 (documented)).
    gallery_app: bool = False
    # How the emulator runs Entra's concurrent requests (docs/entra-idp.md §3.5): "deterministic" (in order, or
    # in the seed's interleaving, in one thread) for in-process tests and cassettes; "threads" for a live target.
    concurrency: Mode = "deterministic"
    concurrency_seed: int | None = None
    escrow: EscrowPolicy = field(default_factory=EscrowPolicy)
    quarantine: QuarantinePolicy = field(default_factory=QuarantinePolicy)
    # docs/entra-idp.md §8 (documented): changing the scoping filter restarts provisioning (a full initial cycle).
    restart_on_scoping_change: bool = True

    def __post_init__(self) -> None:
        if self.scope not in ("assigned", "all"):
            raise ConfigurationError(f"scope must be 'assigned' or 'all', not {self.scope!r}")
        threshold = self.accidental_deletion_threshold
        if threshold is not None and threshold < 1:
            raise ConfigurationError("the accidental-deletion threshold must be at least 1")
