"""What every figure needs: timing and medians, a request-counting transport, and server processes on loopback.

Every process the bench starts is stopped by its pid within a time bound (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import os
import platform
import re
import socket
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from scimcore.process import ExitedError, NotReadyError, Process

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

    process: Process
    match: re.Match[str]

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def output(self) -> list[str]:
        return self.process.output


@contextmanager
def server_process(cmd: Sequence[str], ready: str, *, cwd: Path | None = None) -> Iterator[Server]:
    """Start ``cmd``, wait for a line matching ``ready``, yield, then stop it by pid."""
    proc = Process.start(cmd, cwd=cwd)
    try:
        try:
            found = proc.wait_for(ready, timeout=START_TIMEOUT_S)
        except ExitedError:
            code = proc.wait(timeout=STOP_TIMEOUT_S)
            raise RuntimeError(f"{cmd[0]} exited with {code}; output: {chr(10).join(proc.output)}") from None
        except NotReadyError:
            raise RuntimeError(f"{cmd[0]} did not start in {START_TIMEOUT_S:.0f} s; output: {proc.output}") from None
        yield Server(proc, found)
    finally:
        proc.stop(timeout=STOP_TIMEOUT_S)


def aup_serve(db: Path) -> Any:
    """``aup serve`` on a free loopback port over ``db``; the match's ``url`` group is the SCIM base URL."""
    cmd = [sys.executable, "-m", "aup", "serve", "--host", "127.0.0.1", "--port", "0", "--db", str(db)]
    return server_process(cmd, r"SCIM base URL \(default\): (?P<url>http://\S+)")
