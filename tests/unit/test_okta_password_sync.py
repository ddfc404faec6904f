"""Okta's "Sync password" (docs/okta-idp.md §4.3, §6): with it on, the user's Okta password goes out on create and
follows every change at once (PATCH in OIN apps, GET and PUT in AIW apps); with it off, a create carries Okta's
random 8-character placeholder and a change sends nothing."""

from __future__ import annotations

from typing import Any

import pytest

from emulators.core.directory import AppAssignments, Directory, User
from emulators.core.errors import DirectoryError
from emulators.okta import OKTA_AIW, OKTA_OIN, OktaEmulator, OktaProfile, OktaSettings
from tests.unit.okta_setup import make_okta
from tests.unit.scim_fake import FakeScim


def okta(profile: OktaProfile = OKTA_OIN, *, sync: bool) -> tuple[OktaEmulator, FakeScim]:
    ann = User("00uann", {"login": "ann@x.test", "email": "ann@x.test", "firstName": "Ann", "lastName": "Lee"})
    directory = Directory({"00uann": ann}, {}, AppAssignments(users=["00uann"]))
    return make_okta(directory, profile, settings=OktaSettings(sync_password=sync))


def bodies(fake: FakeScim, method: str) -> list[Any]:
    return [body for (m, _), body in zip(fake.calls(), fake.bodies(), strict=True) if m == method]


def test_with_sync_on_the_create_carries_the_okta_password_and_a_change_follows() -> None:
    emulator, fake = okta(sync=True)
    emulator.set_password("00uann", "Correct-Horse-1")
    emulator.assign_user("00uann")
    assert bodies(fake, "POST")[0]["password"] == "Correct-Horse-1"
    emulator.set_password("00uann", "Battery-Staple-2")
    assert bodies(fake, "PATCH")[-1] == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"password": "Battery-Staple-2"}}],
    }


def test_in_an_aiw_app_the_change_is_a_get_then_a_put_with_the_password() -> None:
    emulator, fake = okta(OKTA_AIW, sync=True)
    emulator.assign_user("00uann")
    emulator.set_password("00uann", "Battery-Staple-2")
    assert bodies(fake, "PUT")[-1]["password"] == "Battery-Staple-2"


def test_with_sync_off_a_create_carries_a_placeholder_and_a_change_sends_nothing() -> None:
    emulator, fake = okta(sync=False)
    emulator.set_password("00uann", "Correct-Horse-1")
    emulator.assign_user("00uann")
    placeholder = bodies(fake, "POST")[0]["password"]
    assert placeholder != "Correct-Horse-1" and len(placeholder) == 8
    sent = len(fake.requests)
    assert emulator.set_password("00uann", "Battery-Staple-2") == []
    assert len(fake.requests) == sent
    with pytest.raises(DirectoryError, match="cannot be empty"):
        emulator.set_password("00uann", "")
