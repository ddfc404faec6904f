"""In-process WSGI apps for the pytest plugin test (``--conformance-app tests.conformance.apps:<factory>``)."""

from __future__ import annotations

from typing import Any

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store
from tests.conformance.breakers_idp import BREAKERS as IDP_BREAKERS
from tests.conformance.breakers_rfc import BREAKERS
from tests.conformance.faulty import Faulty, State


def reference() -> tuple[Any, str]:
    store = open_store(ServerConfig())
    return create_app(store=store), issue_token(store, "plugin")


def broken_eq() -> tuple[Any, str]:
    """The reference server reading ``userName eq`` as ``ne``."""
    app, token = reference()
    return Faulty(app, BREAKERS["rfc7644-3.4.2.2-filter-eq"], State(token=token)), token


def broken_entra_group() -> tuple[Any, str]:
    """The reference server refusing Entra's group create (the schema it lists): the Entra sync checks stand on it."""
    app, token = reference()
    return Faulty(app, IDP_BREAKERS["entra-create-group"], State(token=token, memory={"app": app})), token
