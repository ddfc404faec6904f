"""Slow, silent and malformed connections against a real ``aup serve`` (issue #17).

Every socket here talks to 127.0.0.1 only, every wait is bounded, and the server is stopped by its pid
(the ``served`` fixture).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from urllib.parse import urlsplit

import httpx
import pytest

from aup.serve import HEADER_TIMEOUT_S, MAX_HEADER_BYTES
from tests.integration.conftest import Served

pytestmark = pytest.mark.network

SLOW_CLIENTS = 500
# The target is 1 s; the assertion allows more because 2 shared cores also run other test suites.
ANSWER_BOUND_S = 5.0
IO_TIMEOUT_S = 10.0


def _address(served: Served) -> tuple[str, int, str]:
    parts = urlsplit(served.base_url)
    assert parts.hostname == "127.0.0.1" and parts.port is not None
    return parts.hostname, parts.port, parts.path


def _connect(served: Served) -> socket.socket:
    host, port, _ = _address(served)
    sock = socket.create_connection((host, port), timeout=IO_TIMEOUT_S)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return sock


def _read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP answer (status, lower-cased headers, body by Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a whole answer; got {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(lines[0].split()[1]), headers, rest[:length]


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True


@contextmanager
def _slow_clients(served: Served, count: int) -> Iterator[list[socket.socket]]:
    """``count`` connections: half dribble a header a byte at a time, half send requests and never read."""
    _, _, path = _address(served)
    stop = threading.Event()
    with ExitStack() as stack:
        socks = []
        for index in range(count):
            sock = _connect(served)
            stack.callback(sock.close)
            socks.append(sock)
            if index % 2:
                many = f"GET {path}/Users?count=100 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {served.token}\r\n\r\n"
                sock.sendall(many.encode() * 3)  # three answers it will never read
            else:
                sock.sendall(f"GET {path}/Users HTTP/1.1\r\nHost: x\r\n".encode())
        dribblers = socks[::2]

        def dribble() -> None:
            while not stop.wait(0.5):
                for sock in dribblers:
                    with suppress(OSError):
                        sock.send(b"X")

        worker = threading.Thread(target=dribble, daemon=True)
        worker.start()
        stack.callback(worker.join, IO_TIMEOUT_S)
        stack.callback(stop.set)
        yield socks


def test_a_client_is_served_while_500_connections_dribble_or_never_read(served: Served) -> None:
    headers = {"Authorization": f"Bearer {served.token}"}
    with httpx.Client(base_url=served.base_url, headers=headers, timeout=IO_TIMEOUT_S) as client:
        assert client.get("/Users").status_code == 200
        with _slow_clients(served, SLOW_CLIENTS):
            time.sleep(1.0)  # every slow connection is open and has sent what it will
            taken = []
            for _ in range(10):
                with httpx.Client(base_url=served.base_url, headers=headers, timeout=IO_TIMEOUT_S) as fresh:
                    start = time.perf_counter()
                    response = fresh.get("/ServiceProviderConfig")
                    taken.append(time.perf_counter() - start)
                assert response.status_code == 200
            print(f"\nanswers during {SLOW_CLIENTS} slow connections (ms):", [round(t * 1000) for t in taken])
            assert max(taken) < ANSWER_BOUND_S


@pytest.mark.slow
def test_a_header_dribbled_past_the_deadline_is_closed(served: Served) -> None:
    sock = _connect(served)
    with sock:
        sock.sendall(b"GET /scim/v2/Users HTTP/1.1\r\n")
        deadline = time.monotonic() + HEADER_TIMEOUT_S + 5
        closed = False
        while time.monotonic() < deadline and not closed:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                closed = True
                break
            closed = _closed_within(sock, 1.0)
        assert closed, "a header dribbled for longer than the deadline kept its connection"


def _scim_error(status: int, headers: dict[str, str], body: bytes, expected: int) -> dict[str, object]:
    assert status == expected, body
    assert headers["content-type"].startswith("application/scim+json")
    error = json.loads(body)
    assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert error["status"] == str(expected)
    return dict(error)


def test_an_oversized_content_length_is_413_scim_json_before_the_body_is_sent(served: Served) -> None:
    _, _, path = _address(served)
    with _connect(served) as sock:
        head = (
            f"POST {path}/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {served.token}\r\n"
            f"Content-Type: application/scim+json\r\nContent-Length: {200 * 1024 * 1024}\r\n\r\n"
        )
        sock.sendall(head.encode())  # and not one byte of the body
        error = _scim_error(*_read_answer(sock), 413)
        assert "4194304-byte limit" in str(error["detail"])
        assert _closed_within(sock, IO_TIMEOUT_S)


def test_an_oversized_chunked_body_is_413_scim_json_once_it_passes_the_limit(served: Served) -> None:
    _, _, path = _address(served)
    with _connect(served) as sock:
        head = (
            f"POST {path}/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {served.token}\r\n"
            "Content-Type: application/scim+json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sock.sendall(head.encode())
        chunk = b"%x\r\n%s\r\n" % (1024 * 1024, b" " * 1024 * 1024)
        sent = 0
        try:
            while sent < 64:  # 64 MiB at most; the server stops reading after 4
                sock.sendall(chunk)
                sent += 1
        except OSError:
            pass
        assert sent < 64
        _scim_error(*_read_answer(sock), 413)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"NONSENSE\r\n\r\n", 400),
        (b"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", 400),
        (b"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * MAX_HEADER_BYTES + b"\r\n\r\n", 431),
    ],
    ids=["request-line", "content-length", "transfer-encoding", "header-size"],
)
def test_malformed_http_is_answered_in_scim_json(served: Served, raw: bytes, expected: int) -> None:
    with _connect(served) as sock:
        sock.sendall(raw)
        _scim_error(*_read_answer(sock), expected)


@pytest.mark.xfail(
    strict=True,
    reason="waitress keeps the connection open after a request with both Content-Length and Transfer-Encoding, "
    "so the bytes after the chunked body run as a second request (waitress's open issue; RFC 9112 §6.1 says the "
    "server MUST close the connection after answering such a request). This passes once waitress is fixed.",
)
def test_content_length_with_transfer_encoding_never_runs_a_smuggled_request(served: Served) -> None:
    _, _, path = _address(served)
    smuggled = f"GET {path}/ServiceProviderConfig HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {served.token}\r\n\r\n"
    first = (
        f"POST {path}/Users/.search HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {served.token}\r\n"
        "Content-Type: application/scim+json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    with _connect(served) as sock:
        sock.sendall((first + smuggled).encode())
        _read_answer(sock)  # the answer to the first request, whatever it is
        sock.settimeout(3.0)
        try:
            extra = sock.recv(65536)
        except TimeoutError:
            extra = b"(nothing, but the connection stayed open)"
        assert extra == b"", f"the connection stayed open and answered the smuggled request: {extra[:80]!r}"
