"""Shared fixtures: a fresh app per test, a token for it, and an httpx client over WSGITransport."""

from __future__ import annotations

import os
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
from tests.postgres import PostgresCluster

SCIM = urns.MEDIA_TYPE


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    """A real PostgreSQL server for the session (tests/postgres.py), stopped by its pid at the end."""
    cluster = PostgresCluster(tmp_path_factory.mktemp("postgres"))
    try:
        yield cluster
    finally:
        cluster.stop()


# AUP_TEST_STORE=postgres runs every test that takes the default store on a real PostgreSQL instead of SQLite
# in memory (tox -e postgres): the server's tests prove both engines, not a subset chosen to pass.
ON_POSTGRES = os.environ.get("AUP_TEST_STORE", "sqlite") == "postgres"


_cluster: list[PostgresCluster] = []  # the session's PostgreSQL, once a test has started it


@pytest.fixture(autouse=True)
def _engine_for_state_machines(request: pytest.FixtureRequest) -> None:
    """Under AUP_TEST_STORE=postgres, start the session's PostgreSQL for code without fixtures (``fresh_db``)."""
    if ON_POSTGRES and not _cluster:
        _cluster.append(request.getfixturevalue("postgres"))


def fresh_db() -> str:
    """A new empty database for code that cannot take fixtures (hypothesis state machines): SQLite in memory, or a
    PostgreSQL database under AUP_TEST_STORE=postgres."""
    return _cluster[0].new_database() if ON_POSTGRES else ":memory:"


@pytest.fixture
def make_store(request: pytest.FixtureRequest) -> Iterator[Callable[..., Store]]:
    """``make_store(**settings)``: a store opened as the server opens one (``open_store``), closed at teardown.

    ``settings`` are ServerConfig fields, e.g. ``db=str(tmp_path / "aup.db")`` or ``unique_group_names=False``.
    Without ``db`` it is SQLite in memory, or a new PostgreSQL database under ``AUP_TEST_STORE=postgres``.
    """
    opened: list[Store] = []

    def make(**settings: Any) -> Store:
        if ON_POSTGRES and "db" not in settings:
            settings["db"] = request.getfixturevalue("postgres").new_database()
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
