"""The IdP registry's own rules: built-in specs, the shared profile base, and the places that must agree with it."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest

from aup.commands.record import agent_labels
from emulators.core.clock import FakeClock
from emulators.core.console import ConsoleSetup
from emulators.core.directory import Directory
from emulators.core.errors import ConfigurationError
from emulators.core.profile import IdpProfile
from emulators.entra import SPEC as ENTRA
from emulators.okta import SPEC as OKTA
from emulators.registry import BUILT_IN, load_default

ROOT = Path(__file__).resolve().parents[2]


def test_the_built_in_idps_are_those_of_built_in_okta_and_entra_first() -> None:
    registry = load_default()
    assert registry.names() == [module.rsplit(".", 1)[1] for module in BUILT_IN]
    assert registry.names()[:2] == ["okta", "entra"]
    assert list(registry.gherkin_names())[:4] == ["Okta", "Okta (AIW)", "Entra", "Entra (aadOptscim062020)"]
    assert load_default() is not registry, "each call builds a new registry"


def test_every_profile_has_the_shared_settings_under_one_name() -> None:
    for spec in load_default():
        for profile in spec.profiles.values():
            assert isinstance(profile, IdpProfile)
            assert profile.query_space in ("%20", "+") and profile.source.startswith(spec.name)
    assert OKTA.profile().query_space == "%20" and ENTRA.profile().query_space == "+"


def test_an_unknown_profile_names_the_choices() -> None:
    with pytest.raises(ConfigurationError, match="Okta has no profile 'x'; use one of oin, aiw, oin-members-in-post"):
        OKTA.profile("x")


def test_a_console_refuses_another_idps_profile() -> None:
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(500)))
    with pytest.raises(TypeError, match="Okta's console needs one of Okta's profiles"):
        OKTA.console(ConsoleSetup(Directory(), http, ENTRA.profile(), FakeClock()))


def test_the_recorder_labels_as_the_registry_says() -> None:
    """The recorder runs in mitmproxy's own environment without the emulators: ``aup record`` hands it the
    registry's marks, and its defaults (for the addon run by hand) are the built-in IdPs' marks."""
    tree = ast.parse((ROOT / "recording" / "flows.py").read_text(encoding="utf-8"))
    defaults = next(
        ast.literal_eval(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "DEFAULT_MARKS" and node.value
    )
    registered = {spec.name: spec.agent_marks for spec in load_default()}
    assert [name for name, _ in defaults] == ["okta", "entra"]
    assert all(registered[name] == marks for name, marks in defaults), "the defaults follow the registry"
    assert agent_labels() == ";".join(f"{spec.name}={','.join(spec.agent_marks)}" for spec in load_default())
