"""The built-in suites. Importing them only defines checks; ``default_registry`` composes them in run order:
the order of model.SUITES, and within the RFC suite from discovery through CRUD, queries and PATCH to versioning."""

from __future__ import annotations

import importlib

from conformance.registry import Registry, Suite
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
from emulators.core.errors import ConfigurationError
from emulators.registry import IdpRegistry, IdpSpec, idps


def default_registry(idp_registry: IdpRegistry | None = None) -> Registry:
    """A new registry of every built-in check, in run order; each call builds an independent one.

    Every IdP of ``idp_registry`` (the process's IdP registry by default) that names a suite of its own
    (``IdpSpec.checks``) adds it after Okta's and Entra's, and the ``sync`` suite holds the console-driven
    one-way check of every IdP that brings no hand-written checks.
    """
    registry = idp_registry if idp_registry is not None else idps()
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
            *(idp_suite(spec) for spec in registry if spec.checks),
            sync.SUITE,
            sync.console_suite(registry),
            posix.SUITE,
        )
    )


def idp_suite(spec: IdpSpec) -> Suite:
    """The conformance suite an IdP brings (``IdpSpec.checks``, "module:attribute"), imported now."""
    module, _, attribute = spec.checks.partition(":")
    try:
        suite = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as error:
        raise ConfigurationError(f"{spec.label}'s checks {spec.checks!r} cannot be loaded: {error}") from None
    if not isinstance(suite, Suite):
        raise ConfigurationError(f"{spec.label}'s checks {spec.checks!r} is not a conformance Suite")
    return suite


__all__ = ["default_registry", "idp_suite"]
