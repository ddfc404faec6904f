"""Run the SCIM server under waitress (threaded, production WSGI) until SIGINT or SIGTERM.

Waitress reads every request whole on its one I/O thread before a worker sees it, so slow clients cost
connection slots, not workers. The settings below keep those slots from running out (issue #17):

- ``connection_limit`` is 1,000 (waitress: 100), polled with ``poll(2)`` (``select(2)`` stops at 1,024
  descriptors), and the process's open-file limit is raised to fit;
- a request's header must arrive within ``HEADER_TIMEOUT_S`` and the whole request within
  ``REQUEST_TIMEOUT_S`` of its first byte, or the connection is closed: a client that dribbles a header
  line every few seconds never resets those clocks, as it does waitress's idle ``channel_timeout``;
- an idle connection (between requests) closes after ``channel_timeout``, and so does one whose answer
  has not moved for as long (the client stopped reading), even while a worker is still writing it;
- a body over the app's ``max_body_bytes`` is refused from its Content-Length before any of it is read,
  and a chunked one as soon as its count passes the limit; headers stop at ``MAX_HEADER_BYTES``;
- what waitress answers itself (malformed HTTP, a header or body too large, an unsupported
  Transfer-Encoding) is SCIM Error JSON (RFC 7644 §3.12) like every answer of the app, and closes the
  connection.
"""

from __future__ import annotations

import ctypes
import json
import resource
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask

from scimcore import urns

_M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)
MALLOC_ARENAS = 2

CONNECTION_LIMIT = 1000
HEADER_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 60.0
SWITCH_INTERVAL_S = 0.0005
IDLE_TIMEOUT_S = 30  # waitress ``channel_timeout``
CLEANUP_INTERVAL_S = 5  # how often idle connections are looked for
MAX_HEADER_BYTES = 64 * 1024  # request line and header fields (waitress: 256 KiB)
# Spare descriptors beyond the connection limit: the SQLite files, the listening socket, waitress's trigger.
_SPARE_FILES = 64


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


def raise_open_file_limit(wanted: int = CONNECTION_LIMIT + _SPARE_FILES) -> int:
    """Raise the soft RLIMIT_NOFILE towards ``wanted`` (never above the hard limit); returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


_REASONS = {
    400: "malformed HTTP request",
    413: "the request body is too large",
    431: "the request header is too large",
    501: "unsupported Transfer-Encoding",
}


class ScimErrorTask(ErrorTask):
    """Waitress's own error answers, as SCIM Error JSON instead of plain text; the connection then closes."""

    def execute(self) -> None:
        request: Any = self.request
        error: Any = request.error
        code = int(error.code)
        detail = f"{_REASONS.get(code, str(error.reason).lower())}: {error.body}"
        if code == 413:
            detail = f"the request body exceeds the {self.channel.server.adj.max_request_body_size - 1}-byte limit"
        elif code == 431:
            detail = f"the request line and header fields exceed the {MAX_HEADER_BYTES}-byte limit"
        body = {"schemas": [urns.ERROR], "status": str(code)}
        if code == 400:
            body["scimType"] = "invalidSyntax"
        body["detail"] = detail
        data = json.dumps(body).encode("utf-8")
        self.status = f"{code} {error.reason}"
        self.response_headers = [*self.response_headers, ("Content-Type", f"{urns.MEDIA_TYPE}; charset=utf-8")]
        self.set_close_on_finish()
        self.content_length = len(data)
        self.write(data)


class DeadlineChannel(HTTPChannel):
    """A connection that must deliver each request's header, and the whole request, within a deadline."""

    error_task_class = ScimErrorTask
    _reading: object = None  # the request being received
    _since = 0.0  # when its first byte arrived (the loop looks at least once a second)

    def readable(self) -> bool:
        if self.total_outbufs_len and time.time() - self.last_activity > IDLE_TIMEOUT_S and not self.will_close:
            # An answer that has not moved for that long: closing also frees a worker that waits for room
            # in the output buffer (an answer over waitress's 16 MB high watermark to a client not reading).
            self.will_close = True
        pending = self.request
        if pending is None:
            self._reading = None
        elif pending is not self._reading:
            self._reading, self._since = pending, time.monotonic()
        elif not self.will_close:
            waited = time.monotonic() - self._since
            if waited > REQUEST_TIMEOUT_S or (waited > HEADER_TIMEOUT_S and not pending.headers_finished):
                self.will_close = True  # closed without an answer: the client is not reading one
        return bool(super().readable())

    def writable(self) -> bool:
        # While a task runs, waitress reports the channel writable whenever its answer is buffered, yet sends
        # nothing below send_bytes and contends for the task's output lock above it, so the loop spins through
        # poll() until the task ends, taking the GIL from the very threads it waits for: under many concurrent
        # clients that spin was most of the server's CPU (bench/RESULTS.md §13). The task flushes what it writes
        # itself (write_soon); the loop sends the rest when ``service`` wakes it at the end, or at once when the
        # buffer passes the high watermark (a task waits for that).
        closing = self.will_close or self.close_when_flushed
        if self.requests and not closing and self.total_outbufs_len <= self.adj.outbuf_high_watermark:
            return False
        return bool(super().writable())

    def service(self) -> None:
        super().service()
        self.server.pull_trigger()  # the answer is complete: the loop sends it now (see ``writable``)


def server_settings(app: Any, threads: int) -> dict[str, Any]:
    """The waitress adjustments ``aup serve`` runs with (module docstring); the body limit is the app's."""
    state = getattr(app, "extensions", {}).get("aup")
    max_body = state.config.max_body_bytes if state is not None else 4 * 1024 * 1024
    return {
        "threads": threads,
        "ident": "aup",
        "connection_limit": CONNECTION_LIMIT,
        "asyncore_use_poll": True,
        "channel_timeout": IDLE_TIMEOUT_S,
        "cleanup_interval": CLEANUP_INTERVAL_S,
        "max_request_header_size": MAX_HEADER_BYTES,
        "max_request_body_size": max_body + 1,  # waitress refuses a body of this many bytes or more
    }


def run_server(app: Any, host: str, port: int, threads: int, on_ready: Callable[[str, int], None]) -> None:
    """Serve ``app`` and return after a clean shutdown; ``on_ready`` gets the bound host and port."""
    limit_malloc_arenas()
    # A long PATCH evaluation is pure Python on one worker; every other request needs the GIL many times, and
    # each time waits up to the switch interval (5 ms by default). 0.5 ms keeps them in milliseconds.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    raise_open_file_limit()
    server = create_server(app, host=host, port=port, **server_settings(app, threads))
    # One listening dispatcher per address (a MultiSocketServer's ``map`` when a name has IPv4 and IPv6).
    dispatchers: dict[Any, Any] = getattr(server, "map", None) or getattr(server, "_map", {})
    for dispatcher in list(dispatchers.values()):
        if hasattr(dispatcher, "channel_class"):
            dispatcher.channel_class = DeadlineChannel

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
