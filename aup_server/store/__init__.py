"""Storage: the ``Store`` protocol and its engines (SQLite is the embedded default)."""

from aup_server.store.base import LookupKey, ResourceKind, Session, Store, StoredResource, TokenRecord
from aup_server.store.sqlite import SqliteStore

__all__ = ["LookupKey", "ResourceKind", "Session", "SqliteStore", "Store", "StoredResource", "TokenRecord"]
