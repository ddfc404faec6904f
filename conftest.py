"""Root configuration: where the service provider under test is, and the step libraries of features/.

By default every scenario gets a fresh embedded server in process. ``--scim-url URL --scim-token T``
runs the same features against any SCIM 2.0 service provider; scenarios prefix every name they
create with a run id and delete what they created, so a shared server is safe.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.store import SqliteStore
from features.steps.target import ScimTarget

pytest_plugins = [
    "features.steps.world",
    "features.steps.common_steps",
    "features.steps.okta_steps",
    "features.steps.entra_steps",
    "features.steps.posix",
]

IN_PROCESS_BASE_URL = "http://scim.test/scim/v2"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aup", "SCIM service provider under test")
    group.addoption("--scim-url", default=None, help="SCIM base URL to run the features against (default: embedded)")
    group.addoption("--scim-token", default=None, help="bearer token for --scim-url")


@pytest.fixture
def scim_target(request: pytest.FixtureRequest) -> Iterator[ScimTarget]:
    """The service provider: ``--scim-url``/``--scim-token``, or a fresh embedded server."""
    url = request.config.getoption("--scim-url")
    if url:
        token = request.config.getoption("--scim-token")
        if not token:
            raise pytest.UsageError("--scim-url needs --scim-token (a bearer token the server accepts)")
        yield ScimTarget(url.rstrip("/"), token)
        return
    store = SqliteStore(":memory:")
    try:
        yield ScimTarget(IN_PROCESS_BASE_URL, issue_token(store, "bdd"), app=create_app(store=store))
    finally:
        store.close()
