"""The ``aup`` entry point. ``aup load`` runs on Locust, whose gevent must patch the standard library before
anything imports it (sockets, ssl, threads), so that command is recognised here, before the CLI is imported."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["load"]:
        try:
            from gevent import monkey  # noqa: PLC0415 - only ``aup load`` runs on gevent
        except ImportError:
            pass  # not installed: the command says which extra to install
        else:
            monkey.patch_all()
    from aup.cli import main as cli  # noqa: PLC0415 - after the patch

    cli()
