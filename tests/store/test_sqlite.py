"""The SQLite engine passes the store contract, in memory and on file, and keeps its on-disk promises."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aup_server.errors import UniquenessError
from aup_server.store import SqliteStore, Store
from aup_server.store.sqlite import SCHEMA_VERSION
from tests.store.contract import StoreContract, StoreFactory


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store_factory(self, make_store: Callable[..., Store]) -> StoreFactory:
        return lambda **settings: make_store(db=":memory:", **settings)


class TestFileStore(StoreContract):
    @pytest.fixture
    def store_factory(self, make_store: Callable[..., Store], tmp_path: Path) -> StoreFactory:
        made = iter(range(1000))
        return lambda **settings: make_store(db=str(tmp_path / f"aup{next(made)}.db"), **settings)


def _user(name: str, **extra: object) -> dict[str, object]:
    return {"userName": name, **extra}


def _sqlite(store: Store) -> SqliteStore:
    assert isinstance(store, SqliteStore)
    return store


def test_a_path_or_memory_opens_sqlite(make_store: Callable[..., Store], tmp_path: Path) -> None:
    assert _sqlite(make_store(db=":memory:")).db == ":memory:"
    assert _sqlite(make_store(db=str(tmp_path / "aup.db"))).db == str(tmp_path / "aup.db")


def test_passwords_are_hashed_never_stored_in_clear(make_store: Callable[..., Any], tmp_path: Path) -> None:
    db = tmp_path / "aup.db"
    store = make_store(db=str(db))
    with store.write("t") as s:
        s.insert("User", _user("a"), password="correct horse battery staple")
    store.close()
    assert b"correct horse" not in db.read_bytes()
    with sqlite3.connect(db) as conn:
        (secret,) = conn.execute("SELECT secret FROM resources").fetchone()
    assert secret.startswith("scrypt$")


def test_data_survives_reopening_the_file(make_store: Callable[..., Store], tmp_path: Path) -> None:
    db = str(tmp_path / "aup.db")
    store = make_store(db=db)
    with store.write("t") as s:
        uid = s.insert("User", _user("keep"), password=None).id
    store.close()
    with make_store(db=db).read("t") as s:
        got = s.get("User", uid)
    assert got is not None and got.doc == {"userName": "keep"}


def test_the_cursor_key_survives_a_restart_and_is_shared_by_processes_on_the_file(
    make_store: Callable[..., Store], tmp_path: Path
) -> None:
    db = str(tmp_path / "aup.db")
    first = make_store(db=db)
    other = make_store(db=db)  # another server process on the same file
    key = first.secret("cursor")
    assert other.secret("cursor") == key
    first.close()
    assert make_store(db=db).secret("cursor") == key


def test_newer_schema_version_is_refused(make_store: Callable[..., Store], tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(RuntimeError, match="schema version 99"):
        make_store(db=str(db))


def test_version_2_store_is_rekeyed_and_keeps_lookalikes_it_already_holds(
    make_store: Callable[..., Store], tmp_path: Path
) -> None:
    db = tmp_path / "v2.db"
    store = make_store(db=str(db))
    with store.write("t") as s:
        first = s.insert("User", _user("jos\u00e9"), password=None)
        s.insert("User", _user("zed"), password=None)
    with store.write("u") as s:
        s.insert("User", _user("jose\u0301"), password=None)  # another tenant: not a lookalike pair
    store.close()
    with sqlite3.connect(db) as conn:  # what a version 2 store could hold: keys by case folding alone
        conn.execute("PRAGMA user_version = 2")
        conn.execute("UPDATE resources SET unique_key = lower(unique_key), name_key = lower(name_key)")
        conn.execute(
            "INSERT INTO resources (tenant, kind, id, unique_key, name_key, data, version, created, modified)"
            " VALUES ('t', 'User', 'legacy', ?, ?, ?, 1, 'x', 'x')",
            ("jose\u0301", "jose\u0301", '{"userName":"jose\u0301"}'),
        )
    upgraded = _sqlite(make_store(db=str(db)))
    assert upgraded.lookalikes == [("t", "legacy")]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    with upgraded.read("t") as s:
        found = s.lookup("User", "userName", "JOS\u00c9")
    assert [r.id for r in found] == [first.id, "legacy"]  # both kept, both found
    with pytest.raises(UniquenessError), upgraded.write("t") as s:
        s.insert("User", _user("\uff4aos\u00e9"), password=None)
    with pytest.raises(UniquenessError), upgraded.write("u") as s:
        s.insert("User", _user("Jos\u00e9"), password=None)
    upgraded.close()
    assert _sqlite(make_store(db=str(db))).lookalikes == []  # reopening does not migrate twice
