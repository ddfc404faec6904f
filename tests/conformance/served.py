"""A WSGI app served over real loopback HTTP for the CLI tests: started on a free port, stopped by the test."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server

WSGIApp = Callable[..., Iterable[bytes]]
STOP_TIMEOUT_S = 10.0


@contextmanager
def served(app: WSGIApp | Any) -> Iterator[str]:
    """``app`` on 127.0.0.1 (a free port, threaded); yields the base URL, then shuts the server down."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="cli-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=STOP_TIMEOUT_S)
