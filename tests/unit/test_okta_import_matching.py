"""Okta's import as its User Creation & Matching settings describe it (docs/okta-idp.md §3): imported app users are
matched to Okta users exactly (username or email, case sensitive) or partially (first and last name), and only a
confirmed match is linked, so that the next push updates the app user instead of creating another."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store
from emulators.core.clock import FakeClock
from emulators.core.directory import AppAssignments, Directory, User
from emulators.core.errors import ConfigurationError
from emulators.okta import OKTA_OIN, OktaEmulator, OktaSettings
from scimcore.client import IN_PROCESS_SCIM_URL, BearerAuth, make_http

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


@pytest.fixture
def app_users() -> Iterator[tuple[object, list[str]]]:
    """A server already holding three app users Okta has not provisioned."""
    store = open_store(ServerConfig())
    http = make_http(create_app(store=store), BearerAuth(issue_token(store, "i")), base_url=IN_PROCESS_SCIM_URL)
    ids = []
    for user_name, given, family, email in (
        ("ann@x.test", "Ann", "Lee", "ann@x.test"),
        ("B.Ng@x.test", "Ben", "Ng", "ben.mail@x.test"),
        ("cat@old.test", "Cat", "Zo", "cat@old.test"),
    ):
        body = {"schemas": [USER], "userName": user_name, "name": {"givenName": given, "familyName": family},
                "emails": [{"value": email, "type": "work", "primary": True}], "active": True}  # fmt: skip
        ids.append(http.post("/Users", json=body).json()["id"])
    yield http, ids
    http.close()
    store.close()


def okta(http: object, **settings: object) -> OktaEmulator:
    people = (
        ("00uann", "ann@x.test", "ann@x.test", "Ann", "Lee"),
        ("00uben", "b.ng@x.test", "ben.mail@x.test", "Ben", "Ng"),
        ("00ucat", "cat@new.test", "cat@new.test", "Cat", "Zo"),
    )
    users = {
        uid: User(uid, {"login": login, "email": email, "firstName": first, "lastName": last})
        for uid, login, email, first, last in people
    }
    directory = Directory(users, {}, AppAssignments(users=list(users)))
    return OktaEmulator(directory, http, OKTA_OIN, settings=OktaSettings(**settings), clock=FakeClock())  # type: ignore[arg-type]


def kinds(emulator: OktaEmulator) -> dict[str, tuple[str | None, str]]:
    return {m.user_name: (m.okta_user, m.kind) for m in emulator.imported.matches}


def test_username_matching_is_exact_and_case_sensitive(app_users: tuple[object, list[str]]) -> None:
    http, _ = app_users
    emulator = okta(http)
    emulator.import_users()
    assert kinds(emulator) == {
        "ann@x.test": ("00uann", "exact"),
        "B.Ng@x.test": (None, "none"),  # "Matches are case sensitive" (Okta)
        "cat@old.test": (None, "none"),
    }
    assert emulator.links.links("user") == {}, "nothing is linked before a confirmation"


def test_email_matching_and_partial_matches(app_users: tuple[object, list[str]]) -> None:
    http, _ = app_users
    emulator = okta(http, import_match="email", allow_partial_matches=True)
    emulator.import_users()
    assert kinds(emulator) == {
        "ann@x.test": ("00uann", "exact"),
        "B.Ng@x.test": ("00uben", "exact"),
        "cat@old.test": ("00ucat", "partial"),  # same first and last name, other username and email
    }


def test_confirmation_links_and_the_next_push_updates_instead_of_creating(app_users: tuple[object, list[str]]) -> None:
    http, ids = app_users
    emulator = okta(http, import_match="email", allow_partial_matches=True)
    emulator.import_users()
    assert [m.user_name for m in emulator.confirm_import()] == ["ann@x.test", "B.Ng@x.test"]
    assert emulator.links.links("user") == {"00uann": ids[0], "00uben": ids[1]}
    assert [m.user_name for m in emulator.confirm_import(partial=True)] == ["cat@old.test"]
    emulator.update_profile("00ucat", {"lastName": "Zoë"})  # a push to the linked app user
    assert http.get(f"/Users/{ids[2]}").json()["name"]["familyName"] == "Zoë"  # type: ignore[attr-defined]
    assert http.get("/Users").json()["totalResults"] == 3, "no user created twice"  # type: ignore[attr-defined]


def test_confirm_matched_users_links_exact_matches_at_import(app_users: tuple[object, list[str]]) -> None:
    http, ids = app_users
    emulator = okta(http, confirm_matched=True, allow_partial_matches=True)
    result = emulator.import_users()
    assert result.counts() == {"exact": 1, "partial": 2, "none": 0, "confirmed": 1}
    assert emulator.links.links("user") == {"00uann": ids[0]}, "partial matches always wait for the admin"


def test_an_unknown_matching_rule_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="import_match 'phone'"):
        OktaSettings(import_match="phone")
