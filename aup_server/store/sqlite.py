"""The embedded SQLite store: WAL, one transaction per request, memberships as rows, indexed lookups.

Guarantees (docs/domain.md §3): unique (tenant, folded userName) enforced by an index, so a
create race yields one row and 409s; membership changes are row deltas inside the write transaction,
never a rewrite of the member list; pages are ordered by ``seq``, an immutable creation sequence.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from aup_server.store.base import TokenRecord
from aup_server.store.names import user_name_key
from aup_server.store.rules import StoreRules
from aup_server.store.sql_posix import POSIX_DDL
from aup_server.store.sql_session import SqlSession

# 1: resources, memberships, tokens. 2: POSIX counters, ids and tombstones (additive).
# 3: userName keys are NFKC, case-folded and without invisible characters (store/names.py).
# The secrets table (cursor keys) is additive: created if missing, ignored by older builds.
SCHEMA_VERSION = 3

_DDL = """
CREATE TABLE IF NOT EXISTS resources (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    id          TEXT NOT NULL,
    unique_key  TEXT,
    name_key    TEXT,
    external_id TEXT,
    display     TEXT,
    data        TEXT NOT NULL,
    secret      TEXT,
    version     INTEGER NOT NULL,
    created     TEXT NOT NULL,
    modified    TEXT NOT NULL,
    UNIQUE (tenant, id),
    UNIQUE (tenant, kind, unique_key)
);
CREATE INDEX IF NOT EXISTS resources_name ON resources (tenant, kind, name_key);
CREATE INDEX IF NOT EXISTS resources_external ON resources (tenant, kind, external_id);
CREATE INDEX IF NOT EXISTS resources_order ON resources (tenant, kind, seq);
CREATE TABLE IF NOT EXISTS emails (
    seq       INTEGER NOT NULL REFERENCES resources (seq) ON DELETE CASCADE,
    tenant    TEXT NOT NULL,
    value_key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS emails_value ON emails (tenant, value_key);
CREATE INDEX IF NOT EXISTS emails_seq ON emails (seq);
CREATE TABLE IF NOT EXISTS memberships (
    group_seq  INTEGER NOT NULL REFERENCES resources (seq) ON DELETE CASCADE,
    member_seq INTEGER NOT NULL REFERENCES resources (seq) ON DELETE CASCADE,
    PRIMARY KEY (group_seq, member_seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS memberships_member ON memberships (member_seq);
CREATE TABLE IF NOT EXISTS secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    tenant  TEXT NOT NULL,
    name    TEXT NOT NULL,
    digest  TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    revoked TEXT,
    PRIMARY KEY (tenant, name)
);
"""


# Tenants that already hold resources keep POSIX off until an admin turns it on: turning it on
# allocates ids and can hit username collisions that need a decision (docs/posix.md).
POSIX_MIGRATION_FROM_V1 = """
INSERT OR IGNORE INTO posix_tenants (tenant, enabled) SELECT DISTINCT tenant, 0 FROM resources;
"""


def migrate_user_name_keys(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Re-key every user by the v3 userName rule; returns the (tenant, id) of users it had to keep apart.

    Users stored earlier may already be lookalikes under the new rule. Nothing is deleted or renamed:
    the oldest keeps the key, each later one's uniqueness key gets its id appended (so it stays a
    separate row and no new user can take the name), and a ``userName eq`` filter returns them all.
    """
    rows = conn.execute(
        "SELECT seq, tenant, id, json_extract(data, '$.userName') FROM resources WHERE kind = 'User' ORDER BY seq"
    ).fetchall()
    conn.execute("UPDATE resources SET unique_key = NULL WHERE kind = 'User'")
    taken: set[tuple[str, str]] = set()
    apart: list[tuple[str, str]] = []
    for seq, tenant, rid, name in rows:
        key = user_name_key(name) if isinstance(name, str) else None
        unique = key
        if key is not None and (tenant, key) in taken:
            unique = f"{key}\x00{rid}"
            apart.append((tenant, rid))
        elif key is not None:
            taken.add((tenant, key))
        conn.execute("UPDATE resources SET unique_key = ?, name_key = ? WHERE seq = ?", (unique, key, seq))
    return apart


def utc_now() -> str:
    """RFC 7643 §2.3.5 dateTime in UTC with millisecond precision."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SqliteStore:
    """SQLite engine. ``path=":memory:"`` keeps one private database (tests); a file path persists.

    Build it with ``open_store(config)`` (store/engines.py), which hands it the rules of that config.
    """

    def __init__(
        self,
        path: str = ":memory:",
        *,
        rules: StoreRules | None = None,
        busy_timeout_ms: int = 10_000,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self.db = path
        self.rules = rules or StoreRules()
        self.clock = clock
        self._busy_timeout_ms = busy_timeout_ms
        self._memory = path == ":memory:"
        self._local = threading.local()
        # One writer at a time inside this process: writers queue on a lock instead of polling
        # SQLite's busy handler; busy_timeout still covers other processes on the same file.
        self._write_lock = threading.Lock()
        self._memory_lock = threading.RLock()
        self._shared: sqlite3.Connection | None = None
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self.lookalikes: list[tuple[str, str]] = []  # (tenant, id) kept apart by the v3 migration
        with self._connection() as conn:
            self._migrate(conn)

    # -- connections -------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        # Connections are thread-confined by design; check_same_thread=False only lets close() run anywhere.
        conn = sqlite3.connect(self.db, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not self._memory:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # durable across process crashes in WAL mode
        with self._connections_lock:
            self._connections.append(conn)
        return conn

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        if self._memory:
            # An in-memory database lives in one connection; requests take turns on it.
            with self._memory_lock:
                if self._shared is None:
                    self._shared = self._open()
                yield self._shared
            return
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
        yield conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        (current,) = conn.execute("PRAGMA user_version").fetchone()
        if current > SCHEMA_VERSION:
            raise RuntimeError(
                f"database {self.db} has schema version {current}; this aup understands up to "
                f"{SCHEMA_VERSION}. Upgrade aup or use another --db."
            )
        conn.executescript(_DDL + POSIX_DDL)
        if current == 1:
            conn.executescript(POSIX_MIGRATION_FROM_V1)
        if 1 <= current < 3:
            conn.execute("BEGIN IMMEDIATE")
            try:
                (again,) = conn.execute("PRAGMA user_version").fetchone()
                if again < 3:  # another process may have migrated while this one waited
                    self.lookalikes = migrate_user_name_keys(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._shared = None
        self._local = threading.local()

    # -- transactions --------------------------------------------------------------------------

    @contextmanager
    def read(self, tenant: str) -> Iterator[SqlSession]:
        with self._connection() as conn:
            conn.execute("BEGIN")
            try:
                yield SqlSession(conn, tenant, self)
            finally:
                conn.execute("COMMIT")  # a read transaction has nothing to undo

    @contextmanager
    def write(self, tenant: str) -> Iterator[SqlSession]:
        with self._write_lock, self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield SqlSession(conn, tenant, self)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def secret(self, name: str) -> bytes:
        with self._write_lock, self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")  # two processes opening at once keep the first one's key
            try:
                conn.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)", (name, os.urandom(32)))
                (value,) = conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return bytes(value)

    # -- tokens --------------------------------------------------------------------------------

    def add_token(self, name: str, tenant: str, digest: str) -> TokenRecord:
        created = self.clock()
        with self._write_lock, self._connection() as conn:
            try:
                conn.execute(
                    "INSERT INTO tokens (tenant, name, digest, created) VALUES (?, ?, ?, ?)",
                    (tenant, name, digest, created),
                )
            except sqlite3.IntegrityError as exc:
                raise ValueError(f"a token named {name!r} already exists for tenant {tenant!r}") from exc
        return TokenRecord(name=name, tenant=tenant, created=created, revoked=None)

    def find_token(self, digest: str) -> TokenRecord | None:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT name, tenant, created, revoked FROM tokens WHERE digest = ?", (digest,)
            ).fetchone()
        return TokenRecord(*row) if row else None

    def list_tokens(self, tenant: str | None = None) -> list[TokenRecord]:
        sql = "SELECT name, tenant, created, revoked FROM tokens"
        args: tuple[str, ...] = ()
        if tenant is not None:
            sql += " WHERE tenant = ?"
            args = (tenant,)
        with self._connection() as conn:
            rows = conn.execute(sql + " ORDER BY tenant, created, name", args).fetchall()
        return [TokenRecord(*row) for row in rows]

    def revoke_token(self, name: str, tenant: str) -> bool:
        with self._write_lock, self._connection() as conn:
            cur = conn.execute(
                "UPDATE tokens SET revoked = ? WHERE tenant = ? AND name = ? AND revoked IS NULL",
                (self.clock(), tenant, name),
            )
        return cur.rowcount > 0
