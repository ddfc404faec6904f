"""Make the separate virtualenv mitmproxy runs in, once: ``python tests/recording/provision.py DIR``.

mitmproxy 11.0.2 is the last release for Python 3.11 and pins flask<=3.1.0 and h11<=0.14.0, so it
never shares the project's environment (reference/toolchain.md §1). Idempotent, and safe when tox
runs envs in parallel: a lock file serialises provisioning, a marker records what was installed.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
import venv
from pathlib import Path

PINS = ("mitmproxy==11.0.2", "pytest>=9,<10", "pytest-timeout>=2.3,<3")


def provision(target: Path) -> bool:
    """Create ``target`` with PINS unless it already has them; True when something was installed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    marker = target / ".aup-provisioned"
    wanted = "\n".join(PINS) + "\n"
    with (target.parent / f".{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file() and marker.read_text() == wanted and (target / "bin" / "mitmdump").is_file():
            return False
        venv.EnvBuilder(with_pip=True, clear=True).create(target)
        pip = [str(target / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *PINS], check=True)
        marker.write_text(wanted)
        return True


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: provision.py DIR")
    made = provision(Path(sys.argv[1]))
    print(f"mitmproxy environment {'created' if made else 'ready'}: {sys.argv[1]}")
