"""Okta's wire dialects as frozen data: ``OKTA_OIN`` (catalog/template apps) and ``OKTA_AIW`` (wizard apps),
plus ``OKTA_OIN_MEMBERS_IN_POST``, the observed OIN variant that lists a pushed group's members in its POST.

Every field has a provenance entry pointing at the reference fact; entries built on inference say
so. Admin-chosen settings (which operations are on, group import, rename) are ``OktaSettings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Literal

from emulators.core.errors import ConfigurationError
from emulators.core.profile import IdpProfile
from emulators.core.retry import RateLimitPolicy
from scimcore import urns

Method = Literal["patch", "put"]

# docs/okta-idp.md §8: Retry-After if an integer, else 5 minutes; double each time; 10 attempts.
OKTA_RATE_LIMIT = RateLimitPolicy(default_wait=300.0, factor=2.0, max_attempts=10)


@dataclass(frozen=True, kw_only=True)
class OktaProfile(IdpProfile):
    connection_test_users: tuple[tuple[str, int], ...]
    connection_test_groups: tuple[tuple[str, int], ...]
    lookup_page: tuple[tuple[str, int], ...]
    import_page_size: int
    user_active: Method
    credential_update: Method
    group_update: Method
    group_members_in_post: bool
    rename_sends_id: bool
    put_sends_empty_groups: bool
    user_keys_first: tuple[str, ...]
    user_keys_last: tuple[str, ...]
    # What Okta requires of the server's answers (docs/okta-idp.md §14).
    integer_list_counts: bool = True
    list_schema_required: bool = True
    boolean_active: bool = True
    # Requests in flight at once: Okta's concurrency is undocumented, so one at a time (docs/okta-idp.md §8).
    request_workers: int = 1

    @property
    def user_agent(self) -> str:
        return dict(self.headers)["User-Agent"]


_HEADERS = (
    ("Accept", urns.MEDIA_TYPE),
    ("Accept-Charset", "utf-8"),
    ("User-Agent", "Okta SCIM Client 1.0.0"),
    ("Accept-Encoding", "gzip,deflate"),
    ("Connection", "Keep-Alive"),
)

_COMMON_PROVENANCE = {
    "headers": "docs/okta-idp.md §2 and §12 (documented; observed)",
    "body_headers": "docs/okta-idp.md §2: Content-Type only when there is a body (documented; observed)",
    "query_space": "docs/okta-idp.md §4.1 and §7: Okta's SCIM 2.0 reference encodes spaces as %20 (documented)",
    "connection_test_users": "docs/okta-idp.md §3: GET /Users?startIndex=1&count=2 (documented; observed)",
    "connection_test_groups": "docs/okta-idp.md §3: GET /Groups?startIndex=1&count=100 with group import (documented)",
    "lookup_page": "docs/okta-idp.md §4.1 and §7: filter then startIndex=1&count=100 (documented)",
    "import_page_size": "docs/okta-idp.md §3: pages of count=100 (documented)",
    "rename_sends_id": "docs/okta-idp.md §7: rename value includes id (documented)",
    "list_paging": "docs/okta-idp.md §3: import pages by startIndex and count=100 (documented); no Okta text "
    "mentions cursor pagination (RFC 9865), and Okta never reads /ServiceProviderConfig (documented, §1)",
    "uses_bulk": "docs/okta-idp.md §1 and §8: one request per resource operation, never /Bulk (documented)",
    "put_sends_empty_groups": "docs/okta-idp.md §5: PUT carries Okta's groups:[] (observed)",
    "user_keys": "docs/okta-idp.md §2: key order of the samples in Okta's SCIM 2.0 reference and its 2019 "
    "Understanding SCIM text (documented)",
    "rate_limit": "docs/okta-idp.md §8: the HTTP 429 algorithm (documented); '10 attempts' read as 10 requests "
    "in total (inferred)",
    "integer_list_counts": "docs/okta-idp.md §3 and §10.10: totalResults, startIndex and itemsPerPage must be JSON "
    "integers, not strings (documented); the lowercase spellings are read too (documented)",
    "list_schema_required": "docs/okta-idp.md §11a, SPEC Test step 1: schemas has the ListResponse URN "
    "(documented); the "
    "client failing the task without it is inferred",
    "boolean_active": "docs/okta-idp.md §9: a boolean active is needed (documented); failing the task on a "
    "non-boolean active in a user Okta reads is inferred, and a missing active is tolerated (inferred)",
    "request_workers": "docs/okta-idp.md §8: concurrency and ordering are undocumented (an unanswered Okta "
    "developer forum question): one request at a time, in the order the actions happen (inferred)",
}

OKTA_OIN = OktaProfile(
    name="oin",
    source="okta-oin",
    headers=_HEADERS,
    body_headers=(("Content-Type", f"{urns.MEDIA_TYPE}; charset=utf-8"),),
    query_space="%20",
    connection_test_users=(("startIndex", 1), ("count", 2)),
    connection_test_groups=(("startIndex", 1), ("count", 100)),
    lookup_page=(("startIndex", 1), ("count", 100)),
    import_page_size=100,
    user_active="patch",
    credential_update="patch",
    group_update="patch",
    group_members_in_post=False,
    rename_sends_id=True,
    put_sends_empty_groups=True,
    user_keys_first=("schemas", "userName", "name", "emails", "displayName", "locale"),
    user_keys_last=("externalId", "groups", "password", "active"),
    rate_limit=OKTA_RATE_LIMIT,
    provenance=MappingProxyType(
        {
            **_COMMON_PROVENANCE,
            "user_active": "docs/okta-idp.md §1 and §6: path-less PATCH replace {active} (documented; observed); "
            "the reactivation body is inferred by symmetry",
            "credential_update": "docs/okta-idp.md §1 and §6: PATCH (documented); the body shape is inferred",
            "group_update": "docs/okta-idp.md §1 and §7: membership and rename by PATCH (documented)",
            "group_members_in_post": "docs/okta-idp.md §7 and §12: POST with members [] (documented), then the "
            "provisioned members by the membership PATCH, as any membership update; §12's canonical sequence, "
            "itself inferred",
        }
    ),
)

# The observed OIN variant (docs/okta-idp.md §7): the POST lists the provisioned members, and the add
# PATCH that follows repeats them, which a server must accept as a no-op (§10.3).
OKTA_OIN_MEMBERS_IN_POST = replace(
    OKTA_OIN,
    name="oin-members-in-post",
    group_members_in_post=True,
    provenance=MappingProxyType(
        {
            **OKTA_OIN.provenance,
            "group_members_in_post": "docs/okta-idp.md §7: POST lists provisioned members (documented; observed), "
            "then an add of members already listed (seen in real traffic: "
            "https://github.com/simpleidserver/SimpleIdServer/issues/269)",
        }
    ),
)

OKTA_AIW = replace(
    OKTA_OIN,
    name="aiw",
    source="okta-aiw",
    user_active="put",
    credential_update="put",
    group_update="put",
    group_members_in_post=False,
    provenance=MappingProxyType(
        {
            **_COMMON_PROVENANCE,
            "user_active": "docs/okta-idp.md §1 and §6: GET then PUT with active (documented; observed); "
            "reactivation by PUT is inferred from the same pattern",
            "credential_update": "docs/okta-idp.md §1 and §6: password sync by PUT (documented)",
            "group_update": "docs/okta-idp.md §7: GET then PUT of the whole group (observed)",
            "group_members_in_post": "docs/okta-idp.md §7: POST with members [] then GET and PUT with the "
            "members (observed)",
        }
    ),
)

PROFILES: Mapping[str, OktaProfile] = MappingProxyType(
    {"oin": OKTA_OIN, "aiw": OKTA_AIW, OKTA_OIN_MEMBERS_IN_POST.name: OKTA_OIN_MEMBERS_IN_POST}
)


@dataclass(frozen=True)
class OktaSettings:
    """The app's provisioning settings as an Okta admin sets them (docs/okta-idp.md §1, §3, §7, §11c)."""

    create_users: bool = True
    update_users: bool = True
    deactivate_users: bool = True
    sync_password: bool = False
    import_groups: bool = False
    rename_groups: bool = True
    unique_identifier: str = "userName"
    # User Creation & Matching (docs/okta-idp.md §3): what makes an imported app user an exact match of an Okta user
    # ("username": the app userName equals the Okta username; "email": the app's primary email equals the Okta
    # user's), whether first and last name alone make a partial match, and whether exact matches are confirmed
    # (linked) without the admin.
    import_match: str = "username"
    allow_partial_matches: bool = False
    confirm_matched: bool = False

    def __post_init__(self) -> None:
        if self.import_match not in ("username", "email"):
            raise ConfigurationError(f"import_match {self.import_match!r}: choose username or email")
