"""The WAN figure: ``aup conformance`` against a server one round trip of 50 ms away, sequential and in parallel,
with python-scim's scim2-tester through the same link beside it.

The link is a delay proxy on loopback: every chunk of bytes, in either direction, is forwarded after a fixed
one-way delay (half the round trip), in order. ``python -m bench --only wan`` runs it; ``scim2-tester`` is
measured when it is installed (``tox -e bench`` installs it).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from bench.common import aup_serve, expect
from conformance.model import Check
from conformance.runner import DEFAULT_JOBS, run
from conformance.suites import default_registry
from scimcore.target import Bearer, Target

RTT_S = 0.050
READ_SIZE = 65536
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
_REQUEST_LINE_END = b" HTTP/1.1\r\n"


class DelayProxy:
    """A TCP proxy on 127.0.0.1 that delays every chunk by ``one_way_s`` in each direction, keeping order.

    Runs its own event loop on a thread; ``stop`` closes the listener and every connection, bounded in time.
    ``requests`` counts HTTP/1.1 request lines sent upstream (the requests of a run).
    """

    def __init__(self, upstream_host: str, upstream_port: int, *, one_way_s: float) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.one_way_s = one_way_s
        self.port = 0
        self.requests = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="delay-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> DelayProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = future.result(timeout=START_TIMEOUT_S)
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=STOP_TIMEOUT_S)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=STOP_TIMEOUT_S)
        self._loop.close()

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coro: Any) -> None:
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        self._spawn(self._pipe(client_reader, up_writer, upstream=True))
        self._spawn(self._pipe(up_reader, client_writer, upstream=False))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, upstream: bool) -> None:
        """Read chunks as they come; each is written ``one_way_s`` after it was read, in order."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        sender = self._loop.create_task(self._send(queue, writer))
        try:
            while chunk := await reader.read(READ_SIZE):
                if upstream:
                    self.requests += chunk.count(_REQUEST_LINE_END)
                queue.put_nowait((time.monotonic() + self.one_way_s, chunk))
            queue.put_nowait((time.monotonic() + self.one_way_s, b""))  # end of stream, delayed like the data
            await sender
        except (ConnectionError, asyncio.CancelledError):
            sender.cancel()
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _send(self, queue: asyncio.Queue[tuple[float, bytes]], writer: asyncio.StreamWriter) -> None:
        while True:
            due, chunk = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not chunk:
                with contextlib.suppress(OSError):
                    writer.write_eof()
                return
            writer.write(chunk)
            await writer.drain()


@contextmanager
def delayed(base_url: str, *, rtt_s: float = RTT_S) -> Iterator[tuple[str, DelayProxy]]:
    """``base_url`` seen through a delay proxy: the proxied base URL and the proxy."""
    parts = urlsplit(base_url)
    proxy = DelayProxy(parts.hostname or "127.0.0.1", parts.port or 80, one_way_s=rtt_s / 2).start()
    try:
        yield urlunsplit(parts._replace(netloc=f"127.0.0.1:{proxy.port}")), proxy
    finally:
        proxy.stop()


def _conformance(base: str, token: str, proxy: DelayProxy, jobs: int, checks: list[Check]) -> dict[str, Any]:
    before = proxy.requests
    start = time.perf_counter()
    outcome = run(checks, Target(base, Bearer(token), timeout=60.0), jobs=jobs)
    seconds = time.perf_counter() - start
    return {
        "jobs": jobs,
        "checks": len(outcome.results),
        "seconds": round(seconds, 2),
        "requests": proxy.requests - before,
        "verdict": outcome.verdict().value,
        "statuses": {result.check.id: result.status.value for result in outcome.results},
    }


def _scim2_tester(base: str, token: str, proxy: DelayProxy) -> dict[str, Any]:
    try:  # optional: installed in the bench environment only
        from scim2_client.client import BaseSyncSCIMClient  # type: ignore[import-not-found,unused-ignore]  # noqa: I001, PLC0415
        from scim2_tester import check_server  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415
    except ImportError:
        return {"status": "not installed (run `tox -e bench`)"}

    class Client(BaseSyncSCIMClient):  # type: ignore[misc]  # scim2-client ships no type information
        def __init__(self, http: httpx.Client) -> None:
            super().__init__()
            self.http = http

        def _parse_json(self, response: Any) -> Any:
            return response.json()

        def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
            return self.http.request(method, url, **kwargs)

    before = proxy.requests
    start = time.perf_counter()
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60.0) as http:
        results = check_server(Client(http))
    return {
        "status": "measured",
        "checks": len(results),
        "seconds": round(time.perf_counter() - start, 2),
        "requests": proxy.requests - before,
    }


def measure(
    workdir: Path,
    *,
    rtt_s: float = RTT_S,
    jobs: tuple[int, ...] = (1, DEFAULT_JOBS),
    checks: list[Check] | None = None,
    peer: bool = True,
) -> dict[str, Any]:
    """The conformance run (the full default registry unless ``checks``) at each of ``jobs``, and scim2-tester
    when ``peer``, all through one ``rtt_s`` link."""
    selected = checks if checks is not None else default_registry().checks()
    with aup_serve(workdir / "wan.db") as server:
        base = server.match["url"]
        token = server.process.wait_for(r"New bearer token for default .*: (\S+)", timeout=10.0).group(1)
        with delayed(base, rtt_s=rtt_s) as (proxied, proxy):
            expect(httpx.get(f"{proxied}/ServiceProviderConfig", headers={"Authorization": f"Bearer {token}"}), 200)
            runs = [_conformance(proxied, token, proxy, count, selected) for count in jobs]
            theirs = _scim2_tester(proxied, token, proxy) if peer else {"status": "skipped"}
    first = runs[0]["statuses"]
    for item in runs:
        item["same_verdicts_as_sequential"] = item.pop("statuses") == first
    return {"rtt_ms": round(rtt_s * 1000), "aup": runs, "scim2_tester": theirs}


def describe(data: dict[str, Any]) -> str:
    lines = [f"WAN ({data['rtt_ms']} ms round trip through a delay proxy on loopback)"]
    for item in data["aup"]:
        same = "same verdicts" if item["same_verdicts_as_sequential"] else "VERDICTS DIFFER from sequential"
        lines.append(
            f"  aup conformance --jobs {item['jobs']}: {item['checks']} checks, {item['requests']} requests, "
            f"{item['seconds']} s ({item['verdict']}; {same})"
        )
    peer = data["scim2_tester"]
    if peer.get("status") == "measured":
        lines.append(f"  scim2-tester: {peer['checks']} checks, {peer['requests']} requests, {peer['seconds']} s")
    else:
        lines.append(f"  scim2-tester: {peer['status']}")
    return "\n".join(lines)
