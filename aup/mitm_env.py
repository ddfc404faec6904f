"""mitmproxy's own virtualenv, which ``aup record`` runs ``mitmdump`` from: found in, or created once into, a cache.

mitmproxy 11.0.2 is the last release for Python 3.11 and pins an older Flask and h11, so it never shares aup's
environment. :func:`provision` makes such a virtualenv with this interpreter's ``venv`` module and pip, checks
that ``mitmdump --version`` reports the expected release, and only then publishes it under its final name:

- the virtualenv is built in a new directory next to the target (``.mitmproxy-11.0.2.env-XXXX``) that never
  moves afterwards (its scripts' ``#!`` lines name it), and the target itself becomes a symbolic link to it,
  put in place by an atomic rename. A build that fails or is interrupted is never reachable by the target name;
  the next provisioning sweeps it away.
- a lock file next to the target serialises creators: a second one waits, then finds the work done.
- a marker file in the virtualenv lists what was installed; it is written last, so an environment without it
  is not finished and is not used.

Only the standard library is used here: ``tests/recording/provision.py`` loads this module in tox environments
where aup's dependencies are not installed.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import tempfile
import venv
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

MITMPROXY_VERSION = "11.0.2"
MITMPROXY_SPEC = f"mitmproxy=={MITMPROXY_VERSION}"
ENV_NAME = f"mitmproxy-{MITMPROXY_VERSION}"
MARKER = ".aup-provisioned"
VERIFY_TIMEOUT_S = 120.0


class ProvisionError(Exception):
    """The virtualenv could not be made; the message is one line, and nothing half-built was left in place."""


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """aup's per-user cache: ``$AUP_CACHE_DIR``, else ``$XDG_CACHE_HOME/aup``, else ``~/.cache/aup``."""
    env = os.environ if environ is None else environ
    if env.get("AUP_CACHE_DIR"):
        return Path(env["AUP_CACHE_DIR"]).expanduser()
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]).expanduser() / "aup"
    return Path.home() / ".cache" / "aup"


def default_env(environ: Mapping[str, str] | None = None) -> Path:
    """Where ``aup record`` keeps mitmproxy's virtualenv: ``<cache>/mitmproxy-11.0.2``."""
    return cache_dir(environ) / ENV_NAME


def mitmdump_in(env: Path) -> Path:
    return env / "bin" / "mitmdump"


def ready_mitmdump(env: Path) -> Path | None:
    """The environment's mitmdump if it is a finished provisioning, else None."""
    exe = mitmdump_in(env)
    return exe if (env / MARKER).is_file() and os.access(exe, os.X_OK) else None


def provision(
    target: Path,
    packages: Sequence[str] = (MITMPROXY_SPEC,),
    *,
    version: str = MITMPROXY_VERSION,
    log: Callable[[str], None] | None = None,
) -> bool:
    """Make ``target`` a virtualenv holding ``packages`` unless it already does; True when it was (re)built.

    ``packages`` are pip requirements (the first must provide a ``mitmdump`` whose ``--version`` reports
    ``version``). Raises :class:`ProvisionError` when pip or the check fails.
    """
    say = log or (lambda message: None)
    target = Path(os.path.abspath(target))  # absolute, but a link is not resolved
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    wanted = "\n".join(packages) + "\n"
    with (parent / f".{target.name}.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for another process that is creating {target}")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed(target) == wanted and ready_mitmdump(target):
            return False
        say(f"creating {target} (pip install {' '.join(packages)}; this takes a minute or so)")
        build = Path(tempfile.mkdtemp(prefix=f".{target.name}.env-", dir=parent))
        try:
            _build(build, packages, version)
            (build / MARKER).write_text(wanted)
            _publish(build, target)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
        _sweep(target)
        return True


def _installed(env: Path) -> str | None:
    try:
        return (env / MARKER).read_text()
    except OSError:
        return None


def _build(build: Path, packages: Sequence[str], version: str) -> None:
    try:
        venv.EnvBuilder(with_pip=True).create(build)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ProvisionError(f"cannot create a virtualenv in {build}: {exc}") from None
    pip = [str(build / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    done = subprocess.run([*pip, *packages], check=False, stdin=subprocess.DEVNULL)  # noqa: S603 - no shell
    if done.returncode != 0:
        raise ProvisionError(f"pip could not install {' '.join(packages)} (exit status {done.returncode})")
    exe = mitmdump_in(build)
    try:
        shown = subprocess.run(  # noqa: S603 - no shell
            [str(exe), "--version"], capture_output=True, text=True, timeout=VERIFY_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProvisionError(f"{exe} --version did not run: {exc}") from None
    if not re.search(rf"^Mitmproxy:\s*{re.escape(version)}\s*$", shown.stdout, re.MULTILINE):
        said = (shown.stdout + shown.stderr).strip().splitlines()
        raise ProvisionError(f"{exe} --version reports {said[0] if said else 'nothing'!r}, not mitmproxy {version}")


def _publish(build: Path, target: Path) -> None:
    """Point ``target`` at ``build`` with one atomic rename (called under the lock)."""
    link = target.with_name(f".{target.name}.link-{os.getpid()}")
    link.unlink(missing_ok=True)
    link.symlink_to(build.name)
    if target.is_dir() and not target.is_symlink():  # a virtualenv built in place by an older aup
        target.rename(target.with_name(f".{target.name}.env-old-{os.getpid()}"))
    os.replace(link, target)


def _sweep(target: Path) -> None:
    """Remove the builds the target no longer points at, and those of interrupted runs (under the lock)."""
    current = target.resolve()
    for stale in target.parent.glob(f".{target.name}.env-*"):
        if stale.resolve() != current and stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
