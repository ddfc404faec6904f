"""Small real HTTP servers on a loopback port that answer the wrong things on purpose: an HTML login page, a
redirect, a server that never answers, a SCIM server whose writes fail. Each runs in a thread of the test and
is shut down by it."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from scimcore import urns

Answer = tuple[int, dict[str, str], bytes]
Handler = Callable[[str, str, bytes], Answer]


def scim_json(status: int, body: Any) -> Answer:
    return status, {"Content-Type": urns.MEDIA_TYPE}, json.dumps(body).encode()


def scim_error(status: int, detail: str) -> Answer:
    return scim_json(status, {"schemas": [urns.ERROR], "status": str(status), "detail": detail})


def empty_list() -> Answer:
    return scim_json(200, {"schemas": [urns.LIST_RESPONSE], "totalResults": 0, "startIndex": 1, "Resources": []})


SPC = {"schemas": [urns.SERVICE_PROVIDER_CONFIG], "patch": {"supported": True}, "filter": {"supported": True}}
HTML_LOGIN = (200, {"Content-Type": "text/html"}, b"<!doctype html><html><body><form>Sign in</form></body></html>")


@contextmanager
def serve(handler: Handler, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` (``https`` with ``tls``) answering every request with ``handler(method, path,
    body)``; stopped on exit."""

    class Handle(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = handler(self.command, self.path, body)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def silent() -> Iterator[str]:
    """A port that accepts connections and never answers (for timeouts)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


def closed_port() -> str:
    """A loopback URL nothing listens on (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
