"""The embedded reference server, in process: what CLI commands use when no --target is given."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import SqliteStore
from scimcore.client import IN_PROCESS_BASE_URL, WSGIApp

EMBEDDED_BASE_URL = f"{IN_PROCESS_BASE_URL}/scim/v2"


@dataclass(frozen=True)
class Embedded:
    app: WSGIApp
    token: str
    base_url: str = EMBEDDED_BASE_URL


@contextmanager
def embedded_server(
    config: ServerConfig | None = None, *, db: str = ":memory:", name: str = "embedded"
) -> Iterator[Embedded]:
    """A fresh reference server (in memory unless ``db`` names a file) with a new token; closed afterwards."""
    store = SqliteStore(db)
    try:
        app = create_app(config, store=store)
        yield Embedded(app=app, token=issue_token(store, name))
    finally:
        store.close()
