"""The PostgreSQL store: one database shared by several ``aup serve`` processes (``--db postgresql://…``).

The statements are the SQLite store's (store/sql_session.py); what differs is how transactions are taken:

- a write takes a transaction-level advisory lock on its tenant, so writers of one tenant take turns across
  every process, as SQLite's one writer per file does, while other tenants write at the same time. The
  service's optimistic commits (a version read, then checked under the lock), the lookalike check before an
  insert and the POSIX counters rely on that; the unique indexes stay the backstop;
- a read is one REPEATABLE READ, READ ONLY transaction: a consistent snapshot, as a SQLite read is.

Connections come from a psycopg pool. The schema is created and upgraded by ``MIGRATIONS``, applied in order
under a lock by whichever process opens the database first; a database newer than this code is refused.

PostgreSQL text cannot hold U+0000, which a JSON string can (an id in a URL, an externalId, a filter value), so
every string crosses the connection escaped (a backslash doubled, U+0000 as a backslash and "0") and is
unescaped when read:
one bijection at the boundary keeps equality and stores every value SQLite stores.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.types.string import StrDumperUnknown, TextLoader
from psycopg_pool import ConnectionPool

from aup_server.store.base import TokenRecord
from aup_server.store.engines import shown_db
from aup_server.store.rules import StoreRules
from aup_server.store.sql_posix import POSIX_DDL, Cursor
from aup_server.store.sql_session import SqlSession
from aup_server.store.sqlite import utc_now

_V1 = (
    """
CREATE TABLE resources (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
CREATE INDEX resources_name ON resources (tenant, kind, name_key);
CREATE INDEX resources_external ON resources (tenant, kind, external_id);
CREATE INDEX resources_order ON resources (tenant, kind, seq);
CREATE TABLE emails (
    seq       BIGINT NOT NULL REFERENCES resources (seq) ON DELETE CASCADE,
    tenant    TEXT NOT NULL,
    value_key TEXT NOT NULL
);
CREATE INDEX emails_value ON emails (tenant, value_key);
CREATE INDEX emails_seq ON emails (seq);
CREATE TABLE memberships (
    group_seq  BIGINT NOT NULL REFERENCES resources (seq) ON DELETE CASCADE,
    member_seq BIGINT NOT NULL REFERENCES resources (seq) ON DELETE CASCADE,
    PRIMARY KEY (group_seq, member_seq)
);
CREATE INDEX memberships_member ON memberships (member_seq);
CREATE TABLE tokens (
    tenant  TEXT NOT NULL,
    name    TEXT NOT NULL,
    digest  TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    revoked TEXT,
    PRIMARY KEY (tenant, name)
);
"""
    + POSIX_DDL
)

# 2: the key that signs cursors (RFC 9865), kept so every process and every restart shares it.
_V2 = """
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2)
SCHEMA_VERSION = len(MIGRATIONS)
_MIGRATION_LOCK = 0x6175_7030  # one advisory lock key for schema changes, whatever the tenant
DEFAULT_POOL_SIZE = 16


@functools.lru_cache(maxsize=512)
def _postgres_sql(sql: str) -> str:
    """A statement of the shared sessions in PostgreSQL's form: ``%s`` placeholders, ON CONFLICT DO NOTHING."""
    if sql.startswith("INSERT OR IGNORE INTO "):
        sql = "INSERT INTO " + sql.removeprefix("INSERT OR IGNORE INTO ") + " ON CONFLICT DO NOTHING"
    return sql.replace("?", "%s")


_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


def escape_text(value: str) -> str:
    if "\\" in value or "\x00" in value:
        return value.replace("\\", "\\\\").replace("\x00", "\\0")
    return value


def unescape_text(value: str) -> str:
    if "\\" not in value:
        return value
    return _ESCAPED.sub(lambda m: "\x00" if m[1] == "0" else m[1], value)


class _EscapingDumper(StrDumperUnknown):
    def dump(self, obj: str) -> Any:
        return super().dump(escape_text(obj))


class _UnescapingLoader(TextLoader):
    def load(self, data: Any) -> Any:
        value = super().load(data)
        return unescape_text(value) if isinstance(value, str) else value


def _configure(conn: psycopg.Connection[Any]) -> None:
    """Every string parameter escaped, every text column unescaped (see the module's docstring)."""
    conn.adapters.register_dumper(str, _EscapingDumper)
    for name in ("text", "varchar"):
        conn.adapters.register_loader(name, _UnescapingLoader)


class _Connection:
    """A psycopg connection that takes the sessions' ``?`` statements."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        return self.raw.execute(_postgres_sql(sql), parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Cursor:
        cur = self.raw.cursor()
        cur.executemany(_postgres_sql(sql), list(parameters))
        return cur


class PostgresSession(SqlSession):
    integrity_errors = (psycopg.IntegrityError,)

    def _inserted_seq(self, sql: str, args: tuple[Any, ...]) -> int:
        row = self.conn.execute(sql + " RETURNING seq", args).fetchone()
        return int(row[0])


class PostgresStore:
    """PostgreSQL engine. Build it with ``open_store(config)`` (store/engines.py) for a ``postgresql://`` db."""

    def __init__(
        self,
        url: str,
        *,
        rules: StoreRules | None = None,
        clock: Callable[[], str] = utc_now,
        pool_size: int = DEFAULT_POOL_SIZE,
        connect_timeout: float = 30.0,
    ) -> None:
        self.db = url
        self.rules = rules or StoreRules()
        self.clock = clock
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url, min_size=1, max_size=pool_size, open=False, name=f"aup-{os.getpid()}", configure=_configure
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except psycopg.Error as exc:
            self._pool.close()
            raise RuntimeError(f"cannot connect to {shown_db(url)}: {exc}") from None
        try:
            self._migrate()
        except BaseException:
            self._pool.close()
            raise

    def _migrate(self) -> None:
        with self._pool.connection() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS aup_schema (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM aup_schema").fetchone()
            current = 0 if row is None else int(row[0])
            if current > SCHEMA_VERSION:
                raise RuntimeError(
                    f"database {shown_db(self.db)} has schema version {current}; this aup understands up to "
                    f"{SCHEMA_VERSION}. Upgrade aup or use another --db."
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                conn.execute(MIGRATIONS[version - 1].encode())  # bytes: several statements, no parameters
            if row is None:
                conn.execute("INSERT INTO aup_schema (version) VALUES (%s)", (SCHEMA_VERSION,))
            elif current < SCHEMA_VERSION:
                conn.execute("UPDATE aup_schema SET version = %s", (SCHEMA_VERSION,))

    def close(self) -> None:
        self._pool.close()

    # -- transactions --------------------------------------------------------------------------

    @contextmanager
    def read(self, tenant: str) -> Iterator[PostgresSession]:
        with self._pool.connection() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield PostgresSession(_Connection(conn), tenant, self)

    @contextmanager
    def write(self, tenant: str) -> Iterator[PostgresSession]:
        """The pool commits when the block ends and rolls back when it raises; the tenant lock ends with it."""
        with self._pool.connection() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"aup-tenant:{tenant}",))
            yield PostgresSession(_Connection(conn), tenant, self)

    def secret(self, name: str) -> bytes:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO secrets (name, value) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                (name, os.urandom(32)),
            )
            row = conn.execute("SELECT value FROM secrets WHERE name = %s", (name,)).fetchone()
        assert row is not None
        return bytes(row[0])

    # -- tokens --------------------------------------------------------------------------------

    def add_token(self, name: str, tenant: str, digest: str) -> TokenRecord:
        created = self.clock()
        try:
            with self._pool.connection() as conn:
                conn.execute(
                    "INSERT INTO tokens (tenant, name, digest, created) VALUES (%s, %s, %s, %s)",
                    (tenant, name, digest, created),
                )
        except psycopg.errors.UniqueViolation as exc:
            raise ValueError(f"a token named {name!r} already exists for tenant {tenant!r}") from exc
        return TokenRecord(name=name, tenant=tenant, created=created, revoked=None)

    def find_token(self, digest: str) -> TokenRecord | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT name, tenant, created, revoked FROM tokens WHERE digest = %s", (digest,)
            ).fetchone()
        return TokenRecord(*row) if row else None

    def list_tokens(self, tenant: str | None = None) -> list[TokenRecord]:
        sql = "SELECT name, tenant, created, revoked FROM tokens"
        args: tuple[str, ...] = ()
        if tenant is not None:
            sql += " WHERE tenant = %s"
            args = (tenant,)
        with self._pool.connection() as conn:
            rows = conn.execute(sql + " ORDER BY tenant, created, name", args).fetchall()
        return [TokenRecord(*row) for row in rows]

    def revoke_token(self, name: str, tenant: str) -> bool:
        with self._pool.connection() as conn:
            cur = conn.execute(
                "UPDATE tokens SET revoked = %s WHERE tenant = %s AND name = %s AND revoked IS NULL",
                (self.clock(), tenant, name),
            )
            return cur.rowcount > 0
