"""``open_store``: the one way to open a store, choosing its engine from ``ServerConfig.db`` (docs/stores.md)."""

from __future__ import annotations

import re

from aup_server.config import ServerConfig
from aup_server.store.base import Store
from aup_server.store.rules import StoreRules
from aup_server.store.sqlite import SqliteStore

_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
ACCEPTED = "a SQLite file path, ':memory:' or a postgresql:// URL"
POSTGRES_SCHEMES = ("postgresql", "postgres")


_PASSWORD = re.compile(r"(?P<user>://[^/@:]*):[^/@]*@")


def shown_db(db: str) -> str:
    """``db`` as it may be printed or logged: a URL's password is replaced by ``***``."""
    return _PASSWORD.sub(r"\g<user>:***@", db)


def store_rules(config: ServerConfig) -> StoreRules:
    """The rules a store opened from ``config`` applies (store/rules.py)."""
    return StoreRules(unique_group_names=config.unique_group_names)


def open_store(config: ServerConfig) -> Store:
    """Open the store ``config.db`` names: a file path or ":memory:" is SQLite, a ``postgresql://`` URL PostgreSQL.

    Raises ValueError for an engine this build does not have, naming the values it accepts.
    """
    url = _URL.match(config.db)
    if url is None:
        return SqliteStore(config.db, rules=store_rules(config))
    if url["scheme"].lower() not in POSTGRES_SCHEMES:
        raise ValueError(
            f"the {url['scheme']!r} store engine is not available in this build; the database must be {ACCEPTED}"
        )
    try:
        from aup_server.store.postgres import PostgresStore  # noqa: PLC0415 - psycopg is an optional extra
    except ImportError as exc:
        raise ValueError(
            f"the PostgreSQL store needs psycopg ({exc.name} is not installed): pip install 'aup-harness[postgres]'"
        ) from None
    return PostgresStore(config.db, rules=store_rules(config))


def check_store_matches(config: ServerConfig, store: Store) -> None:
    """Refuse a config whose store settings disagree with a store opened elsewhere: one of them would be ignored."""
    expected = store_rules(config)
    if config.db != store.db or expected != store.rules:
        raise ValueError(
            f"the store given was opened with db={store.db!r}, unique_group_names={store.rules.unique_group_names}"
            f" but the config says db={config.db!r}, unique_group_names={config.unique_group_names}; open the store"
            " from this config (open_store(config)) or leave those settings out of the config"
        )
