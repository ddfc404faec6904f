"""Make the separate virtualenv mitmproxy runs in, once: ``python tests/recording/provision.py DIR``.

mitmproxy 11.0.2 is the last release for Python 3.11 and pins flask<=3.1.0 and h11<=0.14.0, so it
never shares the project's environment. This is the provisioning ``aup record --setup-mitmproxy``
does (``aup/mitm_env.py``: atomic, and serialised by a lock file, so tox may run envs in parallel), with
pytest added for tox env ``mitm``. The module is loaded by file: env ``mitm`` does not install aup or its
dependencies.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PYTEST_PINS = ("pytest>=9,<10", "pytest-timeout>=2.3,<3")


def mitm_env() -> ModuleType:
    """``aup.mitm_env`` from this checkout, without importing the ``aup`` package's dependencies."""
    source = Path(__file__).resolve().parents[2] / "aup" / "mitm_env.py"
    spec = importlib.util.spec_from_file_location("aup_mitm_env", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def provision(target: Path) -> bool:
    """Create ``target`` with mitmproxy and the pytest pins unless it already has them; True when it was made."""
    env = mitm_env()
    made: bool = env.provision(target, (env.MITMPROXY_SPEC, *PYTEST_PINS), log=print)
    return made


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: provision.py DIR")
    try:
        made = provision(Path(sys.argv[1]))
    except Exception as exc:  # ProvisionError, OSError: one line, not a traceback
        sys.exit(f"cannot provision {sys.argv[1]}: {exc}")
    print(f"mitmproxy environment {'created' if made else 'ready'}: {sys.argv[1]}")
