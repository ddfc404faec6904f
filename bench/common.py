"""What every figure needs: timing and medians, a request-counting transport, and server processes on loopback.

Every process the bench starts is stopped by its pid within a time bound (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import os
import platform
import queue
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def samples(call: Callable[[int], object], count: int) -> list[float]:
    """Seconds taken by each of ``count`` calls of ``call(i)``."""
    out = []
    for index in range(count):
        start = time.perf_counter()
        call(index)
        out.append(time.perf_counter() - start)
    return out


def throughput(call: Callable[[int], object], count: int) -> float:
    """Calls per second over ``count`` back-to-back calls."""
    start = time.perf_counter()
    for index in range(count):
        call(index)
    return count / (time.perf_counter() - start)


def expect(response: httpx.Response, *statuses: int) -> httpx.Response:
    """The response, or a RuntimeError naming the request: a figure measured on errors would be a lie."""
    if response.status_code not in statuses:
        request = response.request
        raise RuntimeError(f"{request.method} {request.url} answered {response.status_code}: {response.text[:300]}")
    return response


class CountingTransport(httpx.BaseTransport):
    """Counts the requests that go through another transport (the SCIM operations of a sync)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.count = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def machine() -> dict[str, Any]:
    """What the figures were measured on (cores and memory from the OS, as ``nproc``/``free`` report them)."""
    mem_total = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"^MemTotal:\s+(\d+) kB", meminfo.read_text(), re.MULTILINE)
        mem_total = int(match.group(1)) // 1024 if match else 0
    return {
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_mb": mem_total,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else [],
    }


def peak_rss_mb(pid: int) -> float:
    """The peak resident set size (VmHWM) of a running process, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no VmHWM in /proc/{pid}/status")
    return int(match.group(1)) / 1024


def free_port() -> int:
    """A free loopback port (for servers that cannot bind port 0 and report it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A server process started by the bench; ``match`` is its ready line's match."""

    process: subprocess.Popen[str]
    match: re.Match[str]
    output: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid


def _forward(stream: Any, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)
    stream.close()


@contextmanager
def server_process(cmd: Sequence[str], ready: str, *, cwd: Path | None = None) -> Iterator[Server]:
    """Start ``cmd``, wait for a line matching ``ready``, yield, then stop it by pid."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(  # noqa: S603 - the bench's own server commands, never user input
        list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_forward, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        pattern = re.compile(ready)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                if proc.poll() is not None and lines.empty():
                    raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}; output: {''.join(seen)}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{cmd[0]} did not start in {START_TIMEOUT_S:.0f} s; output: {seen}") from None
                continue
            seen.append(line)
            found = pattern.search(line)
            if found:
                break
        yield Server(proc, found, seen)
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[str]) -> int:
    """SIGTERM by pid and wait; a process that does not stop in time is killed by pid."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            return proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            return proc.wait(timeout=STOP_TIMEOUT_S)
    return int(proc.returncode)


def aup_serve(db: Path) -> Any:
    """``aup serve`` on a free loopback port over ``db``; the match's ``url`` group is the SCIM base URL."""
    cmd = [sys.executable, "-m", "aup", "serve", "--host", "127.0.0.1", "--port", "0", "--db", str(db)]
    return server_process(cmd, r"SCIM base URL \(default\): (?P<url>http://\S+)")
