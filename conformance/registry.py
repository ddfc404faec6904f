"""The registry of checks: ``@check(...)`` registers a function; ``select`` picks what a run executes."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable

from conformance.context import CheckContext
from conformance.model import SUITES, Check, Level

CheckFn = Callable[[CheckContext], None]

_REGISTRY: dict[str, Check] = {}
_ID = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")


def check(
    id: str,
    title: str,
    *,
    level: Level,
    ref: str,
    tags: Iterable[str] = (),
    requires: Iterable[str] = (),
) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as a check of the suite its module names (``conformance.suites.rfc_users`` -> ``rfc``)."""

    def register(fn: CheckFn) -> CheckFn:
        if not _ID.match(id):
            raise ValueError(f"check id {id!r} must be lower case letters, digits, dots and dashes")
        if id in _REGISTRY:
            raise ValueError(f"check id {id!r} is registered twice")
        suite = fn.__module__.split(".")[2] if fn.__module__.startswith("conformance.suites.") else "custom"
        suite = suite.split("_")[0]
        _REGISTRY[id] = Check(
            id=id,
            title=title,
            level=level,
            suite=suite,
            ref=ref,
            fn=fn,
            tags=frozenset(tags) | {suite},
            requires=frozenset(requires),
        )
        return fn

    return register


def all_checks() -> list[Check]:
    """Every registered check, in registration order (the order a run uses)."""
    importlib.import_module("conformance.suites")
    return list(_REGISTRY.values())


def select(
    suites: Iterable[str] | None = None,
    *,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    ids: Iterable[str] = (),
) -> list[Check]:
    """Checks of ``suites`` (all when None) that carry any ``include`` tag (all when empty) and no ``exclude`` tag;
    ``ids`` narrows to those ids (or id prefixes ending in ``*``)."""
    chosen = set(suites) if suites is not None else set(SUITES)
    unknown = chosen - set(SUITES)
    if unknown:
        raise ValueError(f"unknown suite {sorted(unknown)[0]!r}; choose from {', '.join(SUITES)}")
    wanted, unwanted, patterns = set(include), set(exclude), list(ids)
    out = []
    for item in all_checks():
        if item.suite not in chosen:
            continue
        if wanted and not item.tags & wanted:
            continue
        if item.tags & unwanted:
            continue
        if patterns and not any(_matches(item.id, pattern) for pattern in patterns):
            continue
        out.append(item)
    return out


def _matches(check_id: str, pattern: str) -> bool:
    return check_id.startswith(pattern[:-1]) if pattern.endswith("*") else check_id == pattern
