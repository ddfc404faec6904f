"""The import rules of the architecture, enforced: a forbidden import anywhere fails this test."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = {"aup", "scimcore", "aup_server", "emulators", "conformance", "recording"}

# package -> project packages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "scimcore": set(),
    "aup_server": {"scimcore"},
    "emulators": {"scimcore"},
    "conformance": {"scimcore", "emulators"},
    "recording": {"scimcore"},
    "aup": PROJECT - {"recording"},
}
FORBIDDEN_THIRD_PARTY: dict[str, set[str]] = {
    "scimcore": {"flask", "mitmproxy"},
    "emulators": {"flask", "mitmproxy"},
    "aup_server": {"mitmproxy", "httpx"},
    "conformance": {"flask", "mitmproxy"},
    "aup": {"mitmproxy"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_packages_exist() -> None:
    present = [pkg for pkg in ALLOWED if (ROOT / pkg).is_dir()]
    assert {"scimcore", "aup_server", "aup"} <= set(present)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_architecture_allows(package: str) -> None:
    violations = []
    for path in _files(package):
        imported = _imports(path)
        bad = (imported & PROJECT) - ALLOWED[package] - {package}
        bad |= imported & FORBIDDEN_THIRD_PARTY.get(package, set())
        if bad:
            violations.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not violations, "\n".join(violations)


def test_only_cli_and_tests_build_the_app() -> None:
    """create_app is called only by the CLI, conftest files and test fixtures."""
    offenders = []
    for package in ALLOWED:
        if package == "aup":
            continue
        for path in _files(package):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            calls = [
                node
                for node in ast.walk(tree)
                if isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "create_app"
            ]
            if calls:
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders


def test_rules_catch_a_forbidden_import(tmp_path: Path) -> None:
    """The checker itself sees both import forms."""
    sample = tmp_path / "m.py"
    sample.write_text("import aup_server.app\nfrom emulators.okta import x\n", encoding="utf-8")
    assert _imports(sample) == {"aup_server", "emulators"}
