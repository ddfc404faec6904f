"""The PostgreSQL engine passes the store contract on a real server, and migrates and refuses as documented."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aup_server.store import Store, shown_db
from aup_server.store.postgres import MIGRATIONS, SCHEMA_VERSION, PostgresStore, escape_text, unescape_text
from tests.postgres import PostgresCluster
from tests.store.contract import StoreContract, StoreFactory


class TestPostgresStore(StoreContract):
    @pytest.fixture
    def store_factory(self, make_store: Callable[..., Store], postgres: PostgresCluster) -> StoreFactory:
        return lambda **settings: make_store(db=postgres.new_database(), **settings)


def _user(name: str) -> dict[str, object]:
    return {"userName": name}


def test_a_database_of_the_previous_schema_version_is_upgraded_and_keeps_its_data(
    postgres: PostgresCluster, make_store: Callable[..., Store]
) -> None:
    url = postgres.new_database()
    with psycopg.connect(url) as conn:  # what the previous version of aup created
        conn.execute(MIGRATIONS[0].encode())
        conn.execute("CREATE TABLE aup_schema (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO aup_schema (version) VALUES (1)")
        conn.execute(
            "INSERT INTO resources (tenant, kind, id, unique_key, name_key, data, version, created, modified)"
            " VALUES ('t', 'User', 'old-id', 'ann', 'ann', %s, 3, 'c', 'm')",
            ('{"userName": "ann"}',),
        )
    store = make_store(db=url)
    with store.read("t") as s:
        kept = s.get("User", "old-id")
    assert kept is not None and kept.doc == {"userName": "ann"} and kept.version == 3
    assert len(store.secret("cursor")) == 32  # the table version 2 added
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT version FROM aup_schema").fetchone() == (SCHEMA_VERSION,)


def test_a_newer_database_is_refused_with_a_clear_message(postgres: PostgresCluster) -> None:
    url = postgres.new_database()
    PostgresStore(url).close()
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE aup_schema SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(RuntimeError, match=rf"schema version {SCHEMA_VERSION + 1}; this aup understands up to"):
        PostgresStore(url)


def test_an_unreachable_database_is_a_one_line_error_without_the_password() -> None:
    with pytest.raises(RuntimeError, match=r"cannot connect to postgresql://aup:\*\*\*@127\.0\.0\.1:1/aup") as caught:
        PostgresStore("postgresql://aup:hunter2@127.0.0.1:1/aup", connect_timeout=2)
    assert "hunter2" not in str(caught.value)
    assert shown_db("postgresql://u:pw@db.example:5433/scim?sslmode=require") == (
        "postgresql://u:***@db.example:5433/scim?sslmode=require"
    )
    assert shown_db("postgresql:///scim?host=/run/pg") == "postgresql:///scim?host=/run/pg"
    assert shown_db("aup.db") == "aup.db"


@given(st.text())
def test_the_text_escape_is_a_bijection_without_nul(value: str) -> None:
    escaped = escape_text(value)
    assert "\x00" not in escaped
    assert unescape_text(escaped) == value


def test_nul_and_backslashes_are_stored_and_found_as_sent(
    make_store: Callable[..., Store], postgres: PostgresCluster
) -> None:
    store = make_store(db=postgres.new_database())
    odd = "a\x00b\\0c\\\\"
    with store.write("t") as s:
        made = s.insert("User", {"userName": "nul", "externalId": odd, "title": odd}, password=None)
        group = s.insert("Group", {"displayName": odd}, password=None)
        s.add_members(group.id, [made.id])
    with store.read("t") as s:
        assert [r.id for r in s.lookup("User", "externalId", odd)] == [made.id]
        assert s.lookup("User", "externalId", "a\x00b") == []
        assert s.get("User", "x\x00y") is None
        got = s.get("User", made.id)
        assert got is not None and got.doc["title"] == odd
        assert s.get("Group", group.id, expand=True).members[0]["value"] == made.id  # type: ignore[union-attr]
        assert [r.id for r in s.lookup("Group", "displayName", odd.upper())] == [group.id]
