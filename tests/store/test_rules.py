"""What stays above the store: userName identity, the write-time userName check, choosing an engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aup_server.app import create_app
from aup_server.config import ServerConfig
from aup_server.errors import InvalidValueError, UniquenessError
from aup_server.store import Store, open_store
from aup_server.store.names import user_name_key, user_name_problem
from aup_server.store.rules import StoreRules, check_user_name, hash_password


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


def test_index_keys_make_group_names_unique_only_when_asked() -> None:
    doc = {"displayName": "Eng", "externalId": "G1"}
    assert StoreRules().index_keys("Group", doc).unique == "eng"
    relaxed = StoreRules(unique_group_names=False).index_keys("Group", doc)
    assert (relaxed.unique, relaxed.name, relaxed.display, relaxed.external_id) == (None, "eng", "Eng", "G1")
    user = StoreRules(unique_group_names=False).index_keys("User", {"userName": "Ann", "emails": [{"value": "A@X"}]})
    assert (user.unique, user.emails) == ("ann", frozenset({"a@x"}))


def test_password_digests_are_salted_scrypt() -> None:
    one, two = hash_password("pw"), hash_password("pw")
    assert one != two and one.startswith("scrypt$") and "pw" not in one.split("$")


def test_a_lookalike_is_409_an_invisible_name_400_and_a_kept_legacy_name_neither(store: Store) -> None:
    with store.write("t") as s:
        s.insert("User", {"userName": "bob"}, password=None)
        # The store indexes what it is given: a name from before the rule, as a migrated store may hold.
        legacy = s.insert("User", {"userName": "carol "}, password=None)
    with store.write("t") as s:
        with pytest.raises(UniquenessError):
            check_user_name(s, "User", {"userName": "bob\u200b"}, legacy.id)
        with pytest.raises(InvalidValueError):
            check_user_name(s, "User", {"userName": "carol\u200b"}, legacy.id)
        with pytest.raises(UniquenessError):  # a new user cannot take the legacy name's lookalike
            check_user_name(s, "User", {"userName": "carol\u200b"})
        check_user_name(s, "User", {"userName": "carol ", "active": False}, legacy.id)
        check_user_name(s, "User", {"userName": "dave"})
        check_user_name(s, "Group", {"displayName": " padded "})


@pytest.mark.parametrize("db", ["mysql://x", "sqlite:///aup.db"])
def test_an_engine_url_this_build_lacks_is_a_clear_error(db: str) -> None:
    with pytest.raises(ValueError, match=r"not available in this build.*':memory:' or a postgresql:// URL"):
        open_store(ServerConfig(db=db))


def test_the_app_opens_its_store_from_the_config() -> None:
    app = create_app({"unique_group_names": False})
    state = app.extensions["aup"]
    assert (state.store.db, state.store.rules) == (":memory:", StoreRules(unique_group_names=False))
    state.store.close()


def test_a_given_store_supplies_the_settings_a_config_leaves_out(
    make_store: Callable[..., Store], tmp_path: Path
) -> None:
    store = make_store(db=str(tmp_path / "aup.db"), unique_group_names=False)
    for config in (None, {"max_count": 500}):
        served = create_app(config, store=store).extensions["aup"].config
        assert (served.db, served.unique_group_names) == (store.db, False)


@pytest.mark.parametrize(
    "config",
    [{"unique_group_names": True}, {"db": "other.db"}, ServerConfig(), ServerConfig(unique_group_names=True)],
)
def test_a_config_that_disagrees_with_the_given_store_is_refused(
    make_store: Callable[..., Store], tmp_path: Path, config: object
) -> None:
    store = make_store(db=str(tmp_path / "aup.db"), unique_group_names=False)
    with pytest.raises(ValueError, match=r"store given was opened with db=.*open_store\(config\)"):
        create_app(config, store=store)  # type: ignore[arg-type]
