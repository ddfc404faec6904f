"""Root configuration: where the service provider under test is, and the step libraries of features/.

By default every scenario gets a fresh embedded server in process. ``--scim-url URL --scim-token T``
(and ``--scim-auth`` as ``aup``'s ``--auth``) runs the same features against any SCIM 2.0 service
provider; scenarios prefix every name they create with a run id and delete what they created, so a
shared server is safe.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aup.commands.connection import AUTH_KINDS, ConnectionOptions
from aup.commands.exits import UsageProblem
from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store
from features.steps.target import ScimTarget
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.target import Bearer, Target

pytest_plugins = [
    "features.steps.world",
    "features.steps.common_steps",
    "features.steps.okta_steps",
    "features.steps.entra_steps",
    "features.steps.posix",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aup", "SCIM service provider under test")
    group.addoption("--scim-url", default=None, help="SCIM base URL to run the features against (default: embedded)")
    group.addoption("--scim-token", default=None, help="bearer token for --scim-url")
    group.addoption(
        "--scim-auth",
        default="bearer",
        choices=AUTH_KINDS,
        help="how --scim-token is sent, as aup's --auth: bearer, header (verbatim), basic (USER:PASSWORD) or none",
    )


@pytest.fixture
def scim_target(request: pytest.FixtureRequest) -> Iterator[ScimTarget]:
    """The service provider: ``--scim-url``/``--scim-token``/``--scim-auth``, or a fresh embedded server."""
    url = request.config.getoption("--scim-url")
    if url:
        token = request.config.getoption("--scim-token")
        kind = request.config.getoption("--scim-auth")
        if not token and kind != "none":
            raise pytest.UsageError("--scim-url needs --scim-token (a bearer token the server accepts)")
        try:
            target = ConnectionOptions(target=url, token=token, auth=kind).resolve()
        except UsageProblem as exc:
            raise pytest.UsageError(str(exc)) from None
        yield ScimTarget(target)
        return
    store = open_store(ServerConfig())
    try:
        yield ScimTarget(Target(IN_PROCESS_SCIM_URL, Bearer(issue_token(store, "bdd")), app=create_app(store=store)))
    finally:
        store.close()
