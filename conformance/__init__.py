"""Conformance checks runnable against any SCIM 2.0 service provider, graded MUST/SHOULD/MAY.

A check is a small function registered with an id, a level, the requirement it enforces and the
capabilities it needs; the runner gives each one a fresh context (a wiretapped client, a run-id
prefix for its data, cleanup) and turns what happens into a result with evidence.
"""

from __future__ import annotations

from collections.abc import Iterable

from conformance.model import Check, Level, Result, Status
from conformance.registry import Registry, Suite
from conformance.runner import Run, run
from scimcore.target import Target  # the one Target of the project, under the name callers know


def all_checks() -> list[Check]:
    """Every built-in check, in run order."""
    from conformance.suites import default_registry  # noqa: PLC0415 - importing the package defines no checks

    return default_registry().checks()


def select(
    suites: Iterable[str] | None = None,
    *,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    ids: Iterable[str] = (),
) -> list[Check]:
    """``Registry.select`` over the built-in checks."""
    from conformance.suites import default_registry  # noqa: PLC0415 - importing the package defines no checks

    return default_registry().select(suites, include=include, exclude=exclude, ids=ids)


__all__ = [
    "Check",
    "Level",
    "Registry",
    "Result",
    "Run",
    "Status",
    "Suite",
    "Target",
    "all_checks",
    "run",
    "select",
]
