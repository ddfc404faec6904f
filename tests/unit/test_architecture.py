"""The import rules of docs/architecture.md, enforced: a forbidden import anywhere fails this test.

Every top-level package (and module) of the repository is found from the tree and must have a rule here,
so a new package cannot escape the rules by being new.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Top-level directories that hold no code of the project (build output, documentation).
NOT_CODE = frozenset({"build", "dist", "docs"})

# The modules of the server the front-ends (the CLI, bench/) may reach it through: build it, issue tokens,
# read its settings, open or fill its store. Never the HTTP views, SCIM semantics or the service.
SERVER_DOORS = ("aup_server.app", "aup_server.auth", "aup_server.config", "aup_server.store")


@dataclass(frozen=True)
class Rule:
    """What one top-level package may import. ``may_import`` None means anything (tests and conftest)."""

    may_import: frozenset[str] | None
    forbidden_third_party: frozenset[str] = frozenset()
    # project package -> the only modules of it this package may import (all of it when absent)
    doors: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _rule(may: Iterable[str], forbidden: Iterable[str], doors: dict[str, tuple[str, ...]] | None = None) -> Rule:
    return Rule(frozenset(may), frozenset(forbidden), tuple((doors or {}).items()))


# Test-only dependencies (the "test" dependency group): an installed aup must never need them.
TEST_ONLY = frozenset({"hypothesis", "jsonschema", "pytest_bdd", "scim2_tester", "trustme"})
WEB = frozenset({"flask", "werkzeug", "waitress"})

RULES: dict[str, Rule] = {
    "scimcore": _rule((), WEB | TEST_ONLY | {"click", "mitmproxy", "pytest"}),
    "aup_server": _rule({"scimcore"}, TEST_ONLY | {"httpx", "waitress", "click", "mitmproxy", "pytest"}),
    "emulators": _rule({"scimcore"}, WEB | TEST_ONLY | {"click", "mitmproxy", "pytest"}),
    # pytest only in its plugin, which pytest itself loads
    "conformance": _rule({"scimcore", "emulators"}, WEB | TEST_ONLY | {"click", "mitmproxy"}),
    # runs inside mitmproxy's own virtualenv: only the stdlib-only cassette module of scimcore
    "recording": _rule(
        {"scimcore"}, TEST_ONLY | {"flask", "httpx", "waitress", "click", "pytest"}, {"scimcore": ("scimcore.wire",)}
    ),
    "aup": _rule(
        {"scimcore", "aup_server", "emulators", "conformance"},
        TEST_ONLY | {"mitmproxy", "pytest"},
        {"aup_server": SERVER_DOORS},
    ),
    # a front-end like the CLI: the server in process through aup.embedded, waitress through aup.serve; the WAN
    # figure times the conformance runner beside python-scim's scim2-tester (installed in the bench env only)
    "bench": _rule(
        {"scimcore", "aup_server", "emulators", "aup", "conformance"},
        (TEST_ONLY - {"scim2_tester"}) | {"mitmproxy", "pytest"},
        {"aup_server": SERVER_DOORS, "aup": ("aup.embedded", "aup.serve")},
    ),
    # steps reach the service provider over HTTP only; the root conftest builds the embedded one
    "features": _rule({"scimcore", "emulators", "conformance"}, WEB | {"click", "mitmproxy"}),
    "tests": Rule(None),
    "conftest": Rule(None),
}

# An IdP's own conformance suite (``IdpSpec.checks``): ``emulators/<idp>/checks.py`` may import conformance as well,
# since conformance alone loads it, when it builds its registry; nothing in the emulators imports it.
IDP_CHECKS = "checks.py"
IDP_CHECKS_MAY_IMPORT = frozenset({"conformance"})

# Files that may call create_app: the CLI's two doors, and test code (any conftest, anything under tests/).
APP_BUILDERS = frozenset({"aup/cli.py", "aup/embedded.py"})

# Loaded where aup's dependencies are not installed: the recorder imports scimcore.wire inside mitmproxy's
# virtualenv, and tests/recording/provision.py loads mitm_env in tox environments without the project.
STDLIB_ONLY = ("scimcore/__init__.py", "scimcore/wire.py", "aup/mitm_env.py")


def discover(root: Path) -> set[str]:
    """Top-level packages and modules: every directory holding Python files, and every ``.py`` file."""
    found: set[str] = set()
    for entry in root.iterdir():
        if entry.name.startswith((".", "_")) or entry.name in NOT_CODE or entry.name.endswith(".egg-info"):
            continue
        if entry.is_dir() and next(entry.rglob("*.py"), None) is not None:
            found.add(entry.name)
        elif entry.is_file() and entry.suffix == ".py":
            found.add(entry.stem)
    return found


def packages_without_rule(root: Path) -> set[str]:
    return discover(root) - set(RULES)


def _files(root: Path, package: str) -> list[Path]:
    single = root / f"{package}.py"
    return [single] if single.is_file() else sorted((root / package).rglob("*.py"))


def _imported_modules(path: Path) -> set[str]:
    """Dotted names of everything ``path`` imports (``from a import b`` gives ``a.b``), lazy imports included."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _imports(path: Path) -> set[str]:
    """Top-level names ``path`` imports."""
    return {name.split(".")[0] for name in _imported_modules(path)}


def _through_door(module: str, doors: tuple[str, ...]) -> bool:
    return any(module == door or module.startswith(f"{door}.") for door in doors)


def violations(package: str, path: Path, project: set[str]) -> list[str]:
    """What ``path`` (a file of ``package``) imports against its rule."""
    rule = RULES[package]
    if rule.may_import is None:
        return []
    if package == "emulators" and path.name == IDP_CHECKS and path.parent.parent.name == "emulators":
        rule = Rule(rule.may_import | IDP_CHECKS_MAY_IMPORT, rule.forbidden_third_party, rule.doors)
    modules = _imported_modules(path)
    tops = {module.split(".")[0] for module in modules}
    bad = sorted((tops & project) - rule.may_import - {package})
    bad += sorted(tops & rule.forbidden_third_party)
    for target, doors in rule.doors:
        bad += sorted(m for m in modules if m.split(".")[0] == target and not _through_door(m, doors))
    return bad


def builds_the_app(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return any(
        isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "create_app"
        for node in ast.walk(tree)
    )


def may_build_the_app(relative: Path) -> bool:
    return relative.parts[0] == "tests" or relative.name == "conftest.py" or relative.as_posix() in APP_BUILDERS


def test_every_top_level_package_has_a_rule() -> None:
    missing = packages_without_rule(ROOT)
    assert not missing, f"give {sorted(missing)} a rule in RULES and a row in docs/architecture.md"


def test_every_rule_names_a_package_that_exists() -> None:
    assert set(RULES) <= discover(ROOT)


def test_a_new_package_without_a_rule_is_caught(tmp_path: Path) -> None:
    """Discovery sees new code wherever it is and skips build output, hidden and non-code directories."""
    for name in ("newpkg/__init__.py", "scripts/tool.py", "build/lib/aup/cli.py", ".tox/x.py", "x.egg-info/y.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    (tmp_path / "docs").mkdir()
    (tmp_path / "setup_helper.py").write_text("", encoding="utf-8")
    (tmp_path / "aup").mkdir()
    (tmp_path / "aup" / "cli.py").write_text("", encoding="utf-8")
    assert discover(tmp_path) == {"newpkg", "scripts", "setup_helper", "aup"}
    assert packages_without_rule(tmp_path) == {"newpkg", "scripts", "setup_helper"}


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_imports_only_what_the_architecture_allows(package: str) -> None:
    project = discover(ROOT)
    found = []
    for path in _files(ROOT, package):
        bad = violations(package, path, project)
        if bad:
            found.append(f"{path.relative_to(ROOT)} imports {bad}")
    assert not found, "\n".join(found)


def test_only_the_cli_and_tests_build_the_app() -> None:
    """create_app is called by aup/cli.py (serve), aup/embedded.py, conftest files and tests only."""
    offenders = [
        str(path.relative_to(ROOT))
        for package in sorted(RULES)
        for path in _files(ROOT, package)
        if not may_build_the_app(path.relative_to(ROOT)) and builds_the_app(path)
    ]
    assert not offenders


@pytest.mark.parametrize("module", STDLIB_ONLY)
def test_modules_loaded_outside_the_project_environment_use_only_the_standard_library(module: str) -> None:
    outside = {name for name in _imports(ROOT / module) if name not in sys.stdlib_module_names}
    assert not outside - {"__future__"}, f"{module} imports {sorted(outside)}"


def test_rules_catch_a_forbidden_import(tmp_path: Path) -> None:
    """The checker sees both import forms, imports inside functions, and doors."""
    sample = tmp_path / "m.py"
    sample.write_text(
        "import aup_server.app\nfrom emulators.okta import x\n"
        "def f():\n    from aup_server.scim import filter\n    from aup import cli\n    import flask\n",
        encoding="utf-8",
    )
    assert _imports(sample) == {"aup_server", "emulators", "aup", "flask"}
    project = {"aup", "aup_server", "emulators", "scimcore"}
    assert violations("scimcore", sample, project) == ["aup", "aup_server", "emulators", "flask"]
    assert violations("bench", sample, project) == ["aup_server.scim.filter", "aup.cli"]
    assert violations("tests", sample, project) == []


def test_only_an_idps_checks_module_may_import_conformance(tmp_path: Path) -> None:
    idp = tmp_path / "emulators" / "someidp"
    idp.mkdir(parents=True)
    for name in ("checks.py", "console.py"):
        (idp / name).write_text("from conformance.registry import Suite\n", encoding="utf-8")
    project = {"conformance", "emulators", "scimcore"}
    assert violations("emulators", idp / "checks.py", project) == []
    assert violations("emulators", idp / "console.py", project) == ["conformance"]
    nested = idp / "sub"
    nested.mkdir()
    (nested / "checks.py").write_text("import conformance\n", encoding="utf-8")
    assert violations("emulators", nested / "checks.py", project) == ["conformance"]


def test_app_builders_are_found(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("from aup_server import app\napp.create_app(store=None)\n", encoding="utf-8")
    assert builds_the_app(sample)
    assert not may_build_the_app(Path("bench/scale.py"))
    assert may_build_the_app(Path("features/conftest.py")) and may_build_the_app(Path("aup/embedded.py"))
