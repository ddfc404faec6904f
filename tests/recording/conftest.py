"""The addon tests import mitmproxy, which lives only in its own environment (tox env ``mitm``).

Elsewhere they are not collected. The mitm env runs them with ``--noconftest`` so this file does not
apply there: if mitmproxy were missing in that env, the tests would fail to import instead of vanishing.
"""

import importlib.util

if importlib.util.find_spec("mitmproxy") is None:
    collect_ignore_glob = ["test_*.py"]
