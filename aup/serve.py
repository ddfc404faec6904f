"""Run the SCIM server under waitress (threaded, production WSGI) until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from waitress.server import create_server


def run_server(app: Any, host: str, port: int, threads: int, on_ready: Callable[[str, int], None]) -> None:
    """Serve ``app`` and return after a clean shutdown; ``on_ready`` gets the bound host and port."""
    server = create_server(app, host=host, port=port, threads=threads, ident="aup")

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        on_ready(host, int(server.effective_port))  # type: ignore[union-attr]
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sys.stdout.flush()
