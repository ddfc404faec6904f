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

# isort: split
# The IdP suites run after the RFC ones, in the order of model.SUITES.
from conformance.suites import okta_users, okta_groups, entra_flows, entra_patch, sync  # noqa: F401, I001
