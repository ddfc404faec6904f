"""The IdP registry: every IdP is a package that exports one ``IdpSpec``, and everything that works per
IdP reads it — the CLI (``aup sync --idp``), the conformance ``sync`` suite, the Gherkin steps, the
stateful proofs, ``aup record``'s labels and the benchmarks.

The registry is built explicitly when first asked for (no import side effects): the built-in packages
listed in ``BUILT_IN``, then any installed distribution's ``aup.idps`` entry points (each naming an
``IdpSpec``). ``register`` adds one at run time (a test's IdP, a plugin); ``registered`` does it for a
``with`` block. Adding an IdP to this project is one line in ``BUILT_IN`` (docs/architecture.md).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import MappingProxyType

from emulators.core.console import AdminConsole, ConsoleSetup
from emulators.core.errors import ConfigurationError
from emulators.core.profile import IdpProfile

# Packages exporting ``SPEC``, in the order they are listed: one line an IdP.
BUILT_IN = (
    "emulators.okta",
    "emulators.entra",
    "emulators.pingfederate",
)
ENTRY_POINT_GROUP = "aup.idps"
_NAME = re.compile(r"[a-z][a-z0-9]*")  # it becomes part of check ids, file names and CLI values
_CHECKS = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


@dataclass(frozen=True)
class IdpSpec:
    """One IdP, as every part of the project needs it.

    ``name`` is its id (``--idp NAME``, check ids, file names); ``label`` its name in messages and in
    Gherkin ("Given Okta provisions to the service provider"). ``profiles`` are its wire dialects by
    name, ``default_profile`` the one used unless another is chosen; ``variants`` names other profiles
    for Gherkin (``{"AIW": "aiw"}`` gives "Okta (AIW)"). ``console`` builds its admin console.
    ``agent_marks`` are lower-case words of its User-Agent by which a recording labels its traffic.
    ``docs`` is the page documenting its behaviour. ``console_checks``: the conformance ``sync`` suite
    runs the console-driven one-way checks for it (False where the IdP brings hand-written ones).
    ``live_settings``: console settings for a run against a live server under load (Entra sends its
    concurrent requests on real threads there). ``checks``: ``"module:attribute"`` naming the conformance
    ``Suite`` the IdP brings of its own (what its wire needs of a server); conformance loads it when it builds
    its registry, nothing else imports it (docs/architecture.md).
    """

    name: str
    label: str
    profiles: Mapping[str, IdpProfile]
    default_profile: str
    console: Callable[[ConsoleSetup], AdminConsole]
    agent_marks: tuple[str, ...] = ()
    variants: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    docs: str = ""
    console_checks: bool = True
    live_settings: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    checks: str = ""

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"IdP name {self.name!r} must be lower-case letters and digits, starting with a letter")
        if self.default_profile not in self.profiles:
            raise ValueError(f"IdP {self.name}: default profile {self.default_profile!r} is not among its profiles")
        unknown = [name for name in self.variants.values() if name not in self.profiles]
        if unknown:
            raise ValueError(f"IdP {self.name}: variant profile {unknown[0]!r} is not among its profiles")
        if self.checks and not _CHECKS.fullmatch(self.checks):
            raise ValueError(f"IdP {self.name}: checks {self.checks!r} must be 'package.module:ATTRIBUTE'")

    def profile(self, name: str | None = None) -> IdpProfile:
        """The named profile (the default when None); ConfigurationError names the choices."""
        chosen = self.default_profile if name is None else name
        try:
            return self.profiles[chosen]
        except KeyError:
            raise ConfigurationError(
                f"{self.label} has no profile {chosen!r}; use one of {', '.join(self.profiles)}"
            ) from None

    def gherkin_names(self) -> dict[str, IdpProfile]:
        """Its names in feature files: the label for the default profile, "label (variant)" for the others."""
        names = {self.label: self.profile()}
        names.update({f"{self.label} ({variant})": self.profiles[name] for variant, name in self.variants.items()})
        return names


class IdpRegistry:
    """The registered IdPs, in registration order."""

    def __init__(self, specs: Iterator[IdpSpec] | tuple[IdpSpec, ...] = ()) -> None:
        self._specs: dict[str, IdpSpec] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: IdpSpec) -> IdpSpec:
        if spec.name in self._specs:
            raise ValueError(f"an IdP named {spec.name!r} is registered already")
        self._specs[spec.name] = spec
        return spec

    def unregister(self, name: str) -> None:
        self._specs.pop(name, None)

    def get(self, name: str) -> IdpSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise ConfigurationError(f"unknown IdP {name!r}; choose from {', '.join(self._specs)}") from None

    def names(self) -> list[str]:
        return list(self._specs)

    def __iter__(self) -> Iterator[IdpSpec]:
        return iter(list(self._specs.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def label_for_agent(self, user_agent: str | None) -> str | None:
        """The name of the IdP whose User-Agent this is, or None."""
        agent = (user_agent or "").lower()
        return next((spec.name for spec in self if any(mark in agent for mark in spec.agent_marks)), None)

    def gherkin_names(self) -> dict[str, tuple[IdpSpec, IdpProfile]]:
        return {name: (spec, profile) for spec in self for name, profile in spec.gherkin_names().items()}


def load_default() -> IdpRegistry:
    """A fresh registry of the built-in IdPs and the installed ``aup.idps`` entry points."""
    registry = IdpRegistry()
    for module in BUILT_IN:
        registry.register(importlib.import_module(module).SPEC)
    for point in entry_points(group=ENTRY_POINT_GROUP):
        spec = point.load()
        if not isinstance(spec, IdpSpec):
            raise ConfigurationError(f"entry point {point.name} ({point.value}) is not an IdpSpec")
        registry.register(spec)
    return registry


_default: IdpRegistry | None = None


def idps() -> IdpRegistry:
    """The process's registry, built on first use."""
    global _default  # noqa: PLW0603 - one registry per process, built lazily so importing has no effect
    if _default is None:
        _default = load_default()
    return _default


def register(spec: IdpSpec) -> IdpSpec:
    """Add an IdP to the process's registry (plugins and tests)."""
    return idps().register(spec)


@contextmanager
def registered(spec: IdpSpec) -> Iterator[IdpSpec]:
    """``spec`` is registered for the block and removed after it."""
    register(spec)
    try:
        yield spec
    finally:
        idps().unregister(spec.name)
