"""The WAN figure's delay proxy: it delays each direction, passes bytes intact, and stops within its bound;
and the figure itself at a tiny scale (a few checks, a short link)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from bench.wan import DelayProxy, describe, measure
from conformance.suites import default_registry

pytestmark = pytest.mark.network


def _echo_server() -> tuple[socket.socket, threading.Thread]:
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with listener:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def test_the_proxy_adds_the_round_trip_and_keeps_the_bytes() -> None:
    listener, thread = _echo_server()
    proxy = DelayProxy("127.0.0.1", listener.getsockname()[1], one_way_s=0.05).start()
    try:
        payload = bytes(range(256)) * 200
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as conn:
            started = time.monotonic()
            conn.sendall(payload)
            received = b""
            while len(received) < len(payload):
                received += conn.recv(65536)
            elapsed = time.monotonic() - started
        assert received == payload
        assert elapsed >= 0.1  # one way there and one way back
    finally:
        started = time.monotonic()
        proxy.stop()
        assert time.monotonic() - started < 10
        listener.close()
        thread.join(timeout=5)


@pytest.mark.slow
def test_the_figure_runs_parallel_and_sequential_with_the_same_verdicts(tmp_path: Path) -> None:
    checks = [item for item in default_registry() if item.id.startswith("rfc7644-3.4.2.2-filter-")]
    data = measure(tmp_path, rtt_s=0.01, jobs=(1, 4), checks=checks, peer=False)
    assert [run["jobs"] for run in data["aup"]] == [1, 4]
    assert all(run["same_verdicts_as_sequential"] and run["verdict"] == "CONFORMANT" for run in data["aup"])
    assert all(run["requests"] > len(checks) for run in data["aup"])  # the proxy counted what went through it
    assert "aup conformance --jobs 4" in describe(data)
