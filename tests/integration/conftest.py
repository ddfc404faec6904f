"""A real ``aup serve`` process on a loopback port, started and stopped (by its pid) by the test."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scimcore.process import NotReadyError, Process
from tests.conftest import ON_POSTGRES

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


@dataclass
class Served:
    base_url: str
    token: str
    process: Process
    db: str

    @property
    def output(self) -> list[str]:
        return self.process.output


def start_server(db: Path | str, *extra: str) -> Process:
    return Process.start(
        [sys.executable, "-m", "aup", "serve", "--host", "127.0.0.1", "--port", "0", "--db", str(db), *extra]
    )


def wait_for(server: Process, pattern: str) -> re.Match[str]:
    try:
        return server.wait_for(pattern, timeout=START_TIMEOUT_S)
    except NotReadyError:
        raise AssertionError(f"server did not print {pattern!r}; output so far: {server.output}") from None


def stop_server(server: Process) -> int:
    """SIGTERM by pid, then wait; a server that ignores it is killed and the test fails."""
    code, killed = server.stop(timeout=STOP_TIMEOUT_S)
    if killed:
        raise AssertionError("server did not stop within the timeout after SIGTERM")
    return code


@pytest.fixture
def server_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new database for ``aup serve --db``: a SQLite file, or a PostgreSQL database under AUP_TEST_STORE=postgres."""
    if ON_POSTGRES:
        url: str = request.getfixturevalue("postgres").new_database()
        return url
    return str(tmp_path / "aup.db")


@pytest.fixture
def served(server_db: str) -> Iterator[Served]:
    db = server_db
    server = start_server(db)
    try:
        base = wait_for(server, r"SCIM base URL \(default\): (\S+)").group(1)
        token = wait_for(server, r"New bearer token for default .*: (\S+)").group(1)
        wait_for(server, r"aup serving on")
        yield Served(base_url=base, token=token, process=server, db=db)
    finally:
        code = stop_server(server)
    assert code == 0, f"server exited with {code}"
