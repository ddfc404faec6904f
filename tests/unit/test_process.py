"""The one process helper: a real child is waited for by its ready line or port, and stopped by its pid."""

from __future__ import annotations

import signal
import socket
import sys

import pytest

from scimcore.process import ExitedError, NotReadyError, Process

READY = "import sys, time\nprint('booting'); print('ready on 4242', flush=True)\ntime.sleep(60)\n"
SILENT = "import time\ntime.sleep(60)\n"
STUBBORN = (
    "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(60)\n"
)


def test_a_child_is_waited_for_by_its_ready_line_and_stopped_by_its_pid() -> None:
    child = Process.start([sys.executable, "-c", READY])
    try:
        match = child.wait_for(r"ready on (\d+)", timeout=30)
        assert match.group(1) == "4242" and child.output == ["booting", "ready on 4242"]
    finally:
        code, killed = child.stop(timeout=10)
    assert code == -signal.SIGTERM and not killed and child.poll() is not None


def test_a_child_that_never_gets_ready_times_out_with_its_output() -> None:
    child = Process.start([sys.executable, "-c", SILENT])
    try:
        with pytest.raises(NotReadyError, match=r"within 0\.5 s") as caught:
            child.wait_for("ready", timeout=0.5)
        assert caught.value.output == [] and not isinstance(caught.value, ExitedError)
    finally:
        child.stop(timeout=10)


def test_a_child_that_exits_before_it_is_ready_says_so_at_once() -> None:
    child = Process.start([sys.executable, "-c", "print('cannot bind')"])
    with pytest.raises(ExitedError) as caught:
        child.wait_for("ready", timeout=30)
    assert caught.value.output == ["cannot bind"] and child.stop(timeout=10) == (0, False)


def test_a_child_that_ignores_sigterm_is_killed_after_the_bounded_wait() -> None:
    child = Process.start([sys.executable, "-c", STUBBORN])
    child.wait_for("ready", timeout=30)
    assert child.stop(timeout=0.5) == (-signal.SIGKILL, True)


def test_waiting_for_a_port_returns_once_the_child_listens() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = f"import socket, time\ns = socket.socket()\ns.bind(('127.0.0.1', {port}))\ns.listen()\ntime.sleep(60)\n"
    child = Process.start([sys.executable, "-c", script])
    try:
        child.wait_port("127.0.0.1", port, timeout=30)
    finally:
        child.stop(timeout=10)
    with pytest.raises(ExitedError):
        child.wait_port("127.0.0.1", port, timeout=1)
