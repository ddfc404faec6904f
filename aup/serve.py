"""Run the SCIM server under waitress (threaded, production WSGI) until SIGINT or SIGTERM."""

from __future__ import annotations

import ctypes
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from waitress.server import create_server

_M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)
MALLOC_ARENAS = 2


def limit_malloc_arenas(count: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas before the worker threads start; False where there is no glibc mallopt.

    glibc gives each thread its own arena and keeps what a thread freed there, so after each of the 8
    workers has served one full 50k-member group the server holds ~9 MB more per thread (measured in
    bench/RESULTS.md). Python threads take turns on the GIL, so fewer arenas cost no parallelism.
    """
    try:
        return bool(ctypes.CDLL(None).mallopt(_M_ARENA_MAX, count))
    except (OSError, AttributeError):
        return False


def run_server(app: Any, host: str, port: int, threads: int, on_ready: Callable[[str, int], None]) -> None:
    """Serve ``app`` and return after a clean shutdown; ``on_ready`` gets the bound host and port."""
    limit_malloc_arenas()
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
