"""The built-in suites. Importing them only defines checks; ``default_registry`` composes them in run order:
the order of model.SUITES, and within the RFC suite from discovery through CRUD, queries and PATCH to versioning."""

from __future__ import annotations

from conformance.registry import Registry
from conformance.suites import (
    entra_flows,
    entra_patch,
    okta_groups,
    okta_users,
    posix,
    rfc_bulk,
    rfc_cursor,
    rfc_discovery,
    rfc_etag,
    rfc_filter,
    rfc_groups,
    rfc_patch,
    rfc_query,
    rfc_users,
    sync,
)
from emulators.registry import IdpRegistry, idps


def default_registry(idp_registry: IdpRegistry | None = None) -> Registry:
    """A new registry of every built-in check, in run order; each call builds an independent one.

    The ``sync`` suite also holds the console-driven one-way check of every IdP of ``idp_registry``
    (the process's IdP registry by default) that brings no hand-written checks.
    """
    return Registry(
        (
            rfc_discovery.SUITE,
            rfc_users.SUITE,
            rfc_groups.SUITE,
            rfc_filter.SUITE,
            rfc_query.SUITE,
            rfc_cursor.SUITE,
            rfc_patch.SUITE,
            rfc_etag.SUITE,
            rfc_bulk.SUITE,
            okta_users.SUITE,
            okta_groups.SUITE,
            entra_flows.SUITE,
            entra_patch.SUITE,
            sync.SUITE,
            sync.console_suite(idp_registry if idp_registry is not None else idps()),
            posix.SUITE,
        )
    )


__all__ = ["default_registry"]
