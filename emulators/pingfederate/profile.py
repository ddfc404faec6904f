"""PingFederate's SCIM Provisioner as frozen data: two wire dialects (``patch``, the default, and ``put``, for a
service provider whose "SCIM SP Supports Patch Updates" box is cleared) and the admin's settings.

Every field has a provenance entry naming the section of docs/pingfederate-idp.md that quotes Ping Identity's
documentation; entries built on inference say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from types import MappingProxyType
from typing import Any, Literal

from emulators.core.errors import ConfigurationError
from emulators.core.profile import IdpProfile
from emulators.core.retry import RateLimitPolicy
from scimcore import urns

RemoveAction = Literal["disable", "delete"]
UniqueIdentifier = Literal["userName", "workEmail"]

# Inferred (docs/pingfederate-idp.md §6): Ping documents no 429 handling; a refused action is retried at the next
# synchronization cycle, so a 429 is waited out briefly (Retry-After when given) and otherwise left to that cycle.
PINGFEDERATE_RATE_LIMIT = RateLimitPolicy(default_wait=1.0, factor=2.0, max_attempts=3)


@dataclass(frozen=True, kw_only=True)
class PingFederateProfile(IdpProfile):
    """``patch_groups``: group renames and membership changes go as PATCH (the connection's "SCIM SP Supports
    Patch Updates" box); cleared, the whole group is replaced with PUT. Users are always replaced with PUT:
    the provisioner does not PATCH users. ``group_page_size`` is the ``count`` of the pages it reads /Groups
    in to find a group by name; ``cycle_seconds`` the synchronization frequency."""

    patch_groups: bool
    group_page_size: int
    cycle_seconds: float


@dataclass(frozen=True)
class PingFederateSettings:
    """The connection's admin choices (docs/pingfederate-idp.md §3).

    ``unique_user_identifier``: the attribute a user is matched by (``userName eq`` or ``emails eq``);
    ``filter_expression``: the admin's override, ``%s`` standing for that value (``userName eq "%s"``);
    ``remove_user_action``: ``disable`` (PUT with ``active`` false) or ``delete`` (DELETE);
    ``provision_disabled_users``: a disabled user in the source is created with ``active`` false instead of
    not at all.
    """

    unique_user_identifier: UniqueIdentifier = "userName"
    filter_expression: str = ""
    remove_user_action: RemoveAction = "disable"
    provision_disabled_users: bool = False

    def __post_init__(self) -> None:
        if self.unique_user_identifier not in ("userName", "workEmail"):
            raise ConfigurationError(
                f"unique_user_identifier {self.unique_user_identifier!r}: choose userName or workEmail"
            )
        if self.remove_user_action not in ("disable", "delete"):
            raise ConfigurationError(f"remove_user_action {self.remove_user_action!r}: choose disable or delete")
        if self.filter_expression and "%s" not in self.filter_expression:
            raise ConfigurationError(f"filter_expression {self.filter_expression!r} must hold %s for the value")
        if self.provision_disabled_users and self.remove_user_action != "disable":
            # docs/pingfederate-idp.md §3: only with Remove User Action set to Disable
            raise ConfigurationError("provision_disabled_users needs remove_user_action disable")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> PingFederateSettings:
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigurationError(f"unknown PingFederate setting {unknown[0]!r}; known: {', '.join(sorted(known))}")
        return cls(**dict(values))


# Inferred (docs/pingfederate-idp.md §2): Ping does not document its request headers. The provisioner speaks
# SCIM 2.0 JSON, so it asks for and sends application/scim+json (RFC 7644 §3.1); the User-Agent names the
# product so that a recording labels the traffic (the real one is not documented).
_HEADERS = (
    ("Accept", urns.MEDIA_TYPE),
    ("User-Agent", "PingFederate SCIM Provisioner"),
)
_BODY_HEADERS = (("Content-Type", urns.MEDIA_TYPE),)

_PROVENANCE = MappingProxyType(
    {
        "headers": "docs/pingfederate-idp.md §2 (inferred: not documented)",
        "body_headers": "docs/pingfederate-idp.md §2 (inferred: RFC 7644 §3.1's media type)",
        "query_space": "docs/pingfederate-idp.md §2 (inferred)",
        "rate_limit": "docs/pingfederate-idp.md §6 (inferred: retried at the next cycle)",
        "patch_groups": "docs/pingfederate-idp.md §5 (documented: PATCH for groups only, a connection setting)",
        "group_page_size": "docs/pingfederate-idp.md §5 (documented: all groups are read to find a match; "
        "the page size is inferred)",
        "cycle_seconds": "docs/pingfederate-idp.md §1 (documented: the source is checked every minute by default)",
    }
)

PINGFEDERATE_PATCH = PingFederateProfile(
    name="patch",
    source="pingfederate",
    headers=_HEADERS,
    body_headers=_BODY_HEADERS,
    query_space="%20",
    rate_limit=PINGFEDERATE_RATE_LIMIT,
    patch_groups=True,
    group_page_size=100,
    cycle_seconds=60.0,
    provenance=_PROVENANCE,
)
PINGFEDERATE_PUT = replace(PINGFEDERATE_PATCH, name="put", patch_groups=False)
PROFILES: Mapping[str, PingFederateProfile] = MappingProxyType(
    {profile.name: profile for profile in (PINGFEDERATE_PATCH, PINGFEDERATE_PUT)}
)

# The attribute mapping (the connection's Attribute Mapping tab is the admin's): SCIM target path <- directory
# attribute. This default maps what docs/pingfederate-idp.md §4 names; ``rules`` of the console replace entries.
DEFAULT_MAPPING: tuple[tuple[str, str], ...] = (
    ("userName", "login"),
    ("name.givenName", "firstName"),
    ("name.familyName", "lastName"),
    ("displayName", "displayName"),
    ('emails[type eq "work"].value', "email"),
)

__all__ = [
    "DEFAULT_MAPPING",
    "PINGFEDERATE_PATCH",
    "PINGFEDERATE_PUT",
    "PROFILES",
    "PingFederateProfile",
    "PingFederateSettings",
    "RemoveAction",
]
