"""A real ``aup serve`` process on a loopback port, started and stopped (by its pid) by the test."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


@dataclass
class Served:
    base_url: str
    token: str
    process: subprocess.Popen[str]
    db: Path
    output: list[str]
    lines: queue.Queue[str]


_READERS: dict[int, threading.Thread] = {}


def _reader(stream: object, lines: queue.Queue[str]) -> None:
    """Forward the server's output line by line; close the pipe at EOF (the process has exited)."""
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line)
    stream.close()  # type: ignore[attr-defined]


def start_server(db: Path, *extra: str) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    cmd = [
        sys.executable,
        "-m",
        "aup",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--db",
        str(db),
        *extra,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True)
    reader.start()
    _READERS[proc.pid] = reader
    return proc, lines


def wait_for(lines: queue.Queue[str], pattern: str, seen: list[str]) -> re.Match[str]:
    regex = re.compile(pattern)
    while True:
        try:
            line = lines.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            raise AssertionError(f"server did not print {pattern!r}; output so far: {seen}") from None
        seen.append(line)
        match = regex.search(line)
        if match:
            return match


def stop_server(proc: subprocess.Popen[str]) -> int:
    """SIGTERM by pid, then wait; a server that ignores it is killed and the test fails."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    try:
        return proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT_S)
        raise AssertionError("server did not stop within the timeout after SIGTERM") from None
    finally:
        reader = _READERS.pop(proc.pid, None)
        if reader is not None:
            reader.join(timeout=STOP_TIMEOUT_S)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    db = tmp_path / "aup.db"
    proc, lines = start_server(db)
    seen: list[str] = []
    try:
        base = wait_for(lines, r"SCIM base URL \(default\): (\S+)", seen).group(1)
        token = wait_for(lines, r"New bearer token for default .*: (\S+)", seen).group(1)
        wait_for(lines, r"aup serving on", seen)
        yield Served(base_url=base, token=token, process=proc, db=db, output=seen, lines=lines)
    finally:
        code = stop_server(proc)
    assert code == 0, f"server exited with {code}"
