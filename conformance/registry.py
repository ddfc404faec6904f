"""Suites declare checks, a registry composes suites in run order and selects what a run executes.

Declaring changes nothing outside the declaring ``Suite``: which checks exist is decided only by the registry
a caller builds (``conformance.suites.default_registry()`` for the built-in suites), see docs/conformance-internals.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from conformance.context import CheckContext
from conformance.model import Check, Level

CheckFn = Callable[[CheckContext], None]

_ID = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")


class Suite:
    """The checks of one suite module, in declaration order: ``SUITE = Suite("rfc")``, then ``@SUITE.check(...)``.

    Several modules may declare into suites of the same name (the RFC suite spans seven); every check carries
    its suite's name as a tag.
    """

    def __init__(self, name: str) -> None:
        if not _ID.match(name):
            raise ValueError(f"suite name {name!r} must be lower case letters, digits, dots and dashes")
        self.name = name
        self._checks: dict[str, Check] = {}

    @property
    def checks(self) -> tuple[Check, ...]:
        return tuple(self._checks.values())

    def check(
        self,
        id: str,
        title: str,
        *,
        level: Level,
        ref: str,
        tags: Iterable[str] = (),
        requires: Iterable[str] = (),
        needs: Iterable[str] = (),
        exclusive: bool = False,
        hint: str = "",
    ) -> Callable[[CheckFn], CheckFn]:
        """Declare ``fn`` as check ``id`` of this suite; ``fn`` is returned unchanged (see ``Check`` for
        ``needs``, ``exclusive`` and ``hint``)."""

        def declare(fn: CheckFn) -> CheckFn:
            if not _ID.match(id):
                raise ValueError(f"check id {id!r} must be lower case letters, digits, dots and dashes")
            if id in self._checks:
                raise ValueError(f"check id {id!r} is declared twice in suite {self.name!r}")
            self._checks[id] = Check(
                id=id,
                title=title,
                level=level,
                suite=self.name,
                ref=ref,
                fn=fn,
                tags=frozenset(tags) | {self.name},
                requires=frozenset(requires),
                needs=tuple(needs),
                exclusive=exclusive,
                hint=hint,
            )
            return fn

        return declare

    def __repr__(self) -> str:
        return f"Suite({self.name!r}, {len(self._checks)} checks)"


class Registry:
    """Checks in run order, with unique ids: what ``select`` picks from and the runner can run."""

    def __init__(self, suites: Iterable[Suite] = ()) -> None:
        self._checks: dict[str, Check] = {}
        self._suites: list[str] = []
        for suite in suites:
            self.add_suite(suite)

    def add(self, check: Check) -> None:
        """Append ``check`` to the run order; its suite becomes selectable."""
        if check.id in self._checks:
            raise ValueError(f"check id {check.id!r} is registered twice; check ids must be unique in a registry")
        self._checks[check.id] = check
        if check.suite not in self._suites:
            self._suites.append(check.suite)

    def add_suite(self, suite: Suite) -> None:
        """Append every check of ``suite``, in the order the suite declared them."""
        if suite.name not in self._suites:
            self._suites.append(suite.name)
        for check in suite.checks:
            self.add(check)

    @property
    def suites(self) -> tuple[str, ...]:
        """Suite names in the order their first check runs."""
        return tuple(self._suites)

    def checks(self) -> list[Check]:
        """Every check, in run order."""
        return list(self._checks.values())

    def get(self, check_id: str) -> Check | None:
        return self._checks.get(check_id)

    def __getitem__(self, check_id: str) -> Check:
        try:
            return self._checks[check_id]
        except KeyError:
            raise KeyError(f"no check {check_id!r} in this registry") from None

    def __contains__(self, check_id: object) -> bool:
        return check_id in self._checks

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks.values())

    def __len__(self) -> int:
        return len(self._checks)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Registry):
            return NotImplemented
        return self._suites == other._suites and self.checks() == other.checks()

    __hash__ = None  # type: ignore[assignment]  # mutable: ``add`` changes what equality compares

    def __repr__(self) -> str:
        return f"Registry({', '.join(self._suites)}; {len(self._checks)} checks)"

    def select(
        self,
        suites: Iterable[str] | None = None,
        *,
        include: Iterable[str] = (),
        exclude: Iterable[str] = (),
        ids: Iterable[str] = (),
    ) -> list[Check]:
        """Checks of ``suites`` (all when None) that carry any ``include`` tag (all when empty) and no ``exclude``
        tag; ``ids`` narrows to those ids (or id prefixes ending in ``*``). Run order is kept."""
        chosen = set(suites) if suites is not None else set(self._suites)
        unknown = chosen - set(self._suites)
        if unknown:
            raise ValueError(f"unknown suite {sorted(unknown)[0]!r}; choose from {', '.join(self._suites)}")
        wanted, unwanted, patterns = set(include), set(exclude), list(ids)
        out = []
        for item in self._checks.values():
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
