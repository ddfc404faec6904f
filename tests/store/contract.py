"""What every store engine must do, written against the Store and Session protocols only (docs/stores.md).

An engine's test module subclasses ``StoreContract`` and provides ``store_factory``: a callable taking
ServerConfig store settings (``unique_group_names``) and returning a fresh, empty store it closes later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aup_server.errors import UniquenessError
from aup_server.store import Store, StoreRules

StoreFactory = Callable[..., Store]


def _user(name: str, **extra: Any) -> dict[str, Any]:
    return {"userName": name, **extra}


class _Boom(Exception):
    pass


class StoreContract:
    """The store behaviour the SCIM layer relies on; subclass it and provide a ``store_factory`` fixture."""

    @pytest.fixture
    def store(self, store_factory: StoreFactory) -> Store:
        return store_factory()

    # -- settings ------------------------------------------------------------------------------

    def test_store_carries_the_rules_it_was_opened_with(self, store_factory: StoreFactory) -> None:
        assert store_factory().rules == StoreRules(unique_group_names=True)
        assert store_factory(unique_group_names=False).rules == StoreRules(unique_group_names=False)

    # -- documents -----------------------------------------------------------------------------

    def test_insert_then_get_returns_the_document_at_version_one(self, store: Store) -> None:
        with store.write("t") as s:
            made = s.insert("User", _user("ann", title="Dr"), password="secret")
        with store.read("t") as s:
            got = s.get("User", made.id)
            assert s.get("Group", made.id) is None  # ids are typed
            assert s.get("User", "no-such-id") is None
        assert got is not None
        assert (got.id, got.kind, got.doc, got.version) == (made.id, "User", {"userName": "ann", "title": "Dr"}, 1)
        assert got.created == got.modified == made.created
        assert "password" not in got.doc

    def test_ids_are_distinct_and_not_numeric(self, store: Store) -> None:
        with store.write("t") as s:
            ids = [s.insert("User", _user(f"u{i}"), password=None).id for i in range(20)]
        assert len(set(ids)) == 20
        assert not any(rid.isdigit() for rid in ids)  # docs/domain.md §1.4

    def test_update_bumps_the_version_and_reindexes(self, store: Store) -> None:
        with store.write("t") as s:
            u = s.insert("User", _user("ann", externalId="X1", emails=[{"value": "a@x.com"}]), password=None)
        with store.write("t") as s:
            updated = s.update(
                "User", u.id, _user("bea", emails=[{"value": "b@x.com"}]), password=None, keep_password=True
            )
        assert updated.version == 2 and updated.doc == _user("bea", emails=[{"value": "b@x.com"}])
        assert updated.created == u.created and updated.modified >= u.modified
        with store.read("t") as s:
            assert s.lookup("User", "userName", "ann") == []
            assert s.lookup("User", "externalId", "X1") == []
            assert s.lookup("User", "emails.value", "a@x.com") == []
            assert [r.id for r in s.lookup("User", "userName", "BEA")] == [u.id]
            assert [r.id for r in s.lookup("User", "emails.value", "B@X.COM")] == [u.id]

    def test_update_of_a_missing_resource_is_a_key_error(self, store: Store) -> None:
        with pytest.raises(KeyError), store.write("t") as s:
            s.update("User", "no-such-id", _user("x"), password=None, keep_password=True)

    def test_touch_bumps_the_version_only(self, store: Store) -> None:
        with store.write("t") as s:
            g = s.insert("Group", {"displayName": "eng"}, password=None)
            s.touch("Group", g.id)
        with store.read("t") as s:
            got = s.get("Group", g.id)
        assert got is not None and got.version == 2 and got.doc == {"displayName": "eng"}

    def test_delete_says_whether_something_was_deleted(self, store: Store) -> None:
        with store.write("t") as s:
            u = s.insert("User", _user("ann", externalId="X1"), password=None)
        with store.write("t") as s:
            assert s.delete("User", u.id)
            assert not s.delete("User", u.id)
        with store.read("t") as s:
            assert s.get("User", u.id) is None
            assert s.lookup("User", "externalId", "X1") == []
        with store.write("t") as s:  # the name is free again
            s.insert("User", _user("ann"), password=None)

    # -- lookups, scans, pages -----------------------------------------------------------------

    def test_lookup_by_each_key_folds_only_case_insensitive_attributes(self, store: Store) -> None:
        with store.write("t") as s:
            u = s.insert(
                "User", _user("Ann.Lee@Example.com", externalId="X1", emails=[{"value": "U@Ex.com"}]), password=None
            )
            g = s.insert("Group", {"displayName": "Engineering", "externalId": "G1"}, password=None)
        with store.read("t") as s:
            assert [r.id for r in s.lookup("User", "id", u.id)] == [u.id]
            assert [r.id for r in s.lookup("User", "externalId", "X1")] == [u.id]
            assert s.lookup("User", "externalId", "x1") == []  # externalId is caseExact (RFC 7643 §3.1)
            assert [r.id for r in s.lookup("User", "userName", "ANN.LEE@EXAMPLE.COM")] == [u.id]
            assert [r.id for r in s.lookup("User", "emails.value", "u@ex.COM")] == [u.id]
            assert [r.id for r in s.lookup("Group", "displayName", "engineering")] == [g.id]
            assert [r.id for r in s.lookup("Group", "externalId", "G1")] == [g.id]
            assert s.lookup("Group", "id", u.id) == []
            found = s.lookup("User", "userName", "ann.lee@example.com")
        assert found[0].doc["userName"] == "Ann.Lee@Example.com"  # stored as sent, compared folded

    def test_user_name_lookup_uses_the_identity_key(self, store: Store) -> None:
        """Lookalikes are one user (store/names.py): NFKC, full case folding, no invisible characters."""
        with store.write("t") as s:
            jose = s.insert("User", _user("jos\u00e9"), password=None)
            bob = s.insert("User", _user("bob"), password=None)
        with store.read("t") as s:
            assert [r.id for r in s.lookup("User", "userName", "JOSE\u0301")] == [jose.id]
            assert [r.id for r in s.lookup("User", "userName", "\uff42\uff4f\uff42")] == [bob.id]
            assert [r.id for r in s.lookup("User", "userName", "b\u200bob")] == [bob.id]

    def test_lookup_returns_every_candidate_in_creation_order(self, store_factory: StoreFactory) -> None:
        store = store_factory(unique_group_names=False)
        with store.write("t") as s:
            ids = [s.insert("Group", {"displayName": name}, password=None).id for name in ("Eng", "ops", "ENG", "eng")]
        with store.read("t") as s:
            assert [r.id for r in s.lookup("Group", "displayName", "eNg")] == [ids[0], ids[2], ids[3]]

    def test_scan_and_pages_follow_creation_order_and_updates_do_not_move_rows(self, store: Store) -> None:
        with store.write("t") as s:
            ids = [s.insert("User", _user(f"u{i}"), password=None).id for i in range(5)]
            s.insert("Group", {"displayName": "not a user"}, password=None)
        with store.write("t") as s:
            s.update("User", ids[0], _user("zz"), password=None, keep_password=True)
        with store.read("t") as s:
            assert [r.id for r in s.scan("User")] == ids
            total, first = s.page("User", 0, 3)
            _, rest = s.page("User", 3, 3)
            assert s.page("User", 5, 3) == (5, [])
            assert s.page("User", 0, 0) == (5, [])
        assert total == 5
        assert [r.id for r in first + rest] == ids
        assert first[0].version == 2

    def test_seek_reads_either_side_of_a_place_in_creation_order(self, store: Store) -> None:
        with store.write("t") as s:
            made = [s.insert("User", _user(f"u{i}"), password=None) for i in range(6)]
            s.insert("Group", {"displayName": "not a user"}, password=None)
            s.delete("User", made[2].id)
        with store.write("other") as s:
            s.insert("User", _user("elsewhere"), password=None)
        live = [made[i] for i in (0, 1, 3, 4, 5)]
        with store.read("t") as s:
            assert s.count("User") == 5
            assert s.count("Group") == 1
            assert [r.id for r in s.seek("User", limit=2)] == [live[0].id, live[1].id]
            assert [r.id for r in s.seek("User", after=made[1].seq, limit=2)] == [live[2].id, live[3].id]
            assert [r.id for r in s.seek("User", after=made[2].seq, limit=9)] == [r.id for r in live[2:]]
            assert [r.id for r in s.seek("User", before=made[4].seq, limit=2)] == [live[2].id, live[1].id]
            assert s.seek("User", after=made[5].seq, limit=3) == []
            assert s.seek("User", limit=0) == []
            with pytest.raises(ValueError):
                s.seek("User", after=1, before=9, limit=1)

    def test_a_secret_is_made_once_and_kept(self, store: Store) -> None:
        first = store.secret("cursor")
        assert len(first) == 32
        assert store.secret("cursor") == first
        assert store.secret("another") != first

    # -- memberships ---------------------------------------------------------------------------

    def test_memberships_are_deltas_and_idempotent(self, store: Store) -> None:
        with store.write("t") as s:
            a, b, c = (s.insert("User", _user(n), password=None) for n in "abc")
            g = s.insert("Group", {"displayName": "eng"}, password=None)
            assert s.add_members(g.id, [a.id, b.id]) == 2
            assert s.add_members(g.id, [a.id, c.id]) == 1
            assert s.remove_members(g.id, [b.id, "no-such-id"]) == 1
            assert s.remove_members(g.id, [b.id]) == 0
        with store.read("t") as s:
            assert [m["value"] for m in s.members(g.id)] == [a.id, c.id]
            group = s.get("Group", g.id, expand=True)
            user = s.get("User", a.id, expand=True)
            plain = s.get("Group", g.id)
        assert group is not None and user is not None and plain is not None
        assert group.members == [
            {"value": a.id, "display": "a", "type": "User"},
            {"value": c.id, "display": "c", "type": "User"},
        ]
        assert user.groups == [{"value": g.id, "display": "eng", "type": "direct"}]
        assert plain.members is None  # members are read only when asked for
        with store.write("t") as s:
            assert s.clear_members(g.id) == 2
            assert s.members(g.id) == []

    def test_deleting_a_member_removes_its_membership(self, store: Store) -> None:
        with store.write("t") as s:
            a, b = (s.insert("User", _user(n), password=None) for n in "ab")
            g = s.insert("Group", {"displayName": "eng"}, password=None)
            s.add_members(g.id, [a.id, b.id])
        with store.write("t") as s:
            s.delete("User", a.id)
        with store.read("t") as s:
            assert [m["value"] for m in s.members(g.id)] == [b.id]

    def test_kinds_and_member_refs_name_existing_ids_only(self, store: Store) -> None:
        with store.write("t") as s:
            a = s.insert("User", _user("ann"), password=None)
            g = s.insert("Group", {"displayName": "eng"}, password=None)
        with store.read("t") as s:
            assert s.kinds_of([a.id, g.id, "nope"]) == {a.id: "User", g.id: "Group"}
            assert s.member_refs([g.id, "nope"]) == {g.id: {"value": g.id, "display": "eng", "type": "Group"}}

    # -- uniqueness ----------------------------------------------------------------------------

    def test_user_names_are_unique_per_tenant_by_identity_key(self, store: Store) -> None:
        with store.write("t1") as s:
            ann = s.insert("User", _user("Ann"), password=None)
            bob = s.insert("User", _user("bob"), password=None)
        for taken in ("ANN", "\uff21nn"):
            with pytest.raises(UniquenessError) as info, store.write("t1") as s:
                s.insert("User", _user(taken), password=None)
            assert info.value.status == 409 and "userName eq" in info.value.detail
        with pytest.raises(UniquenessError), store.write("t1") as s:
            s.update("User", bob.id, _user("ann"), password=None, keep_password=True)
        with store.write("t2") as s:  # another tenant may use the same name
            s.insert("User", _user("ann"), password=None)
        with store.write("t1") as s:  # keeping one's own name is no conflict
            s.update("User", ann.id, _user("ANN"), password=None, keep_password=True)

    def test_group_names_are_unique_unless_the_rules_say_otherwise(self, store_factory: StoreFactory) -> None:
        strict = store_factory()
        with strict.write("t") as s:
            s.insert("Group", {"displayName": "Eng"}, password=None)
        with pytest.raises(UniquenessError) as info, strict.write("t") as s:
            s.insert("Group", {"displayName": "eng"}, password=None)
        assert "displayName eq" in info.value.detail
        relaxed = store_factory(unique_group_names=False)
        with relaxed.write("t") as s:
            s.insert("Group", {"displayName": "Eng"}, password=None)
            s.insert("Group", {"displayName": "eng"}, password=None)
            assert len(s.lookup("Group", "displayName", "ENG")) == 2

    # -- transactions and tenants --------------------------------------------------------------

    def test_a_failed_write_rolls_back_the_whole_transaction(self, store: Store) -> None:
        with store.write("t") as s:
            a = s.insert("User", _user("a"), password=None)
        with pytest.raises(UniquenessError), store.write("t") as s:
            s.insert("User", _user("b"), password=None)
            s.insert("User", _user("A"), password=None)  # conflicts: b must not survive
        g_id = ""
        with pytest.raises(_Boom), store.write("t") as s:
            g_id = s.insert("Group", {"displayName": "g"}, password=None).id
            s.update("User", a.id, _user("renamed"), password=None, keep_password=True)
            raise _Boom
        with store.read("t") as s:
            assert [r.doc["userName"] for r in s.scan("User")] == ["a"]
            assert s.get("Group", g_id) is None
            current = s.get("User", a.id)
        assert current is not None and current.version == 1

    def test_every_read_is_scoped_to_its_tenant(self, store: Store) -> None:
        with store.write("t1") as s:
            u = s.insert("User", _user("u", externalId="X1", emails=[{"value": "u@x.com"}]), password=None)
            g = s.insert("Group", {"displayName": "eng"}, password=None)
        with store.write("t2") as s:
            other = s.insert("Group", {"displayName": "eng"}, password=None)
            assert s.add_members(other.id, [u.id]) == 0  # another tenant's user is no member
            assert not s.delete("User", u.id)
        with store.read("t2") as s:
            assert s.get("User", u.id) is None
            assert s.lookup("User", "id", u.id) == []
            assert s.lookup("User", "externalId", "X1") == []
            assert s.lookup("User", "userName", "u") == []
            assert s.lookup("User", "emails.value", "u@x.com") == []
            assert list(s.scan("User")) == []
            assert s.page("Group", 0, 10)[0] == 1
            assert s.kinds_of([u.id, g.id]) == {}
            assert s.member_refs([u.id]) == {}

    # -- tokens --------------------------------------------------------------------------------

    def test_tokens_are_found_by_digest_listed_and_revoked(self, store: Store) -> None:
        rec = store.add_token("okta", "acme", "d" * 64)
        store.add_token("entra", "acme", "e" * 64)
        store.add_token("okta", "beta", "f" * 64)  # names are per tenant
        assert (rec.name, rec.tenant, rec.revoked) == ("okta", "acme", None)
        assert store.find_token("d" * 64) == rec
        assert store.find_token("0" * 64) is None
        with pytest.raises(ValueError, match="already exists"):
            store.add_token("okta", "acme", "1" * 64)
        assert {t.name for t in store.list_tokens("acme")} == {"okta", "entra"}
        assert len(store.list_tokens()) == 3
        assert store.revoke_token("okta", "acme")
        assert not store.revoke_token("okta", "acme")
        assert not store.revoke_token("nope", "acme")
        found = store.find_token("d" * 64)
        assert found is not None and found.revoked is not None

    # -- POSIX identities (docs/posix.md) -------------------------------------------------------

    def test_posix_setting_is_unset_until_chosen(self, store: Store) -> None:
        with store.write("t") as s:
            assert s.posix_setting() is None
            s.set_posix_enabled(False)
            assert s.posix_setting() is False
        with store.read("t") as s:
            assert s.posix_setting() is False
        with store.read("other") as s:
            assert s.posix_setting() is None

    def test_posix_numbers_are_never_reused(self, store: Store) -> None:
        with store.write("t") as s:
            a, b = (s.insert("User", _user(n), password=None) for n in "ab")
            assert s.allocate_posix("User", a.id, 100, 102) == 100
            assert s.posix_setting() is True  # allocating turns the tenant on
            g = s.insert("Group", {"displayName": "g"}, password=None)
            assert s.allocate_posix("Group", g.id, 500, 600) == 500  # one counter per kind
        with store.write("t") as s:
            s.delete("User", a.id)
            s.tombstone_posix("User", a.id)
            assert s.posix_record("User", a.id) is None
            assert s.allocate_posix("User", b.id, 100, 102) == 101
            c = s.insert("User", _user("c"), password=None)
            assert s.allocate_posix("User", c.id, 100, 102) == 102
            d = s.insert("User", _user("d"), password=None)
            assert s.allocate_posix("User", d.id, 100, 102) is None  # used up, 100 stays a tombstone
        with store.write("u") as s:  # counters are per tenant
            e = s.insert("User", _user("e"), password=None)
            assert s.allocate_posix("User", e.id, 100, 102) == 100

    def test_posix_usernames_are_held_by_one_live_user(self, store: Store) -> None:
        with store.write("t") as s:
            a, b = (s.insert("User", _user(n), password=None) for n in "ab")
            s.allocate_posix("User", a.id, 100, 200)
            s.allocate_posix("User", b.id, 100, 200)
            assert s.set_posix_user(a.id, "ann", True) is None
            assert s.set_posix_user(b.id, "ann", True) == a.id
            record = s.posix_record("User", a.id)
            assert record is not None and (record.number, record.username, record.active) == (100, "ann", True)
            got = s.get("User", a.id)
            assert got is not None and got.posix == record
        with store.write("t") as s:
            s.delete("User", a.id)
            s.tombstone_posix("User", a.id)
            assert s.set_posix_user(b.id, "ann", False) is None  # a deleted user's name is free again

    def test_group_reads_name_its_active_posix_members(self, store: Store) -> None:
        with store.write("t") as s:
            a, b = (s.insert("User", _user(n), password=None) for n in "ab")
            g = s.insert("Group", {"displayName": "g"}, password=None)
            for rid, name, active in ((a.id, "ann", True), (b.id, "bob", False)):
                s.allocate_posix("User", rid, 100, 200)
                s.set_posix_user(rid, name, active)
            s.allocate_posix("Group", g.id, 500, 600)
            s.add_members(g.id, [a.id, b.id])
        with store.read("t") as s:
            group = s.get("Group", g.id, expand=True)
        assert group is not None and group.member_usernames == {a.id: "ann"}
