"""Shared setup for the Okta flow tests: the sample user from Okta's SCIM 2.0 reference, and an emulator on a fake."""

from __future__ import annotations

import re
from typing import Any

from emulators.core.clock import FakeClock
from emulators.core.directory import Directory, Group, User
from emulators.okta import OKTA_OIN, OktaEmulator, OktaProfile, OktaSettings
from scimcore.client import BearerAuth, make_http
from tests.unit.scim_fake import BASE_URL, FakeScim

# The user of docs/okta-idp.md §4.3, with the Okta id the sample body carries as externalId.
TEST_USER_ID = "00ujl29u0le5T6Aj10h7"
SECOND_USER_ID = "00ujl29u0le5T6Aj10h8"
GROUP_ID = "00gjl29u0le5T6Aj10h9"
PASSWORD = re.compile(r"^[a-z0-9]{8}$")


def s20_directory() -> Directory:
    test_user = User(
        TEST_USER_ID,
        {
            "login": "test.user@okta.local",
            "email": "test.user@okta.local",
            "firstName": "Test",
            "lastName": "User",
            "displayName": "Test User",
            "locale": "en-US",
            "title": "Engineer",
        },
    )
    second = User(SECOND_USER_ID, {"login": "second.user@okta.local", "firstName": "Second", "lastName": "User"})
    group = Group(GROUP_ID, "Test SCIMv2")
    return Directory(users={u.id: u for u in (test_user, second)}, groups={group.id: group})


def make_okta(
    directory: Directory | None = None,
    profile: OktaProfile = OKTA_OIN,
    *,
    settings: OktaSettings | None = None,
    fake: FakeScim | None = None,
    clock: FakeClock | None = None,
) -> tuple[OktaEmulator, FakeScim]:
    fake = fake or FakeScim()
    http = make_http(fake.transport, BearerAuth("t0ken"), base_url=BASE_URL)
    emulator = OktaEmulator(directory or s20_directory(), http, profile, settings=settings, clock=clock or FakeClock())
    return emulator, fake


def normalised(body: Any, ids: dict[str, str]) -> Any:
    """Replace server-assigned ids by names and the random password by a marker (docs/okta-idp.md §12)."""
    if isinstance(body, list):
        return [normalised(item, ids) for item in body]
    if isinstance(body, dict):
        out = {key: normalised(value, ids) for key, value in body.items()}
        if isinstance(out.get("password"), str) and PASSWORD.match(out["password"]):
            out["password"] = "<random>"
        return out
    if isinstance(body, str):
        for real, name in ids.items():
            body = body.replace(real, name)
    return body
