"""The suites; importing this package registers every check, in run order."""

from conformance.suites import (  # noqa: F401
    rfc_discovery,
    rfc_etag,
    rfc_filter,
    rfc_groups,
    rfc_patch,
    rfc_query,
    rfc_users,
)
