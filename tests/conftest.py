"""Shared fixtures: a fresh app per test, a token for it, and an httpx client over WSGITransport."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from flask import Flask

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import Store, open_store
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL

SCIM = urns.MEDIA_TYPE


@pytest.fixture
def make_store() -> Iterator[Callable[..., Store]]:
    """``make_store(**settings)``: a store opened as the server opens one (``open_store``), closed at teardown.

    ``settings`` are ServerConfig fields, e.g. ``db=str(tmp_path / "aup.db")`` or ``unique_group_names=False``.
    """
    opened: list[Store] = []

    def make(**settings: Any) -> Store:
        store = open_store(ServerConfig(**settings))
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: Callable[..., Store]) -> Store:
    return make_store()


@pytest.fixture
def app(store: Store) -> Flask:
    return create_app(store=store)


@pytest.fixture
def token(store: Store) -> str:
    return issue_token(store, "test")


@pytest.fixture
def client(app: Flask, token: str) -> Iterator[httpx.Client]:
    """A client of the default tenant: relative URLs like ``/Users`` resolve under /scim/v2."""
    transport = httpx.WSGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}", "Accept": SCIM}
    with httpx.Client(transport=transport, base_url=IN_PROCESS_SCIM_URL, headers=headers) as c:
        yield c
