"""Queries of one SQL transaction, for SQLite and PostgreSQL alike: every statement carries the tenant predicate
(docs/domain.md §3 item 10). An engine hands a connection that takes ``?`` placeholders and names the errors its
unique indexes raise; the statements are the same."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from aup_server.store.base import LookupKey, ResourceKind, StoredResource
from aup_server.store.rules import IndexKeys, StoreRules
from aup_server.store.sql_posix import PosixQueries, SqlConnection

_COLUMNS = "seq, kind, id, data, version, created, modified"
_KIND_NAMES: dict[str, ResourceKind] = {"User": "User", "Group": "Group"}


class StoreSettings(Protocol):
    """What a session needs from its store: the rules from the layer above (rules.py) and a clock."""

    rules: StoreRules
    clock: Callable[[], str]


class SqlSession(PosixQueries):
    """Queries inside one transaction, every one of them scoped to ``tenant``."""

    # What a unique index's refusal raises; an engine other than SQLite names its own.
    integrity_errors: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)

    def __init__(self, conn: SqlConnection, tenant: str, store: StoreSettings) -> None:
        self.conn = conn
        self.tenant = tenant
        self.store = store

    # -- reads ---------------------------------------------------------------------------------

    def _row(self, row: tuple[Any, ...], expand: bool) -> StoredResource:
        seq, kind, rid, data, version, created, modified = row
        res = StoredResource(
            id=rid,
            kind=kind,
            doc=json.loads(data),
            version=version,
            created=created,
            modified=modified,
            seq=seq,
        )
        if expand and kind == "Group":
            res.members = self._members_of(seq)
        elif expand and kind == "User":
            res.groups = self._groups_of(seq)
        res.posix = self._posix_of(kind, rid)
        if expand and kind == "Group" and res.posix is not None:
            res.member_usernames = self._posix_member_usernames(seq)
        return res

    def get(self, kind: ResourceKind, rid: str, *, expand: bool = False) -> StoredResource | None:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM resources WHERE tenant = ? AND kind = ? AND id = ?",
            (self.tenant, kind, rid),
        ).fetchone()
        return self._row(row, expand) if row else None

    def lookup(self, kind: ResourceKind, key: LookupKey, value: str, *, expand: bool = False) -> list[StoredResource]:
        base = f"SELECT {_COLUMNS} FROM resources WHERE tenant = ? AND kind = ? AND "
        value = self.store.rules.lookup_value(kind, key, value)
        if key == "id":
            rows = self.conn.execute(base + "id = ?", (self.tenant, kind, value)).fetchall()
        elif key == "externalId":
            rows = self.conn.execute(base + "external_id = ? ORDER BY seq", (self.tenant, kind, value)).fetchall()
        elif key in ("userName", "displayName"):
            rows = self.conn.execute(base + "name_key = ? ORDER BY seq", (self.tenant, kind, value)).fetchall()
        else:
            rows = self.conn.execute(
                base + "seq IN (SELECT seq FROM emails WHERE tenant = ? AND value_key = ?) ORDER BY seq",
                (self.tenant, kind, self.tenant, value),
            ).fetchall()
        return [self._row(row, expand) for row in rows]

    def scan(self, kind: ResourceKind, *, expand: bool = False) -> Iterator[StoredResource]:
        cur = self.conn.execute(
            f"SELECT {_COLUMNS} FROM resources WHERE tenant = ? AND kind = ? ORDER BY seq",
            (self.tenant, kind),
        )
        for row in cur:
            yield self._row(row, expand)

    def page(
        self, kind: ResourceKind, offset: int, limit: int, *, expand: bool = False
    ) -> tuple[int, list[StoredResource]]:
        (total,) = self.conn.execute(
            "SELECT COUNT(*) FROM resources WHERE tenant = ? AND kind = ?", (self.tenant, kind)
        ).fetchone()
        if limit <= 0:
            return total, []
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM resources WHERE tenant = ? AND kind = ? ORDER BY seq LIMIT ? OFFSET ?",
            (self.tenant, kind, limit, offset),
        ).fetchall()
        return total, [self._row(row, expand) for row in rows]

    def count(self, kind: ResourceKind) -> int:
        (total,) = self.conn.execute(
            "SELECT COUNT(*) FROM resources WHERE tenant = ? AND kind = ?", (self.tenant, kind)
        ).fetchone()
        return int(total)

    def seek(
        self,
        kind: ResourceKind,
        *,
        after: int | None = None,
        before: int | None = None,
        limit: int,
        expand: bool = False,
    ) -> list[StoredResource]:
        if after is not None and before is not None:
            raise ValueError("seek takes after or before, not both")
        if limit <= 0:
            return []
        base = f"SELECT {_COLUMNS} FROM resources WHERE tenant = ? AND kind = ?"
        if before is not None:
            sql, args = base + " AND seq < ? ORDER BY seq DESC LIMIT ?", (self.tenant, kind, before, limit)
        else:
            start = -1 if after is None else after
            sql, args = base + " AND seq > ? ORDER BY seq LIMIT ?", (self.tenant, kind, start, limit)
        return [self._row(row, expand) for row in self.conn.execute(sql, args).fetchall()]

    def _members_of(self, group_seq: int) -> list[dict[str, Any]]:
        # Streamed from the cursor, with one shared string per kind: a 50k-member group is read whole
        # for a full GET, and every copy of it counts in the server's peak memory.
        rows = self.conn.execute(
            "SELECT r.id, r.kind, r.display FROM memberships m JOIN resources r ON r.seq = m.member_seq "
            "WHERE m.group_seq = ? ORDER BY m.member_seq",
            (group_seq,),
        )
        return [{"value": rid, "display": display, "type": _KIND_NAMES.get(kind, kind)} for rid, kind, display in rows]

    def _groups_of(self, member_seq: int) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT r.id, r.display FROM memberships m JOIN resources r ON r.seq = m.group_seq "
            "WHERE m.member_seq = ? ORDER BY m.group_seq",
            (member_seq,),
        ).fetchall()
        return [{"value": rid, "display": display, "type": "direct"} for rid, display in rows]

    def members(self, group_id: str) -> list[dict[str, Any]]:
        return self._members_of(self._seq("Group", group_id))

    def member_refs(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for rid, kind, display in self.conn.execute(
                f"SELECT id, kind, display FROM resources WHERE tenant = ? AND id IN ({marks})", (self.tenant, *chunk)
            ):
                found[rid] = {"value": rid, "display": display, "type": _KIND_NAMES.get(kind, kind)}
        return found

    def kinds_of(self, ids: list[str]) -> dict[str, ResourceKind]:
        found: dict[str, ResourceKind] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for rid, kind in self.conn.execute(
                f"SELECT id, kind FROM resources WHERE tenant = ? AND id IN ({marks})", (self.tenant, *chunk)
            ):
                found[rid] = kind
        return found

    # -- writes --------------------------------------------------------------------------------

    def _write_emails(self, seq: int, keys: IndexKeys) -> None:
        self.conn.execute("DELETE FROM emails WHERE seq = ?", (seq,))
        self.conn.executemany(
            "INSERT INTO emails (seq, tenant, value_key) VALUES (?, ?, ?)",
            [(seq, self.tenant, v) for v in keys.emails],
        )

    def insert(self, kind: ResourceKind, doc: dict[str, Any], *, password: str | None) -> StoredResource:
        rid = str(uuid.uuid4())  # non-numeric, so no client mistakes an id for a uid (docs/domain.md §1.4)
        now = self.store.clock()
        rules = self.store.rules
        keys = rules.index_keys(kind, doc)
        try:
            seq = self._inserted_seq(
                "INSERT INTO resources (tenant, kind, id, unique_key, name_key, external_id, display, data, secret,"
                " version, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                (
                    self.tenant,
                    kind,
                    rid,
                    keys.unique,
                    keys.name,
                    keys.external_id,
                    keys.display,
                    _dump(doc),
                    rules.password_digest(password),
                    now,
                    now,
                ),
            )
        except self.integrity_errors as exc:
            raise rules.conflict(kind, doc) from exc
        if kind == "User":
            self._write_emails(seq, keys)
        return StoredResource(id=rid, kind=kind, doc=doc, version=1, created=now, modified=now, seq=seq)

    def _inserted_seq(self, sql: str, args: tuple[Any, ...]) -> int:
        """Run the resource INSERT and return the new row's ``seq``."""
        cur = self.conn.execute(sql, args)
        return int(getattr(cur, "lastrowid", 0) or 0)

    def update(
        self, kind: ResourceKind, rid: str, doc: dict[str, Any], *, password: str | None, keep_password: bool
    ) -> StoredResource:
        seq = self._seq(kind, rid)
        now = self.store.clock()
        rules = self.store.rules
        keys = rules.index_keys(kind, doc)
        secret_sql = "secret" if keep_password else "?"
        args: list[Any] = [keys.unique, keys.name, keys.external_id, keys.display, _dump(doc), now]
        if not keep_password:
            args.append(rules.password_digest(password))
        try:
            self.conn.execute(
                "UPDATE resources SET unique_key = ?, name_key = ?, external_id = ?, display = ?, data = ?,"
                f" version = version + 1, modified = ?, secret = {secret_sql} WHERE seq = ?",
                (*args, seq),
            )
        except self.integrity_errors as exc:
            raise rules.conflict(kind, doc) from exc
        if kind == "User":
            self._write_emails(seq, keys)
        stored = self.get(kind, rid)
        assert stored is not None  # updated in this transaction
        return stored

    def touch(self, kind: ResourceKind, rid: str) -> None:
        self.conn.execute(
            "UPDATE resources SET version = version + 1, modified = ? WHERE seq = ?",
            (self.store.clock(), self._seq(kind, rid)),
        )

    def delete(self, kind: ResourceKind, rid: str) -> bool:
        cur = self.conn.execute(
            "DELETE FROM resources WHERE tenant = ? AND kind = ? AND id = ?", (self.tenant, kind, rid)
        )
        return cur.rowcount > 0

    def _seq(self, kind: ResourceKind, rid: str) -> int:
        row = self.conn.execute(
            "SELECT seq FROM resources WHERE tenant = ? AND kind = ? AND id = ?", (self.tenant, kind, rid)
        ).fetchone()
        if row is None:
            raise KeyError(rid)
        return int(row[0])

    def _member_seqs(self, member_ids: list[str]) -> list[int]:
        seqs: list[int] = []
        for chunk in _chunks(member_ids):
            marks = ",".join("?" * len(chunk))
            seqs.extend(
                seq
                for (seq,) in self.conn.execute(
                    f"SELECT seq FROM resources WHERE tenant = ? AND id IN ({marks})", (self.tenant, *chunk)
                )
            )
        return seqs

    def add_members(self, group_id: str, member_ids: list[str]) -> int:
        group_seq = self._seq("Group", group_id)
        cur = self.conn.executemany(
            "INSERT OR IGNORE INTO memberships (group_seq, member_seq) VALUES (?, ?)",
            [(group_seq, seq) for seq in self._member_seqs(member_ids)],
        )
        return max(cur.rowcount, 0)

    def remove_members(self, group_id: str, member_ids: list[str]) -> int:
        group_seq = self._seq("Group", group_id)
        cur = self.conn.executemany(
            "DELETE FROM memberships WHERE group_seq = ? AND member_seq = ?",
            [(group_seq, seq) for seq in self._member_seqs(member_ids)],
        )
        return max(cur.rowcount, 0)

    def clear_members(self, group_id: str) -> int:
        cur = self.conn.execute("DELETE FROM memberships WHERE group_seq = ?", (self._seq("Group", group_id),))
        return cur.rowcount


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    """Keep IN (...) lists under SQLite's bound-parameter limit."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
