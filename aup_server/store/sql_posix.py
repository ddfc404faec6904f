"""POSIX counters, ids and tombstones in SQL (SQLite and PostgreSQL alike): allocated inside the request's write
transaction.

Writers of a tenant take turns (SQLite: ``BEGIN IMMEDIATE``, one writer per database file; PostgreSQL: a
transaction lock per tenant), so reading the counter and bumping it cannot interleave with another request, in
this process or another one on the same database. The unique (tenant, kind, number) key is the backstop: a
duplicate number fails the transaction instead of being handed out (docs/domain.md §4: persist the counter,
allocate inside a transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aup_server.store.base import PosixRecord, ResourceKind

POSIX_DDL = """
CREATE TABLE IF NOT EXISTS posix_tenants (
    tenant   TEXT PRIMARY KEY,
    enabled  INTEGER NOT NULL,
    next_uid INTEGER NOT NULL DEFAULT 0,
    next_gid INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS posix_ids (
    tenant   TEXT NOT NULL,
    kind     TEXT NOT NULL,
    id       TEXT NOT NULL,
    number   INTEGER NOT NULL,
    username TEXT,
    active   INTEGER NOT NULL DEFAULT 1,
    deleted  TEXT,
    PRIMARY KEY (tenant, kind, id),
    UNIQUE (tenant, kind, number)
);
CREATE UNIQUE INDEX IF NOT EXISTS posix_username ON posix_ids (tenant, username)
    WHERE username IS NOT NULL AND deleted IS NULL;
"""

_COUNTER = {"User": "next_uid", "Group": "next_gid"}


class Cursor(Protocol):
    """What a statement returns, as SQLite's and psycopg's cursors both provide it."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Any: ...


class SqlConnection(Protocol):
    """The part of a DB-API connection the sessions use; statements are written with ``?`` placeholders."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Any, /) -> Cursor: ...


class PosixQueries:
    """The POSIX part of a session; mixed into ``SqlSession``."""

    conn: SqlConnection
    tenant: str
    store: Any
    _posix_setting: tuple[bool | None] | None = None  # read once per transaction

    def posix_setting(self) -> bool | None:
        if self._posix_setting is None:
            row = self.conn.execute("SELECT enabled FROM posix_tenants WHERE tenant = ?", (self.tenant,)).fetchone()
            self._posix_setting = (None if row is None else bool(row[0]),)
        return self._posix_setting[0]

    def set_posix_enabled(self, enabled: bool) -> None:
        self.conn.execute(
            "INSERT INTO posix_tenants (tenant, enabled) VALUES (?, ?)"
            " ON CONFLICT (tenant) DO UPDATE SET enabled = excluded.enabled",
            (self.tenant, int(enabled)),
        )
        self._posix_setting = (enabled,)

    def allocate_posix(self, kind: ResourceKind, rid: str, first: int, last: int) -> int | None:
        column = _COUNTER[kind]
        if self.posix_setting() is None:
            self.set_posix_enabled(True)  # allocating is what an enabled tenant does
        (counter,) = self.conn.execute(
            f"SELECT {column} FROM posix_tenants WHERE tenant = ?", (self.tenant,)
        ).fetchone()
        number = max(int(counter), first)
        if number > last:
            return None
        self.conn.execute(f"UPDATE posix_tenants SET {column} = ? WHERE tenant = ?", (number + 1, self.tenant))
        self.conn.execute(
            "INSERT INTO posix_ids (tenant, kind, id, number) VALUES (?, ?, ?, ?)", (self.tenant, kind, rid, number)
        )
        return number

    def set_posix_user(self, rid: str, username: str, active: bool) -> str | None:
        holder = self.conn.execute(
            "SELECT id FROM posix_ids WHERE tenant = ? AND kind = 'User' AND username = ? AND deleted IS NULL"
            " AND id != ?",
            (self.tenant, username, rid),
        ).fetchone()
        if holder is not None:
            return str(holder[0])
        self.conn.execute(
            "UPDATE posix_ids SET username = ?, active = ? WHERE tenant = ? AND kind = 'User' AND id = ?",
            (username, int(active), self.tenant, rid),
        )
        return None

    def tombstone_posix(self, kind: ResourceKind, rid: str) -> None:
        clock: Callable[[], str] = self.store.clock
        self.conn.execute(
            "UPDATE posix_ids SET deleted = ? WHERE tenant = ? AND kind = ? AND id = ? AND deleted IS NULL",
            (clock(), self.tenant, kind, rid),
        )

    # -- read helpers for SqlSession._row -----------------------------------------------------

    def _posix_of(self, kind: ResourceKind, rid: str) -> PosixRecord | None:
        """The record a read returns: none while the tenant has POSIX off (the ids stay kept)."""
        return self.posix_record(kind, rid) if self.posix_setting() else None

    def posix_record(self, kind: ResourceKind, rid: str) -> PosixRecord | None:
        row = self.conn.execute(
            "SELECT number, username, active FROM posix_ids WHERE tenant = ? AND kind = ? AND id = ?"
            " AND deleted IS NULL",
            (self.tenant, kind, rid),
        ).fetchone()
        return PosixRecord(int(row[0]), row[1], bool(row[2])) if row else None

    def _posix_member_usernames(self, group_seq: int) -> dict[str, str]:
        """Member id -> POSIX username of the group's active members that have one."""
        rows = self.conn.execute(
            "SELECT r.id, p.username FROM memberships m JOIN resources r ON r.seq = m.member_seq"
            " JOIN posix_ids p ON p.tenant = r.tenant AND p.kind = r.kind AND p.id = r.id"
            " WHERE m.group_seq = ? AND p.deleted IS NULL AND p.active = 1 AND p.username IS NOT NULL",
            (group_seq,),
        ).fetchall()
        return {str(rid): str(name) for rid, name in rows}
