"""The test-only IdP is registered for every test here, and only for them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulators.registry import IdpSpec, registered
from tests.idps.toy import TOY


@pytest.fixture(autouse=True)
def toy_idp() -> Iterator[IdpSpec]:
    with registered(TOY) as spec:
        yield spec
