"""The SQLite store's guarantees: uniqueness, tenant scoping, membership rows, cascade, persistence."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from aup_server.errors import InvalidValueError, UniquenessError
from aup_server.store import SqliteStore
from aup_server.store.names import user_name_key, user_name_problem
from aup_server.store.sqlite import SCHEMA_VERSION


def _user(name: str, **extra: object) -> dict[str, object]:
    return {"userName": name, **extra}


def test_username_unique_per_tenant_case_insensitive_keeps_case() -> None:
    store = SqliteStore()
    with store.write("t1") as s:
        ann = s.insert("User", _user("Ann.Lee@Example.com"), password=None)
    with pytest.raises(UniquenessError) as info, store.write("t1") as s:
        s.insert("User", _user("ann.lee@example.COM"), password=None)
    assert info.value.status == 409
    assert "userName eq" in info.value.detail
    with store.write("t2") as s:  # another tenant may use the same name
        s.insert("User", _user("ann.lee@example.com"), password=None)
    with store.read("t1") as s:
        found = s.lookup("User", "userName", "ANN.LEE@EXAMPLE.COM")
    assert [r.id for r in found] == [ann.id]
    assert found[0].doc["userName"] == "Ann.Lee@Example.com"


def test_failed_write_rolls_back_the_whole_transaction() -> None:
    store = SqliteStore()
    with store.write("t") as s:
        s.insert("User", _user("a"), password=None)
    with pytest.raises(UniquenessError), store.write("t") as s:
        s.insert("User", _user("b"), password=None)
        s.insert("User", _user("A"), password=None)  # conflicts: b must not survive
    with store.read("t") as s:
        assert [r.doc["userName"] for r in s.scan("User")] == ["a"]


def test_lookups_by_external_id_and_email_are_tenant_scoped() -> None:
    store = SqliteStore()
    with store.write("t1") as s:
        u = s.insert("User", _user("u", externalId="X1", emails=[{"value": "U@Ex.com"}]), password=None)
    with store.read("t1") as s:
        assert [r.id for r in s.lookup("User", "externalId", "X1")] == [u.id]
        assert s.lookup("User", "externalId", "x1") == []  # externalId is caseExact
        assert [r.id for r in s.lookup("User", "emails.value", "u@ex.COM")] == [u.id]
        assert [r.id for r in s.lookup("User", "id", u.id)] == [u.id]
    with store.read("t2") as s:
        assert s.get("User", u.id) is None
        assert s.lookup("User", "externalId", "X1") == []


def test_memberships_are_idempotent_rows_and_cascade_on_delete() -> None:
    store = SqliteStore()
    with store.write("t") as s:
        a = s.insert("User", _user("a"), password=None)
        b = s.insert("User", _user("b"), password=None)
        g = s.insert("Group", {"displayName": "eng"}, password=None)
        assert s.add_members(g.id, [a.id, b.id]) == 2
        assert s.add_members(g.id, [a.id]) == 0
    with store.read("t") as s:
        group = s.get("Group", g.id, expand=True)
        user = s.get("User", a.id, expand=True)
    assert group is not None and user is not None
    assert [m["value"] for m in group.members or []] == [a.id, b.id]
    assert group.members and group.members[0] == {"value": a.id, "display": "a", "type": "User"}
    assert user.groups == [{"value": g.id, "display": "eng", "type": "direct"}]
    with store.write("t") as s:
        assert s.delete("User", a.id)
    with store.read("t") as s:
        assert [m["value"] for m in s.members(g.id)] == [b.id]


def test_group_names_unique_unless_configured_otherwise() -> None:
    strict = SqliteStore()
    with strict.write("t") as s:
        s.insert("Group", {"displayName": "Eng"}, password=None)
    with pytest.raises(UniquenessError), strict.write("t") as s:
        s.insert("Group", {"displayName": "eng"}, password=None)
    relaxed = SqliteStore(unique_group_names=False)
    with relaxed.write("t") as s:
        s.insert("Group", {"displayName": "Eng"}, password=None)
        s.insert("Group", {"displayName": "eng"}, password=None)
        assert len(s.lookup("Group", "displayName", "ENG")) == 2


def test_pages_follow_creation_order_and_updates_do_not_move_rows() -> None:
    store = SqliteStore()
    with store.write("t") as s:
        ids = [s.insert("User", _user(f"u{i}"), password=None).id for i in range(5)]
        s.update("User", ids[0], _user("zz"), password=None, keep_password=True)
    with store.read("t") as s:
        total, rows = s.page("User", 0, 3)
        _, rest = s.page("User", 3, 3)
    assert total == 5
    assert [r.id for r in rows + rest] == ids
    assert rows[0].version == 2


def test_passwords_are_hashed_never_stored_in_clear(tmp_path: Path) -> None:
    db = tmp_path / "aup.db"
    store = SqliteStore(str(db))
    with store.write("t") as s:
        s.insert("User", _user("a"), password="correct horse battery staple")
    store.close()
    assert b"correct horse" not in db.read_bytes()


def test_data_survives_reopening_the_file(tmp_path: Path) -> None:
    db = str(tmp_path / "aup.db")
    store = SqliteStore(db)
    with store.write("t") as s:
        uid = s.insert("User", _user("keep"), password=None).id
    store.close()
    reopened = SqliteStore(db)
    with reopened.read("t") as s:
        got = s.get("User", uid)
    reopened.close()
    assert got is not None and got.doc == {"userName": "keep"}


def test_newer_schema_version_is_refused(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "new.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(RuntimeError, match="schema version 99"):
        SqliteStore(str(db))


def test_tokens_store_digests_and_revoke() -> None:
    store = SqliteStore()
    rec = store.add_token("okta", "acme", "d" * 64)
    assert store.find_token("d" * 64) == rec
    with pytest.raises(ValueError, match="already exists"):
        store.add_token("okta", "acme", "e" * 64)
    assert store.revoke_token("okta", "acme")
    assert not store.revoke_token("okta", "acme")
    found = store.find_token("d" * 64)
    assert found is not None and found.revoked is not None


def test_username_keys_fold_lookalikes_and_are_idempotent() -> None:
    for a, b in [
        ("jos\u00e9", "JOSE\u0301"),
        ("bob", "\uff42\uff4f\uff42"),
        ("strasse", "STRA\u00dfE"),
        ("file", "\ufb01le"),
        ("alice", "\u1d2clice"),  # NFKC gives a capital A: folded again
        ("frank", "fr\u200bank"),
        ("judy", " judy\u3000"),
    ]:
        assert user_name_key(a) == user_name_key(b), (a, b)
        assert user_name_key(user_name_key(b)) == user_name_key(b)
    assert user_name_key("ann") != user_name_key("anne")
    assert user_name_problem("ann.lee@example.com") is None
    assert user_name_problem("Jos\u00e9 Garc\u00eda") is None  # inner spaces and accents are fine
    for bad in ("fr\u200bank", "judy ", "\tjudy", "a\u0000b", "a\u202eb", "\u00ad", ""):
        assert user_name_problem(bad) is not None, repr(bad)


def test_a_lookalike_update_is_409_and_an_invisible_name_is_400_but_a_kept_legacy_name_is_not() -> None:
    store = SqliteStore()
    with store.write("t") as s:
        s.insert("User", _user("bob"), password=None)
        carol = s.insert("User", _user("carol"), password=None)
    with pytest.raises(UniquenessError), store.write("t") as s:
        s.update("User", carol.id, _user("\uff42ob"), password=None, keep_password=True)
    with pytest.raises(InvalidValueError), store.write("t") as s:
        s.update("User", carol.id, _user("carol\u200b"), password=None, keep_password=True)
    with store.write("t") as s:  # a name stored before the rule (only a migrated store has one) stays writable
        s.conn.execute("UPDATE resources SET data = ? WHERE id = ?", ('{"userName":"carol "}', carol.id))
        s.update("User", carol.id, _user("carol ", active=False), password=None, keep_password=True)


def test_version_2_store_is_rekeyed_and_keeps_lookalikes_it_already_holds(tmp_path: Path) -> None:
    db = tmp_path / "v2.db"
    store = SqliteStore(str(db))
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
    upgraded = SqliteStore(str(db))
    try:
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
    finally:
        upgraded.close()
    again = SqliteStore(str(db))  # reopening does not migrate twice
    assert again.lookalikes == []
    again.close()
