"""The embedded reference server, in process: what CLI commands use when no --target is given.

It is the one door through which front-ends (the CLI, bench/) build the server in process; ``aup serve``
builds it for waitress in ``aup.cli``. See docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import Store, open_store
from scimcore.client import IN_PROCESS_SCIM_URL, WSGIApp

EMBEDDED_BASE_URL = IN_PROCESS_SCIM_URL


@dataclass(frozen=True)
class Embedded:
    """The app, a bearer token for it, and its store (bench/ fills it directly before measuring over HTTP)."""

    app: WSGIApp
    token: str
    store: Store
    base_url: str = EMBEDDED_BASE_URL


@contextmanager
def embedded_server(
    config: ServerConfig | None = None, *, db: str = ":memory:", name: str = "embedded"
) -> Iterator[Embedded]:
    """A fresh reference server (in memory unless ``db`` names a file) with a new token; closed afterwards."""
    store = open_store(replace(config or ServerConfig(), db=db))
    try:
        app = create_app(config, store=store)
        yield Embedded(app=app, token=issue_token(store, name), store=store)
    finally:
        store.close()
