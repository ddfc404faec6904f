"""Figure 1, the framework floor: a no-op Flask JSON endpoint through the same httpx client and transports.

In process it goes through ``httpx.WSGITransport``, as the emulators reach the embedded server; over
loopback it is served by the same waitress runner as ``aup serve`` (``python -m bench.floor``), in its
own process. No SCIM server can answer faster than this, so it is what our figures are divided by.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import httpx
from flask import Flask, Response

from bench.common import CountingTransport, server_process, throughput
from scimcore import urns
from scimcore.client import IN_PROCESS_BASE_URL
from scimcore.target import Bearer, Target

FLOOR_PATH = "/scim/v2/ping"


def create_floor_app() -> Flask:
    """A Flask app with one endpoint that does nothing but answer a small SCIM JSON body."""
    app = Flask(__name__)

    @app.get(FLOOR_PATH)
    def ping() -> Response:
        return Response('{"ok":true}', content_type=urns.MEDIA_TYPE)

    return app


def in_process_client() -> httpx.Client:
    """The emulators' client shape: ``make_http`` over a WSGI app, through a counting transport."""
    transport = CountingTransport(httpx.WSGITransport(app=create_floor_app()))
    return Target(IN_PROCESS_BASE_URL, Bearer("floor"), app=transport).http()


def rate(client: httpx.Client, requests: int) -> float:
    """Requests per second of the no-op endpoint."""
    return throughput(lambda _: client.get(FLOOR_PATH).raise_for_status(), requests)


@contextmanager
def loopback_server() -> Iterator[str]:
    """The floor app served by waitress in its own process; yields its base URL."""
    cmd = [sys.executable, "-m", "bench.floor"]
    root = Path(__file__).resolve().parents[1]  # bench is run from the checkout, not installed
    with server_process(cmd, r"floor serving on (?P<url>http://\S+)", cwd=root) as server:
        yield server.match.group("url")


def loopback_client(base_url: str) -> httpx.Client:
    return Target(base_url, Bearer("floor"), app=CountingTransport(httpx.HTTPTransport())).http()


@click.command()
@click.option("--port", default=0, show_default=True, type=click.IntRange(0, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="As `aup serve`.")
def main(port: int, threads: int) -> None:
    """Serve the floor app on loopback with the runner `aup serve` uses."""
    from aup.serve import run_server  # noqa: PLC0415 - waitress only when serving

    def ready(host: str, bound: int) -> None:
        click.echo(f"floor serving on http://{host}:{bound}", nl=True)

    app: Any = create_floor_app()
    run_server(app, "127.0.0.1", port, threads, ready)


if __name__ == "__main__":
    main()
