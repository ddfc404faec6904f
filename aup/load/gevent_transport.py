"""An httpx transport on geventhttpclient, the HTTP engine of Locust's ``FastHttpUser``: under ``aup load`` the
emulators keep their httpx clients (their headers, bodies, auth and 429 handling are unchanged) while the bytes go
through the cheaper engine. httpx's own connection layer costs about three times as much CPU per request
(bench/RESULTS.md §13), which on a load machine is throughput lost.

Only for a process gevent has patched (aup/launch.py). Errors become httpx's, so the emulators treat a refused
connection or a timeout exactly as they do over httpx's own transport.
"""

from __future__ import annotations

import ssl
from http.client import HTTPException

import httpx
from geventhttpclient import HTTPClient
from geventhttpclient.header import Headers

CONNECTIONS_PER_HOST = 16  # Entra sends a group's membership PATCHes concurrently (docs/entra-idp.md §3.5)


class GeventTransport(httpx.BaseTransport):
    def __init__(self, *, verify: bool, timeout: float) -> None:
        self.verify = verify
        self.timeout = timeout
        self._clients: dict[tuple[str, str, int | None], HTTPClient] = {}

    def _client(self, url: httpx.URL) -> HTTPClient:
        key = (url.scheme, url.host, url.port)
        client = self._clients.get(key)
        if client is None:
            client = HTTPClient(
                url.host,
                port=url.port,
                ssl=url.scheme == "https",
                insecure=not self.verify,
                connection_timeout=self.timeout,
                network_timeout=self.timeout,
                concurrency=CONNECTIONS_PER_HOST,
            )
            client.default_headers = Headers()  # only what the emulator sends: no User-Agent of its own
            self._clients[key] = client
        return client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        client = self._client(request.url)
        headers = Headers()
        for name, value in request.headers.raw:
            headers.add(name.decode("latin-1"), value.decode("latin-1"))
        target = request.url.raw_path.decode("ascii")
        try:
            answer = client.request(request.method, target, body=request.read(), headers=headers)
            try:
                content = answer.read()
            finally:
                answer.release()
        except TimeoutError as exc:
            raise httpx.ReadTimeout(f"{type(exc).__name__}: {exc}", request=request) from exc
        except HTTPException as exc:  # geventhttpclient's: the connection closed before or inside an answer
            raise httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}", request=request) from exc
        except ssl.SSLError as exc:
            raise httpx.ConnectError(f"TLS: {exc}", request=request) from exc
        except ConnectionRefusedError as exc:
            raise httpx.ConnectError(f"{type(exc).__name__}: {exc}", request=request) from exc
        except OSError as exc:
            raise httpx.ReadError(f"{type(exc).__name__}: {exc}", request=request) from exc
        # geventhttpclient has read the body whole and undone any chunked framing: the Content-Length is the body's
        fields = [(name, value) for name, value in answer.items() if name.lower() != "transfer-encoding"]
        return httpx.Response(answer.status_code, headers=fields, content=content, request=request)

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
