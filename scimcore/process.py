"""Child processes the project starts (``aup serve`` for tests and the bench, mitmdump for ``aup record``).

One way to start a command with its output read line by line, wait for a ready line or an open port
within a deadline, and stop it by its own process id: a signal, a bounded wait, then SIGKILL.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO


class NotReadyError(Exception):
    """The process did not print the ready line (or open the port) in time; ``output`` holds what it printed."""

    def __init__(self, message: str, output: Sequence[str]) -> None:
        super().__init__(message)
        self.output = list(output)


class ExitedError(NotReadyError):
    """The process ended its output (it exited) before it was ready."""


class Process:
    """A running child whose stdout and stderr arrive as lines; ``output`` keeps every line read so far."""

    def __init__(self, popen: subprocess.Popen[str]) -> None:
        self.popen = popen
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=_pump, args=(popen.stdout, self._lines), daemon=True)
        self._reader.start()
        self._ended = False

    @classmethod
    def start(
        cls,
        cmd: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        new_session: bool = False,
    ) -> Process:
        """Start ``cmd`` (no shell) with unbuffered Python output and no stdin; ``new_session`` keeps the
        terminal's Ctrl-C from reaching it, so the parent alone decides when it stops."""
        merged = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        popen = subprocess.Popen(  # noqa: S603 - the project's own argument lists, never a shell
            list(cmd),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=merged,
            cwd=cwd,
            start_new_session=new_session,
        )
        return cls(popen)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def poll(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float | None = None) -> int:
        return self.popen.wait(timeout=timeout)

    def next_line(self, timeout: float | None = None) -> str | None:
        """The next output line without its newline; None once the output has ended. ``queue.Empty`` on timeout."""
        if self._ended:
            return None
        line = self._lines.get(timeout=timeout)
        if line is None:
            self._ended = True
            return None
        self.output.append(line)
        return line

    def drain(self) -> list[str]:
        """The lines printed but not read yet, without waiting (after ``stop``: the rest of the output)."""
        rest: list[str] = []
        while True:
            try:
                line = self.next_line(timeout=0)
            except queue.Empty:
                return rest
            if line is None:
                return rest
            rest.append(line)

    def wait_for(self, pattern: str | re.Pattern[str], *, timeout: float) -> re.Match[str]:
        """The match of the first further line matching ``pattern``; NotReadyError after ``timeout`` seconds,
        ExitedError when the output ends first."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.next_line(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise NotReadyError(f"no line matching {regex.pattern!r} within {timeout:g} s", self.output) from None
            if line is None:
                raise ExitedError(f"the output ended before a line matching {regex.pattern!r}", self.output)
            if match := regex.search(line):
                return match

    def wait_port(self, host: str, port: int, *, timeout: float) -> None:
        """Return once ``host:port`` accepts a connection; NotReadyError after ``timeout``, ExitedError if it exits."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    return
            except OSError:
                pass
            if self.poll() is not None:
                raise ExitedError(f"exited with {self.popen.returncode} before {host}:{port} opened", self.output)
            if time.monotonic() > deadline:
                raise NotReadyError(f"{host}:{port} did not open within {timeout:g} s", self.output)
            time.sleep(0.1)

    def stop(self, *, timeout: float, signum: int = signal.SIGTERM) -> tuple[int, bool]:
        """Send ``signum`` by pid and wait up to ``timeout``; a process still running is killed by pid.

        Returns the exit status and whether it had to be killed.
        """
        killed = False
        if self.popen.poll() is None:
            os.kill(self.pid, signum)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait(timeout=timeout)
                killed = True
        self._reader.join(timeout=timeout)
        return int(self.popen.returncode), killed


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """Forward the output line by line; close the pipe and say so at EOF (the process has exited)."""
    with stream:
        for line in stream:
            lines.put(line.rstrip("\n"))
    lines.put(None)
