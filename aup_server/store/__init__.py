"""Storage: the ``Store`` protocol, the rules every engine shares, and ``open_store`` (SQLite is the default)."""

from aup_server.store.base import LookupKey, ResourceKind, Session, Store, StoredResource, TokenRecord
from aup_server.store.engines import check_store_matches, open_store, shown_db
from aup_server.store.rules import StoreRules
from aup_server.store.sqlite import SqliteStore

__all__ = [
    "LookupKey",
    "ResourceKind",
    "Session",
    "SqliteStore",
    "Store",
    "StoreRules",
    "StoredResource",
    "TokenRecord",
    "check_store_matches",
    "open_store",
    "shown_db",
]
