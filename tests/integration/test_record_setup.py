"""``aup record`` finds mitmproxy's virtualenv in aup's cache, or creates it there: asked, told, or refused.

The provisioning itself (``aup.mitm_env.provision``, which tox's provision step also runs) is exercised with
a stand-in package built here: a tiny wheel whose ``mitmdump`` console script only answers ``--version``. One
test creates the real mitmproxy 11.0.2 environment (about 30 s with pip's cache warm).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pty
import select
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aup import mitm_env
from aup.cli import main
from aup.commands import record as record_command
from scimcore.wire import read_cassette
from tests.integration.test_record import har_document

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "mitmproxy 11.0.2 is not installed; create it in {} now? [y/N]"


@pytest.fixture
def bare(tmp_path: Path) -> dict[str, str | None]:
    """An environment with an empty aup cache, no AUP_MITMDUMP and a PATH without mitmdump (but with python)."""
    path = tmp_path / "path"
    path.mkdir()
    (path / "python").symlink_to(sys.executable)
    return {"AUP_CACHE_DIR": str(tmp_path / "cache"), "AUP_MITMDUMP": None, "PATH": str(path)}


def env_files(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.is_dir() else []


def stand_in_wheel(where: Path, version: str = "11.0.2") -> Path:
    """A pure-python wheel whose ``mitmdump`` says ``Mitmproxy: VERSION`` to --version and fails otherwise."""
    name = f"aup_mitm_stand_in-{version}"
    module = (
        "import sys\n\n\ndef main():\n"
        "    if sys.argv[1:] == ['--version']:\n"
        f"        print('Mitmproxy: {version}')\n        print('Python:    stand-in')\n        return 0\n"
        "    print('stand-in mitmdump cannot ' + ' '.join(sys.argv[1:3]), file=sys.stderr)\n"
        "    return 1\n"
    )
    files = {
        "aup_mitm_stand_in.py": module,
        f"{name}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: aup-mitm-stand-in\nVersion: {version}\n",
        f"{name}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{name}.dist-info/entry_points.txt": "[console_scripts]\nmitmdump = aup_mitm_stand_in:main\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{name}.dist-info/RECORD"] = "\n".join([*record, f"{name}.dist-info/RECORD,,"]) + "\n"
    wheel = where / f"{name}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def invoke(args: list[str], env: dict[str, str | None], stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["record", *args], env=env, input=stdin)


def test_without_mitmproxy_a_non_interactive_record_refuses_in_one_line_naming_the_flag(
    tmp_path: Path, bare: dict[str, str | None]
) -> None:
    cache = Path(str(bare["AUP_CACHE_DIR"]))
    half = cache / "mitmproxy-11.0.2" / "bin"  # a build that never finished (no marker) is not used
    half.mkdir(parents=True)
    (half / "mitmdump").write_text("#!/bin/sh\nexit 0\n")
    (half / "mitmdump").chmod(0o755)
    har = tmp_path / "capture.har"
    har.write_text(json.dumps(har_document()))
    live = ["--upstream", "http://127.0.0.1:1/scim/v2", "--out", str(tmp_path / "a.jsonl")]
    for args in (live, ["--from", str(har), "--out", str(tmp_path / "b.jsonl")]):
        result = invoke(args, bare)
        assert result.exit_code == 2, result.output
        (line,) = result.output.splitlines()
        assert line.startswith("Error: mitmproxy 11.0.2 is not installed") and "--setup-mitmproxy" in line
        assert str(cache) in line
    assert env_files(cache) == ["mitmproxy-11.0.2"] and not list(tmp_path.glob("*.jsonl"))


def test_usage_without_a_mode_or_an_out_file_is_exit_2_and_names_the_standalone_setup(
    tmp_path: Path, bare: dict[str, str | None]
) -> None:
    neither = invoke(["--setup-mitmproxy", "--out", str(tmp_path / "x.jsonl")], bare)
    assert neither.exit_code == 2 and "--setup-mitmproxy alone" in neither.output
    no_out = invoke(["--upstream", "http://127.0.0.1:1"], bare)
    assert no_out.exit_code == 2 and "--out" in no_out.output
    assert env_files(Path(str(bare["AUP_CACHE_DIR"]))) == []


def test_on_a_terminal_no_to_the_question_creates_nothing_and_exits_2(
    tmp_path: Path, bare: dict[str, str | None]
) -> None:
    """A real terminal (a pty), so the command itself decides it may ask."""
    env = {name: value for name, value in os.environ.items() if name != "AUP_MITMDUMP"}
    env.update({name: value for name, value in bare.items() if value is not None})
    args = ["record", "--upstream", "http://127.0.0.1:1/scim/v2", "--out", str(tmp_path / "x.jsonl")]
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aup", *args], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT
    )
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        answered = False
        while time.monotonic() < deadline:
            if not answered and b"[y/N]" in seen:
                os.write(master, b"n\n")
                answered = True
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        code = proc.wait(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = seen.decode().replace("\r\n", "\n")
    assert PROMPT.format(bare["AUP_CACHE_DIR"]) in text
    assert code == 2, text
    assert text.splitlines()[-1].startswith("Error: recording needs mitmproxy 11.0.2") and "--setup-mitmproxy" in text
    assert env_files(Path(str(bare["AUP_CACHE_DIR"]))) == []


@pytest.mark.slow
def test_yes_to_the_question_creates_the_environment_in_the_cache_and_runs_its_mitmdump(
    tmp_path: Path, bare: dict[str, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = stand_in_wheel(tmp_path)
    real = mitm_env.provision
    made: list[Path] = []

    def provision_stand_in(target: Path, log: object = None) -> bool:
        made.append(target)
        return real(target, (str(wheel),), log=print)

    monkeypatch.setattr(record_command, "_interactive", lambda: True)
    monkeypatch.setattr(mitm_env, "provision", provision_stand_in)
    har = tmp_path / "capture.har"
    har.write_text(json.dumps(har_document()))
    result = invoke(["--from", str(har), "--out", str(tmp_path / "a.jsonl")], bare, stdin="y\n")
    cache = Path(str(bare["AUP_CACHE_DIR"]))
    assert PROMPT.format(cache) in result.output
    assert made == [cache / "mitmproxy-11.0.2"]
    assert result.exit_code == 2 and "stand-in mitmdump cannot -s" in result.output  # its mitmdump ran
    assert mitm_env.ready_mitmdump(cache / "mitmproxy-11.0.2") is not None


def test_an_environment_in_the_cache_is_used_before_path(
    tmp_path: Path, bare: dict[str, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment tox provisioned, linked into an otherwise empty cache, with a decoy mitmdump on PATH."""
    provisioned = os.environ.get("AUP_MITMDUMP")
    if not provisioned:
        pytest.skip("AUP_MITMDUMP is not set (tox sets it to the mitmproxy 11.0.2 environment it provisions)")
    cache = Path(str(bare["AUP_CACHE_DIR"]))
    cache.mkdir()
    (cache / "mitmproxy-11.0.2").symlink_to(Path(provisioned).parents[1], target_is_directory=True)
    decoy = Path(str(bare["PATH"])) / "mitmdump"
    decoy.write_text("#!/bin/sh\necho decoy; exit 3\n")
    decoy.chmod(0o755)
    for name, value in bare.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert record_command.find_mitmdump(None) == str(cache / "mitmproxy-11.0.2" / "bin" / "mitmdump")

    har = tmp_path / "capture.har"
    har.write_text(json.dumps(har_document()))
    conf = ["--confdir", str(tmp_path / "mitmconf")]
    result = invoke(["--from", str(har), "--out", str(tmp_path / "a.jsonl"), *conf], bare)
    assert result.exit_code == 0, result.output
    assert [ex.url for ex in read_cassette(tmp_path / "a.jsonl")] == ["/scim/v2/Users"]


@pytest.mark.slow
def test_provisioning_publishes_a_verified_environment_atomically_and_only_once(tmp_path: Path) -> None:
    wheel = stand_in_wheel(tmp_path)
    cache = tmp_path / "cache"
    target = cache / "mitmproxy-11.0.2"
    (target / "bin").mkdir(parents=True)  # left by an interrupted in-place build: no marker
    (cache / ".mitmproxy-11.0.2.env-crashed").mkdir()  # a temporary build whose process was killed

    assert mitm_env.provision(target, (str(wheel),)) is True
    assert target.is_symlink() and target.resolve().parent == cache.resolve()
    assert target.resolve().name.startswith(".mitmproxy-11.0.2.env-")
    assert (target / ".aup-provisioned").read_text() == f"{wheel}\n"
    exe = mitm_env.ready_mitmdump(target)
    assert exe is not None
    shown = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert shown.stdout.startswith("Mitmproxy: 11.0.2")
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [".mitmproxy-11.0.2.lock", target.name, target.resolve().name]
    )  # the half-built leftovers were swept
    assert mitm_env.provision(target, (str(wheel),)) is False  # already there: nothing is rebuilt

    wrong = stand_in_wheel(tmp_path, "9.9.9")
    before = target.resolve()
    with pytest.raises(mitm_env.ProvisionError, match=r"reports 'Mitmproxy: 9\.9\.9', not mitmproxy 11\.0\.2"):
        mitm_env.provision(target, (str(wrong),))
    assert target.resolve() == before and mitm_env.ready_mitmdump(target) is not None  # the good one stays
    assert len([p for p in cache.iterdir() if p.name.startswith(".mitmproxy-11.0.2.env-")]) == 1


@pytest.mark.slow
def test_two_concurrent_creators_build_one_environment(tmp_path: Path) -> None:
    wheel = stand_in_wheel(tmp_path)
    target = tmp_path / "cache" / "mitmproxy-11.0.2"
    script = (
        "import sys\nfrom pathlib import Path\nfrom aup import mitm_env\n"
        "print(mitm_env.provision(Path(sys.argv[1]), (sys.argv[2],), log=print))\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(target), str(wheel)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=240)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    results = sorted(output.strip().splitlines()[-1] for output in outputs)
    assert results == ["False", "True"], outputs
    assert any("waiting for another process" in output for output in outputs), outputs
    assert mitm_env.ready_mitmdump(target) is not None
    builds = [p for p in target.parent.iterdir() if p.name.startswith(".mitmproxy-11.0.2.env-")]
    assert builds == [target.resolve()]


def test_cache_directory_follows_aup_cache_dir_then_xdg_then_home() -> None:
    home = Path.home()
    assert mitm_env.cache_dir({"AUP_CACHE_DIR": "/c/aup", "XDG_CACHE_HOME": "/x"}) == Path("/c/aup")
    assert mitm_env.cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/aup")
    assert mitm_env.cache_dir({"AUP_CACHE_DIR": "", "XDG_CACHE_HOME": ""}) == home / ".cache" / "aup"
    assert mitm_env.default_env({"AUP_CACHE_DIR": "/c"}) == Path("/c/mitmproxy-11.0.2")


@pytest.mark.slow
def test_setup_mitmproxy_alone_creates_the_real_environment_then_finds_it(
    tmp_path: Path, bare: dict[str, str | None]
) -> None:
    """The real pip install of mitmproxy 11.0.2 (about 30 s here with pip's cache warm)."""
    created = invoke(["--setup-mitmproxy"], bare)
    cache = Path(str(bare["AUP_CACHE_DIR"]))
    exe = cache / "mitmproxy-11.0.2" / "bin" / "mitmdump"
    assert created.exit_code == 0, created.output
    assert created.output.splitlines()[-1] == f"mitmproxy 11.0.2 is ready: {exe}"
    shown = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True, timeout=120)
    assert "Mitmproxy: 11.0.2" in shown.stdout
    again = invoke(["--setup-mitmproxy"], bare)
    assert again.exit_code == 0 and again.output == f"mitmproxy 11.0.2 is ready: {exe}\n"
