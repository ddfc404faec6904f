"""Shared fixtures: a fresh app per test, a token for it, and an httpx client over WSGITransport."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from flask import Flask

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.store import SqliteStore
from scimcore import urns

SCIM = urns.MEDIA_TYPE


@pytest.fixture
def store() -> Iterator[SqliteStore]:
    st = SqliteStore(":memory:")
    yield st
    st.close()


@pytest.fixture
def app(store: SqliteStore) -> Flask:
    return create_app(store=store)


@pytest.fixture
def token(store: SqliteStore) -> str:
    return issue_token(store, "test")


@pytest.fixture
def client(app: Flask, token: str) -> Iterator[httpx.Client]:
    """A client of the default tenant: relative URLs like ``/Users`` resolve under /scim/v2."""
    transport = httpx.WSGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}", "Accept": SCIM}
    with httpx.Client(transport=transport, base_url="http://scim.test/scim/v2", headers=headers) as c:
        yield c
