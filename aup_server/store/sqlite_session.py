"""Queries of one SQLite transaction: every statement carries the tenant predicate (docs/aup-domain.md §3 item 10)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from aup_server.errors import InvalidValueError, UniquenessError
from aup_server.scim.filter import fold_case as fold  # one folding for uniqueness and filters
from aup_server.store.base import LookupKey, ResourceKind, StoredResource
from aup_server.store.names import user_name_key, user_name_problem
from aup_server.store.sqlite_posix import PosixQueries

_COLUMNS = "seq, kind, id, data, version, created, modified"
_KIND_NAMES: dict[str, ResourceKind] = {"User": "User", "Group": "Group"}

# Okta sends a (random) password in every POST /Users (docs/okta.md §10.6), so the cost is paid
# per create: about 1 ms here keeps bulk provisioning fast while no password is ever kept in clear.
_SCRYPT_N = 2**9


def hash_password(password: str) -> str:
    """A salted scrypt digest: passwords are writeOnly (RFC 7643 §4.1.1) and never stored in clear."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=8, p=1)
    return f"scrypt${_SCRYPT_N}$8$1${salt.hex()}${digest.hex()}"


class StoreSettings(Protocol):
    """What a session needs from its store."""

    unique_group_names: bool
    clock: Callable[[], str]


class SqliteSession(PosixQueries):
    """Queries inside one transaction, every one of them scoped to ``tenant``."""

    def __init__(self, conn: sqlite3.Connection, tenant: str, store: StoreSettings) -> None:
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
        if key == "id":
            rows = self.conn.execute(base + "id = ?", (self.tenant, kind, value)).fetchall()
        elif key == "externalId":
            rows = self.conn.execute(base + "external_id = ? ORDER BY seq", (self.tenant, kind, value)).fetchall()
        elif key in ("userName", "displayName"):
            rows = self.conn.execute(
                base + "name_key = ? ORDER BY seq", (self.tenant, kind, _name_key(kind, value))
            ).fetchall()
        else:
            rows = self.conn.execute(
                base + "seq IN (SELECT seq FROM emails WHERE tenant = ? AND value_key = ?) ORDER BY seq",
                (self.tenant, kind, self.tenant, fold(value)),
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

    def _keys(
        self, kind: ResourceKind, doc: dict[str, Any], rid: str | None = None, previous: Any = None
    ) -> tuple[str | None, str | None, str | None]:
        """(unique_key, name_key, display) for a document; a userName no key can tell apart is refused.

        A lookalike of a held userName is a 409 (it is that user); otherwise a name with invisible
        characters or edge whitespace is a 400 (names.py says why), before anything is written. A name
        stored before this rule (``previous``) stays writable: an update that keeps it is not refused.
        """
        name = doc.get("userName") if kind == "User" else doc.get("displayName")
        name_key = _name_key(kind, name) if isinstance(name, str) else None
        if kind == "User" and isinstance(name, str) and name != previous:
            problem = user_name_problem(name)
            if problem is not None:
                holder = self.conn.execute(
                    "SELECT 1 FROM resources WHERE tenant = ? AND kind = 'User' AND name_key = ? AND id IS NOT ?",
                    (self.tenant, name_key, rid),
                ).fetchone()
                if holder is not None:
                    raise self._conflict(kind, doc)
                raise InvalidValueError(problem)
        unique = name_key if (kind == "User" or self.store.unique_group_names) else None
        return unique, name_key, name if isinstance(name, str) else None

    def _write_emails(self, seq: int, doc: dict[str, Any]) -> None:
        self.conn.execute("DELETE FROM emails WHERE seq = ?", (seq,))
        values = {
            fold(email["value"])
            for email in doc.get("emails") or ()
            if isinstance(email, dict) and isinstance(email.get("value"), str)
        }
        self.conn.executemany(
            "INSERT INTO emails (seq, tenant, value_key) VALUES (?, ?, ?)",
            [(seq, self.tenant, v) for v in values],
        )

    def _conflict(self, kind: ResourceKind, doc: dict[str, Any]) -> UniquenessError:
        if kind == "User":
            return UniquenessError(
                f"userName {doc.get('userName')!r} is already taken in this tenant (compared case-insensitively"
                " after Unicode NFKC normalisation); "
                f'find it with filter=userName eq "{doc.get("userName")}"'
            )
        return UniquenessError(
            f"a group with displayName {doc.get('displayName')!r} already exists in this tenant; "
            f'find it with filter=displayName eq "{doc.get("displayName")}"'
        )

    def insert(self, kind: ResourceKind, doc: dict[str, Any], *, password: str | None) -> StoredResource:
        rid = str(uuid.uuid4())  # non-numeric, so no client mistakes an id for a uid (docs/aup-domain.md §1.4)
        now = self.store.clock()
        unique, name_key, display = self._keys(kind, doc)
        secret = hash_password(password) if password is not None else None
        try:
            cur = self.conn.execute(
                "INSERT INTO resources (tenant, kind, id, unique_key, name_key, external_id, display, data, secret,"
                " version, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                (
                    self.tenant,
                    kind,
                    rid,
                    unique,
                    name_key,
                    doc.get("externalId"),
                    display,
                    _dump(doc),
                    secret,
                    now,
                    now,
                ),
            )
        except sqlite3.IntegrityError as exc:
            raise self._conflict(kind, doc) from exc
        seq = int(cur.lastrowid or 0)
        if kind == "User":
            self._write_emails(seq, doc)
        return StoredResource(id=rid, kind=kind, doc=doc, version=1, created=now, modified=now, seq=seq)

    def update(
        self, kind: ResourceKind, rid: str, doc: dict[str, Any], *, password: str | None, keep_password: bool
    ) -> StoredResource:
        seq, previous = self.conn.execute(
            "SELECT seq, json_extract(data, '$.userName') FROM resources WHERE tenant = ? AND kind = ? AND id = ?",
            (self.tenant, kind, rid),
        ).fetchone() or (None, None)
        if seq is None:
            raise KeyError(rid)
        now = self.store.clock()
        unique, name_key, display = self._keys(kind, doc, rid, previous)
        secret_sql = "secret" if keep_password else "?"
        args: list[Any] = [unique, name_key, doc.get("externalId"), display, _dump(doc), now]
        if not keep_password:
            args.append(hash_password(password) if password is not None else None)
        try:
            self.conn.execute(
                "UPDATE resources SET unique_key = ?, name_key = ?, external_id = ?, display = ?, data = ?,"
                f" version = version + 1, modified = ?, secret = {secret_sql} WHERE seq = ?",
                (*args, seq),
            )
        except sqlite3.IntegrityError as exc:
            raise self._conflict(kind, doc) from exc
        if kind == "User":
            self._write_emails(seq, doc)
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


def _name_key(kind: str, name: str) -> str:
    """How a userName (names.py) or a group's displayName (case folded, RFC 7643 §2.2) is compared."""
    return user_name_key(name) if kind == "User" else fold(name)


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    """Keep IN (...) lists under SQLite's bound-parameter limit."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
