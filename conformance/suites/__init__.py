"""The suites; importing this package registers every check, in run order (the order of model.SUITES,
and within the RFC suite from discovery through CRUD, queries and PATCH to versioning)."""

# isort: off
from conformance.suites import rfc_discovery, rfc_users, rfc_groups, rfc_filter, rfc_query, rfc_patch, rfc_etag
from conformance.suites import okta_users, okta_groups, entra_flows, entra_patch, sync, posix

# isort: on

__all__ = [
    "entra_flows",
    "entra_patch",
    "okta_groups",
    "okta_users",
    "posix",
    "rfc_discovery",
    "rfc_etag",
    "rfc_filter",
    "rfc_groups",
    "rfc_patch",
    "rfc_query",
    "rfc_users",
    "sync",
]
