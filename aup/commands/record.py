"""``aup record``: capture real IdP traffic to a cassette through mitmproxy, or convert a saved capture.

mitmproxy lives in its own environment (its pinned dependencies would downgrade the project's), so this
command never imports it: it runs ``mitmdump`` as a process with the recorder addon of the ``recording``
package, located by file without importing it. That environment is found, or made on request, by
``aup.mitm_env``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import click

from aup import mitm_env
from aup.commands.exits import UsageProblem
from emulators.registry import idps
from scimcore.process import ExitedError, NotReadyError, Process

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
_LISTENING = re.compile(r"listening at .*?:(\d+)\.?\s*$")
# mitmdump's per-connection log lines; everything else it prints (warnings, errors) is passed on.
_CHATTER = re.compile(r"\] ?(client|server) (connect|disconnect)")
_VERSION = mitm_env.MITMPROXY_VERSION


def _listen(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise click.BadParameter(f"{value!r} is not HOST:PORT (e.g. 127.0.0.1:8081, [::1]:0)")
    return host, int(port)


def _reverse_target(upstream: str) -> tuple[str, str]:
    """mitmproxy's reverse-mode spec (scheme://host:port, no path) and the upstream's base path."""
    parts = urlsplit(upstream)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1 or parts.query:
        raise click.BadParameter(f"{upstream!r} is not an http(s) base URL such as https://scim.example.com/scim/v2")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    return f"reverse:{parts.scheme}://{host}:{port}", parts.path.rstrip("/")


def _interactive() -> bool:
    return sys.stdin.isatty()


def find_mitmdump(given: str | None, setup: bool = False) -> str:
    """The mitmdump to run: ``--mitmdump``/``AUP_MITMDUMP``, else the one in aup's cache, else ``mitmdump`` on
    PATH, else one created in aup's cache now (``--setup-mitmproxy``, or yes on the terminal)."""
    if given:
        found = shutil.which(given)
        if not found:
            raise UsageProblem(
                f"{given!r} is not an executable: point --mitmdump (or AUP_MITMDUMP) at mitmproxy {_VERSION}'s "
                "mitmdump, or leave both unset and pass --setup-mitmproxy"
            )
        return found
    env = mitm_env.default_env()
    cached = mitm_env.ready_mitmdump(env)
    if cached is not None:
        return str(cached)
    found = shutil.which("mitmdump")
    if found:
        return found
    if not setup:
        if not _interactive():
            raise UsageProblem(
                f"mitmproxy {_VERSION} is not installed: pass --setup-mitmproxy to create it in {env.parent}, "
                "or --mitmdump PATH"
            )
        question = f"mitmproxy {_VERSION} is not installed; create it in {env.parent} now?"
        if not click.confirm(question, default=False, err=True):
            raise UsageProblem(
                f"recording needs mitmproxy {_VERSION}: run aup record --setup-mitmproxy, or pass --mitmdump PATH"
            )
    return str(_setup(env))


def _setup(env: Path) -> Path:
    """Create (or find) mitmproxy's virtualenv at ``env``; its mitmdump."""
    try:
        mitm_env.provision(env, log=lambda message: click.echo(message, err=True))
    except (mitm_env.ProvisionError, OSError) as exc:
        raise UsageProblem(f"cannot set up mitmproxy {_VERSION}: {exc}") from None
    return mitm_env.mitmdump_in(env)


def addon_file() -> Path:
    """The recorder addon shipped in the ``recording`` package, found without importing it (it needs mitmproxy)."""
    spec = importlib.util.find_spec("recording")
    locations = list(spec.submodule_search_locations or ()) if spec else []
    addon = Path(locations[0]) / "recorder.py" if locations else None
    if addon is None or not addon.is_file():
        raise UsageProblem("the recording addon is missing from this installation; reinstall aup-harness")
    return addon


def agent_labels() -> str:
    """The IdP registry's User-Agent words as the recorder's ``aup_labels`` option: ``okta=okta;entra=azure,...``."""
    return ";".join(f"{spec.name}={','.join(spec.agent_marks)}" for spec in idps() if spec.agent_marks)


def _mitmdump_args(
    mitmdump: str, out: Path, redact: tuple[str, ...], source: str | None, confdir: Path | None
) -> list[str]:
    args = [mitmdump, "-s", str(addon_file()), "--set", f"aup_cassette={out}", "--set", "flow_detail=0"]
    args += ["--set", f"aup_labels={agent_labels()}"]
    for name in redact:
        args += ["--set", f"aup_redact={name}"]
    if source:
        args += ["--set", f"aup_source={source}"]
    if confdir is not None:
        args += ["--set", f"confdir={confdir}"]
    return args


@click.command()
@click.option("--upstream", help="Base URL of your SCIM endpoint, e.g. https://scim.example.com/scim/v2.")
@click.option(
    "--listen",
    default="127.0.0.1:8081",
    show_default=True,
    callback=_listen,
    help="HOST:PORT the IdP connects to (port 0 picks a free one).",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Cassette to write (required).")
@click.option("--append", is_flag=True, help="Add to an existing cassette instead of refusing to touch it.")
@click.option(
    "--from",
    "from_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Convert a saved mitmproxy flow file or HAR file instead of proxying.",
)
@click.option(
    "--redact",
    "redact_names",
    multiple=True,
    help="Also redact this header, JSON field or query parameter (repeatable); Authorization, cookies and "
    "password are always redacted.",
)
@click.option("--source", help="Label for every exchange [default: from the User-Agent: okta, entra, other].")
@click.option(
    "--mitmdump",
    envvar="AUP_MITMDUMP",
    help=f"mitmdump of mitmproxy {_VERSION} [env AUP_MITMDUMP; default: aup's cache, then PATH].",
)
@click.option(
    "--setup-mitmproxy",
    is_flag=True,
    help=f"Create mitmproxy {_VERSION}'s virtualenv in aup's cache if it is needed, without asking; "
    "alone, just create it and say where.",
)
@click.option(
    "--confdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="mitmproxy's configuration and CA directory [default: ~/.mitmproxy].",
)
@click.option("--upstream-insecure", is_flag=True, help="Accept an upstream TLS certificate that does not verify.")
def record(
    upstream: str | None,
    listen: tuple[str, int],
    out: Path | None,
    append: bool,
    from_file: Path | None,
    redact_names: tuple[str, ...],
    source: str | None,
    mitmdump: str | None,
    setup_mitmproxy: bool,
    confdir: Path | None,
    upstream_insecure: bool,
) -> None:
    """Record the SCIM traffic an IdP sends to --upstream, redacted, until Ctrl-C; or convert --from FILE."""
    if setup_mitmproxy and upstream is None and from_file is None and out is None:
        env = mitm_env.default_env()
        click.echo(f"mitmproxy {_VERSION} is ready: {_setup(env)}")
        return
    if (upstream is None) == (from_file is None):
        raise click.UsageError(
            "give either --upstream URL (record live) or --from FILE (convert a capture); "
            "or --setup-mitmproxy alone to only create mitmproxy's environment"
        )
    if out is None:
        raise click.UsageError("missing option --out FILE (the cassette to write)")
    if out.exists() and not append:
        raise UsageProblem(f"{out} exists; pass --append to add to it, or choose another --out")
    if not out.parent.is_dir():
        raise UsageProblem(f"directory {out.parent} does not exist")
    mode = _reverse_target(upstream)[0] if upstream else None
    args = _mitmdump_args(find_mitmdump(mitmdump, setup_mitmproxy), out, redact_names, source, confdir)
    if from_file is not None:
        _convert(args, from_file, out)
        return
    assert upstream is not None and mode is not None
    host, port = listen
    args += ["--mode", mode, "--listen-host", host, "--listen-port", str(port)]
    if upstream_insecure:
        args += ["--set", "ssl_insecure=true"]
    existed = out.exists()
    try:
        _run_proxy(args, upstream, out)
    except UsageProblem:
        if not existed and out.exists() and out.stat().st_size == 0:
            out.unlink()  # mitmdump opened it, then failed: leave nothing behind
        raise


def _convert(args: list[str], from_file: Path, out: Path) -> None:
    """Run mitmdump over the file with the recorder; the cassette appears whole or not at all."""
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    os.close(fd)
    partial = Path(name)
    try:
        args[args.index(f"aup_cassette={out}")] = f"aup_cassette={partial}"
        done = subprocess.run(  # noqa: S603 - our own argument list, no shell
            [*args, "-n", "-r", str(from_file)], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
        )
        if done.returncode != 0:
            raise UsageProblem(f"cannot convert {from_file}: {_reason(done.stdout + done.stderr)}")
        text = partial.read_text(encoding="utf-8")
        with out.open("a", encoding="utf-8") as target:
            target.write(text)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"wrote {text.count(chr(10))} exchange(s) from {from_file} to {out}")


def _reason(output: str) -> str:
    """mitmdump's own one-line reason, without its traceback."""
    lines = [line.split("] ", 1)[-1].strip() for line in output.splitlines() if line.startswith("[")]
    failed = [line for line in lines if "fail" in line.lower() or "error" in line.lower() or "cannot" in line.lower()]
    return (failed or lines or [output.strip() or "mitmdump failed"])[-1]


def _run_proxy(args: list[str], upstream: str, out: Path) -> None:
    """Start mitmdump in its own session (so Ctrl-C reaches it once, from us), report where it listens, wait."""
    proc = Process.start(args, new_session=True)
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        if not stopping.is_set() and proc.poll() is None:
            stopping.set()
            os.kill(proc.pid, signal.SIGINT)  # mitmdump shuts down cleanly and closes the cassette

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        port = _await_listening(proc, stopping)
        host, listen_port = args[args.index("--listen-host") + 1], port
        shown = f"[{host}]" if ":" in host else host
        base_path = _reverse_target(upstream)[1]
        click.echo(f"recording to {out}; forwarding to {upstream}")
        click.echo(f"point the IdP at http://{shown}:{listen_port}{base_path} (Ctrl-C stops)", nl=True)
        while (line := proc.next_line()) is not None:
            if not _CHATTER.search(line):
                click.echo(f"mitmdump: {line}", err=True)
        code = proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.stop(signum=signal.SIGKILL, timeout=STOP_TIMEOUT_S)
        raise UsageProblem("mitmdump did not stop; the cassette keeps every exchange written so far") from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        # still running after an error before the proxy came up: do not leave it behind
        proc.stop(signum=signal.SIGINT, timeout=STOP_TIMEOUT_S)
    if code != 0 and not stopping.is_set():
        raise UsageProblem(f"mitmdump exited with status {code}")
    count = sum(1 for text in out.read_text(encoding="utf-8").splitlines() if text.strip()) if out.exists() else 0
    click.echo(f"stopped; {out} holds {count} exchange(s)")


def _await_listening(proc: Process, stopping: threading.Event) -> int:
    """The port mitmdump listens on, from its startup line; its own error if it fails to start."""
    try:
        return int(proc.wait_for(_LISTENING, timeout=START_TIMEOUT_S).group(1))
    except ExitedError as exc:
        proc.wait(timeout=STOP_TIMEOUT_S)
        if stopping.is_set():
            raise UsageProblem("stopped before mitmdump was ready; nothing was recorded") from None
        raise UsageProblem(f"mitmdump did not start: {_reason(chr(10).join(exc.output))}") from None
    except NotReadyError:
        raise UsageProblem(f"mitmdump did not start within {START_TIMEOUT_S:.0f} s") from None
