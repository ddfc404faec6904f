"""The registry is explicit: declaring checks has no effect outside a Suite, the default registry is composed by one
function, the conformance package has no import cycle, and a registry of one's own runs like the built-in one."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance import Status, Target, all_checks, run, select
from conformance.context import CheckContext
from conformance.model import SUITES, Check, Level
from conformance.registry import Registry, Suite
from conformance.runner import Runner
from conformance.suites import default_registry
from emulators.registry import idps
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.target import Bearer

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "conformance"
BASE = IN_PROCESS_SCIM_URL


def _target(app: Any, token: str) -> Target:
    return Target(BASE, Bearer(token), app=app)


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The conformance modules ``name`` imports anywhere in its body (``importlib.import_module("...")`` included),
    except under ``if TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(node)
        for branch in ast.walk(tree)
        if isinstance(branch, ast.If) and "TYPE_CHECKING" in ast.unparse(branch.test)
        for node in ast.walk(branch)
    }
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith("import_module") and node.args:
            out.add(str(getattr(node.args[0], "value", "")))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
            for alias in node.names:
                out.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {module for module in out if module in known and module != name}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_the_conformance_package_has_no_import_cycle() -> None:
    known = _modules()
    graph = {name: _imports(name, path, known) for name, path in known.items()}
    assert _cycle(graph) == []


def test_suite_modules_import_no_other_suite() -> None:
    """Shared helpers live in conformance.helpers; a suite imports the registry only for its Suite."""
    known = _modules()
    for name, path in known.items():
        if name.startswith("conformance.suites."):
            assert {m for m in _imports(name, path, known) if m.startswith("conformance.suites")} == set(), name


def test_importing_the_registry_the_package_or_the_pytest_plugin_loads_no_suite() -> None:
    code = (
        "import sys, conformance.registry, conformance, conformance.pytest_plugin\n"
        "print(sorted(m for m in sys.modules if m.startswith('conformance.suites')))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_importing_a_suite_module_again_only_redefines_its_checks() -> None:
    """A suite module registers nothing anywhere: loading it a second time leaves the composition the same."""
    code = (
        "import importlib, conformance.suites as suites, conformance.suites.rfc_etag as etag\n"
        "before = [c.id for c in suites.default_registry()]\n"
        "importlib.reload(etag)\n"
        "print(before == [c.id for c in suites.default_registry()], len(before))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", str(len(all_checks()))]


def test_the_default_registry_is_built_fresh_and_equal_each_time() -> None:
    first, second = default_registry(), default_registry()
    assert first == second and first is not second
    extra = Suite("rfc")
    extra.check("rfc-extra", "extra", level=Level.MAY, ref="test")(lambda ctx: None)
    first.add_suite(extra)
    assert "rfc-extra" in first and "rfc-extra" not in second and first != second
    assert default_registry() == second


def test_the_default_registry_runs_the_suites_in_model_order_and_backs_all_checks_and_select() -> None:
    registry = default_registry()
    assert [suite for suite in registry.suites if suite in SUITES] == list(SUITES)
    brought = [spec.name for spec in idps() if spec.checks]  # an IdP's own suite runs after Entra's, before sync
    assert [suite for suite in registry.suites if suite not in SUITES] == brought
    assert registry.suites.index("entra") < min((registry.suites.index(name) for name in brought), default=99)
    assert all_checks() == registry.checks()
    assert select(["okta"], exclude=["throttling"]) == registry.select(["okta"], exclude=["throttling"])
    for item in registry:
        assert item.suite in item.tags and registry[item.id] is item


def test_a_suite_tags_its_checks_and_keeps_declaration_order() -> None:
    suite = Suite("demo")

    @suite.check("demo-b", "second letter", level=Level.SHOULD, ref="test §1", tags={"x"}, requires={"patch"})
    def b(ctx: CheckContext) -> None:
        pass

    suite.check("demo-a", "first letter", level=Level.MUST, ref="test §2")(b)
    assert [(c.id, c.suite, c.tags, c.requires) for c in suite.checks] == [
        ("demo-b", "demo", frozenset({"x", "demo"}), frozenset({"patch"})),
        ("demo-a", "demo", frozenset({"demo"}), frozenset()),
    ]


@pytest.mark.parametrize("bad", ["Upper-case", "has space", "-leading-dash"])
def test_a_malformed_check_id_is_refused_when_declared(bad: str) -> None:
    with pytest.raises(ValueError, match="lower case letters"):
        Suite("demo").check(bad, "t", level=Level.MUST, ref="r")(lambda ctx: None)


def test_a_check_id_used_twice_is_refused_by_the_suite_and_by_the_registry() -> None:
    one, two = Suite("one"), Suite("two")
    one.check("same-id", "t", level=Level.MUST, ref="r")(lambda ctx: None)
    with pytest.raises(ValueError, match="declared twice"):
        one.check("same-id", "t", level=Level.MUST, ref="r")(lambda ctx: None)
    two.check("same-id", "t", level=Level.MUST, ref="r")(lambda ctx: None)
    with pytest.raises(ValueError, match="registered twice"):
        Registry([one, two])


def test_a_custom_registry_selects_among_its_own_suites() -> None:
    one, two = Suite("one"), Suite("two")
    for suite, slug, tags in ((one, "a", {"x"}), (two, "b", {"y"}), (one, "c", {"y"})):
        suite.check(f"{suite.name}-{slug}", slug, level=Level.MUST, ref="r", tags=tags)(lambda ctx: None)
    registry = Registry([one, two])
    ids = [c.id for c in registry]
    assert ids == ["one-a", "one-c", "two-b"]
    assert [c.id for c in registry.select(include=["y"])] == ["one-c", "two-b"]
    assert [c.id for c in registry.select(["one"], exclude=["x"])] == ["one-c"]
    assert [c.id for c in registry.select(ids=["two-*"])] == ["two-b"]
    with pytest.raises(ValueError, match="unknown suite 'rfc'; choose from one, two"):
        registry.select(["rfc"])
    with pytest.raises(KeyError, match="no check 'three-a' in this registry"):
        registry["three-a"]


def test_a_custom_suite_runs_against_the_in_process_server(reference: tuple[Any, str]) -> None:
    app, token = reference
    suite = Suite("custom")

    @suite.check("custom-create-and-read-user", "a created user reads back", level=Level.MUST, ref="RFC 7644 §3.3")
    def create_and_read_user(ctx: CheckContext) -> None:
        user = ctx.create_user()
        ctx.expect(ctx.fetch(f"/Users/{user['id']}")["id"] == user["id"], "the user did not read back")

    # The reference server advertises every RFC 7643 §5 feature, so the check names one it cannot have.
    @suite.check("custom-needs-feature", "skipped without the feature", level=Level.MUST, ref="r", requires={"xfeat"})
    def needs_feature(ctx: CheckContext) -> None:
        raise AssertionError("a check needing an unadvertised capability must not run")

    outcome = run(Registry([suite]), _target(app, token))
    assert [(r.check.id, r.status) for r in outcome.results] == [
        ("custom-create-and-read-user", Status.PASS),
        ("custom-needs-feature", Status.SKIP),
    ]
    runner = Runner(_target(app, token))
    runner.open()
    try:
        check: Check = Registry([suite])["custom-create-and-read-user"]
        assert runner.run_one(check).status is Status.PASS
    finally:
        runner.close()
