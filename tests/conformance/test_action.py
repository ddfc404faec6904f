"""The composite action (action.yml) and its script (ci/conformance.sh): inputs and steps agree, and the script,
run with bash and the INPUT_* environment a runner gives it, gates on a real server over loopback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from werkzeug.serving import make_server

from conformance.model import Level
from conformance.suites import default_registry
from tests.conformance.breakers_rfc import BREAKERS
from tests.conformance.faulty import Faulty, State
from tests.integration.conftest import Served, start_server, stop_server, wait_for

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
SCRIPT_STEP = ACTION["runs"]["steps"][-1]
SCRIPT = ROOT / "ci" / "conformance.sh"
SCRIPT_TIMEOUT_S = 300
DOCS = ROOT / "docs" / "ci.md"


def _inputs_used(text: str) -> set[str]:
    return set(re.findall(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", text))


def test_the_action_is_composite_and_uses_every_input() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert ACTION["inputs"]["target"]["required"] is True
    assert _inputs_used(yaml.safe_dump(ACTION["runs"])) == set(ACTION["inputs"])
    assert ACTION["runs"]["steps"][0]["uses"] == "actions/setup-python@v5"
    assert all(step.get("shell") == "bash" for step in ACTION["runs"]["steps"] if "run" in step)


def test_the_script_exists_and_reads_exactly_the_variables_the_step_sets() -> None:
    assert SCRIPT_STEP["run"] == 'bash "$GITHUB_ACTION_PATH/ci/conformance.sh"' and SCRIPT.is_file()
    read = set(re.findall(r"INPUT_\w+", SCRIPT.read_text())) | {
        f"INPUT_{name.upper()}" for name in ("junit", "html", "json")
    }
    read.discard("INPUT_")  # the report loop builds the names: INPUT_JUNIT, INPUT_HTML, INPUT_JSON
    assert read == set(SCRIPT_STEP["env"])


def _help() -> str:
    return subprocess.run(
        [sys.executable, "-m", "aup", "conformance", "--help"], capture_output=True, text=True, timeout=60, check=True
    ).stdout


def test_every_flag_the_script_passes_is_an_aup_conformance_option() -> None:
    flags = set(re.findall(r"\(?(--[a-z-]+)", SCRIPT.read_text())) | {"--junit", "--html", "--json"}
    help_text = _help()
    missing = {flag for flag in flags if flag not in help_text}
    assert not missing, missing


def _walk(node: Any) -> Iterator[Any]:
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from _walk(child)


def test_the_yaml_recipes_of_docs_ci_parse_and_use_real_inputs_and_flags() -> None:
    blocks = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", DOCS.read_text(), re.S)]
    assert len(blocks) >= 4
    uses = [
        node for block in blocks for node in _walk(block) if isinstance(node, dict) and "aup@" in str(node.get("uses"))
    ]
    assert uses, "a recipe uses the composite action"
    for step in uses:
        assert "target" in step["with"] and set(step["with"]) <= set(ACTION["inputs"])
    commands = [
        text for block in blocks for text in _walk(block) if isinstance(text, str) and "aup conformance" in text
    ]
    flags = {flag for text in commands for flag in re.findall(r"(--[a-z-]+)", text)}
    assert flags and not {flag for flag in flags if flag not in _help()}


def _env(tmp_path: Path, **inputs: str) -> dict[str, str]:
    """A runner's environment for the step: PATH with this interpreter's aup, and the INPUT_* of action.yml."""
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "GITHUB_ACTION_PATH": str(ROOT),
    }
    for name in SCRIPT_STEP["env"]:
        key = name.removeprefix("INPUT_").lower()
        env[name] = inputs.get(key, str(ACTION["inputs"][key].get("default", "")))
    return env


def _script(tmp_path: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT)],
        env=_env(tmp_path, **inputs),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
        check=False,
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A real ``aup serve`` process on loopback, stopped by its pid."""
    server = start_server(tmp_path / "aup.db")
    try:
        base = wait_for(server, r"SCIM base URL \(default\): (\S+)").group(1)
        token = wait_for(server, r"New bearer token for default .*: (\S+)").group(1)
        wait_for(server, r"aup serving on")
        yield Served(base_url=base, token=token, process=server, db=tmp_path / "aup.db")
    finally:
        stop_server(server)


@pytest.mark.network
def test_a_conformant_server_passes_and_the_junit_file_is_written(served: Served, tmp_path: Path) -> None:
    done = _script(tmp_path, target=served.base_url, token=served.token, html="report.html")
    assert done.returncode == 0, done.stdout + done.stderr
    assert served.token not in done.stdout, "the token stays off the printed command line"
    root = ET.parse(tmp_path / "conformance.xml").getroot()
    assert int(root.attrib["tests"]) > 90 and root.attrib["failures"] == root.attrib["errors"] == "0"
    assert (tmp_path / "report.html").is_file()


@contextmanager
def _loopback(app: Any) -> Iterator[str]:
    """``app`` served on a free loopback port on a thread; shut down on exit."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/scim/v2"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.mark.network
def test_a_breaking_server_fails_the_step(reference: tuple[Any, str], tmp_path: Path) -> None:
    app, token = reference
    checks = {item.id: item for item in default_registry().checks()}
    broken = next(name for name in sorted(BREAKERS) if name in checks and checks[name].level is Level.MUST)
    faulty = Faulty(app, BREAKERS[broken], State(token=token, memory={"app": app}))
    with _loopback(faulty) as base:
        done = _script(tmp_path, target=base, token=token, args=f"--check {broken}", strict="true")
    assert done.returncode == 1, done.stdout + done.stderr
    failures = ET.parse(tmp_path / "conformance.xml").getroot().findall(".//testcase/failure")
    assert [failure.get("type") for failure in failures] == ["MUST"]


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        pytest.param({}, "the target input is required", id="no-target"),
        pytest.param(
            {"target": "http://127.0.0.1:9/scim/v2", "strict": "yes"}, "strict must be true or false", id="strict"
        ),
        pytest.param({"target": "http://127.0.0.1:9/scim/v2", "jobs": "0"}, "jobs must be a positive", id="jobs"),
    ],
)
def test_a_bad_input_is_one_line_and_exit_2(inputs: dict[str, str], message: str, tmp_path: Path) -> None:
    done = _script(tmp_path, **inputs)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.splitlines()) == 1
