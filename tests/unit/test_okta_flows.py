"""Okta user flows on the wire: request sequences, headers and bodies, against docs/okta-idp.md §2-§6."""

from __future__ import annotations

import pytest

from emulators.core.directory import Status
from emulators.core.errors import ConfigurationError
from emulators.core.mapping import MappingRule
from emulators.okta import OKTA_AIW, OKTA_DEFAULT_MAPPING, OKTA_OIN, OktaEmulator, OktaProfile, OktaSettings
from scimcore import urns
from scimcore.client import make_http
from tests.unit.okta_setup import SECOND_USER_ID, TEST_USER_ID, make_okta, normalised, s20_directory
from tests.unit.scim_fake import FakeScim, error_response

BOTH = pytest.mark.parametrize("profile", [OKTA_OIN, OKTA_AIW], ids=["oin", "aiw"])
LOOKUP = "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100"

# docs/okta-idp.md §4.3, the documented create body (password: a random 8-character placeholder).
S20_CREATE = {
    "schemas": [urns.USER],
    "userName": "test.user@okta.local",
    "name": {"givenName": "Test", "familyName": "User"},
    "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
    "displayName": "Test User",
    "locale": "en-US",
    "externalId": "00ujl29u0le5T6Aj10h7",
    "groups": [],
    "password": "<random>",
    "active": True,
}
# docs/okta-idp.md §6, the documented deactivation.
S20_DEACTIVATE = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]}


@BOTH
def test_every_request_carries_exactly_okta_headers(profile: OktaProfile) -> None:
    """docs/okta-idp.md §2 and §12: the header set, verbatim; Content-Type only with a body."""
    okta, fake = make_okta(profile=profile)
    okta.assign_user(TEST_USER_ID)
    okta.update_profile(TEST_USER_ID, {"firstName": "Tess"})
    base = {
        "host": "idp-target.test",
        "accept": "application/scim+json",
        "accept-charset": "utf-8",
        "user-agent": "Okta SCIM Client 1.0.0",
        "accept-encoding": "gzip,deflate",
        "connection": "Keep-Alive",
        "authorization": "Bearer t0ken",
    }
    for request in fake.requests:
        headers = dict(request.headers)
        if request.content:
            assert headers.pop("content-type") == "application/scim+json; charset=utf-8"
            assert headers.pop("content-length") == str(len(request.content))
        assert headers == base, request.method


@BOTH
def test_connection_test_reads_two_users(profile: OktaProfile) -> None:
    """docs/okta-idp.md §3: constant parameters, and /Groups only when group import is on."""
    okta, fake = make_okta(profile=profile)
    [task] = okta.test_connection()
    assert task.status.value == "DONE"
    assert fake.calls() == [("GET", "/Users?startIndex=1&count=2")]
    okta, fake = make_okta(profile=profile, settings=OktaSettings(import_groups=True))
    okta.test_connection()
    assert fake.calls() == [("GET", "/Users?startIndex=1&count=2"), ("GET", "/Groups?startIndex=1&count=100")]


@BOTH
def test_assigning_a_new_user_looks_it_up_then_posts_the_documented_body(profile: OktaProfile) -> None:
    """docs/okta-idp.md §4: the filter, then POST with password, groups [] and active true."""
    okta, fake = make_okta(profile=profile)
    okta.assign_user(TEST_USER_ID)
    assert fake.calls() == [("GET", LOOKUP), ("POST", "/Users")]
    body = fake.bodies()[1]
    assert normalised(body, {}) == S20_CREATE
    assert list(body) == list(S20_CREATE), "key order of the documented sample"
    assert okta.links.scim_id("user", TEST_USER_ID) == next(iter(fake.resources["Users"]))


def test_a_404_to_the_lookup_means_not_found() -> None:
    """docs/okta-idp.md §4.1: a no-match may be 200 with totalResults 0 or 404."""
    fake = FakeScim()
    fake.scripted = [error_response(404, "no such user")]
    okta, fake = make_okta(fake=fake)
    okta.assign_user(TEST_USER_ID)
    assert [method for method, _ in fake.calls()] == ["GET", "POST"]


def test_filter_values_are_json_quoted_and_percent_encoded() -> None:
    directory = s20_directory()
    directory.users[TEST_USER_ID].profile["login"] = 'zoë "q"@okta.local'
    okta, fake = make_okta(directory)
    okta.assign_user(TEST_USER_ID)
    assert fake.calls()[0][1] == (
        "/Users?filter=userName%20eq%20%22zo%C3%AB%20%5C%22q%5C%22%40okta.local%22&startIndex=1&count=100"
    )


@pytest.mark.parametrize(
    ("profile", "expected"),
    [(OKTA_OIN, ["GET", "GET", "PUT", "PATCH"]), (OKTA_AIW, ["GET", "GET", "PUT"])],
    ids=["oin", "aiw"],
)
def test_assigning_an_existing_inactive_user_links_updates_and_activates(
    profile: OktaProfile, expected: list[str]
) -> None:
    """docs/okta-idp.md §4.2: link, no second create; OIN activates by PATCH, AIW in the PUT (inferred)."""
    okta, fake = make_okta(profile=profile)
    existing = fake.add("Users", {"schemas": [urns.USER], "userName": "TEST.USER@okta.local", "active": False})
    okta.assign_user(TEST_USER_ID)
    assert [method for method, _ in fake.calls()] == expected
    assert okta.links.scim_id("user", TEST_USER_ID) == existing["id"]
    assert fake.resources["Users"][existing["id"]]["active"] is True
    assert fake.resources["Users"][existing["id"]]["name"]["givenName"] == "Test"


@BOTH
def test_profile_change_is_get_then_put_of_the_server_resource(profile: OktaProfile) -> None:
    """docs/okta-idp.md §5: the PUT echoes id and meta, overwrites mapped attributes, keeps active."""
    okta, fake = make_okta(profile=profile)
    okta.assign_user(TEST_USER_ID)
    scim_id = okta.links.scim_id("user", TEST_USER_ID)
    fake.resources["Users"][scim_id]["nickName"] = "server-side"
    fake.requests.clear()
    okta.update_profile(TEST_USER_ID, {"firstName": "Tess", "displayName": None})
    assert fake.calls() == [("GET", f"/Users/{scim_id}"), ("PUT", f"/Users/{scim_id}")]
    put = fake.bodies()[1]
    assert put["id"] == scim_id and put["meta"]["resourceType"] == "User"
    assert put["name"] == {"givenName": "Tess", "familyName": "User"}
    assert "displayName" not in put and put["nickName"] == "server-side"
    assert put["externalId"] == TEST_USER_ID and put["groups"] == [] and put["active"] is True
    assert "password" not in put


def test_changes_that_do_not_touch_a_mapped_value_send_nothing() -> None:
    okta, fake = make_okta()
    okta.assign_user(TEST_USER_ID)
    fake.requests.clear()
    assert okta.update_profile(TEST_USER_ID, {"title": "CTO", "firstName": "Test"}) == []
    assert fake.requests == []


def test_unknown_profile_attributes_are_refused() -> None:
    okta, _ = make_okta()
    with pytest.raises(ConfigurationError, match="unknown profile attribute"):
        okta.update_profile(TEST_USER_ID, {"favouriteColour": "blue"})


def test_oin_deactivation_is_the_documented_pathless_patch() -> None:
    """docs/okta-idp.md §6 and §10.1."""
    okta, fake = make_okta()
    okta.assign_user(TEST_USER_ID)
    scim_id = okta.links.scim_id("user", TEST_USER_ID)
    fake.requests.clear()
    okta.deactivate_user(TEST_USER_ID)
    assert fake.calls() == [("PATCH", f"/Users/{scim_id}")]
    assert fake.bodies() == [S20_DEACTIVATE]


def test_aiw_deactivation_is_get_then_put_of_the_whole_object() -> None:
    okta, fake = make_okta(profile=OKTA_AIW)
    okta.assign_user(TEST_USER_ID)
    scim_id = okta.links.scim_id("user", TEST_USER_ID)
    fake.requests.clear()
    okta.unassign_user(TEST_USER_ID)
    assert fake.calls() == [("GET", f"/Users/{scim_id}"), ("PUT", f"/Users/{scim_id}")]
    put = fake.bodies()[1]
    assert put["active"] is False and put["userName"] == "test.user@okta.local" and put["id"] == scim_id


@BOTH
def test_unassign_then_reassign_finds_the_same_scim_user(profile: OktaProfile) -> None:
    """docs/okta-idp.md §6 and §11b steps 7-11: no DELETE, no second POST, the same id comes back active."""
    okta, fake = make_okta(profile=profile)
    okta.assign_user(TEST_USER_ID)
    scim_id = okta.links.scim_id("user", TEST_USER_ID)
    okta.unassign_user(TEST_USER_ID)
    assert okta.links.scim_id("user", TEST_USER_ID) is None
    assert fake.resources["Users"][scim_id]["active"] is False
    okta.assign_user(TEST_USER_ID)
    assert okta.links.scim_id("user", TEST_USER_ID) == scim_id
    assert fake.resources["Users"][scim_id]["active"] is True
    methods = [method for method, _ in fake.calls()]
    assert methods.count("POST") == 1 and "DELETE" not in methods


@pytest.mark.parametrize(
    ("profile", "expected"), [(OKTA_OIN, ["PATCH"]), (OKTA_AIW, ["GET", "PUT"])], ids=["oin", "aiw"]
)
def test_reactivating_a_group_assigned_user_activates_the_linked_app_user(
    profile: OktaProfile, expected: list[str]
) -> None:
    """docs/okta-idp.md §6 "Activating a user": OIN PATCH (body by symmetry, inferred), AIW GET then PUT."""
    directory = s20_directory()
    directory.groups[next(iter(directory.groups))].members.append(TEST_USER_ID)
    okta, fake = make_okta(directory, profile)
    okta.assign_group(next(iter(directory.groups)))
    scim_id = okta.links.scim_id("user", TEST_USER_ID)
    okta.deactivate_user(TEST_USER_ID)
    assert okta.links.scim_id("user", TEST_USER_ID) == scim_id, "still assigned through the group"
    fake.requests.clear()
    okta.reactivate_user(TEST_USER_ID)
    assert [method for method, _ in fake.calls()] == expected
    if profile is OKTA_OIN:
        assert fake.bodies()[0]["Operations"] == [{"op": "replace", "value": {"active": True}}]
    assert fake.resources["Users"][scim_id]["active"] is True


def test_suspend_unsuspend_and_delete_send_no_delete_and_nothing_extra() -> None:
    """docs/okta-idp.md §6 and §10.11, §10.14."""
    okta, fake = make_okta()
    okta.assign_user(TEST_USER_ID)
    fake.requests.clear()
    assert okta.suspend_user(TEST_USER_ID) == [] and okta.unsuspend_user(TEST_USER_ID) == []
    assert fake.requests == []
    okta.delete_user(TEST_USER_ID)
    assert [method for method, _ in fake.calls()] == ["PATCH"]
    assert TEST_USER_ID not in okta.directory.users


def test_deleting_a_deactivated_user_sends_nothing() -> None:
    okta, fake = make_okta()
    okta.assign_user(TEST_USER_ID)
    okta.deactivate_user(TEST_USER_ID)
    fake.requests.clear()
    assert okta.delete_user(TEST_USER_ID) == [] and fake.requests == []


def test_group_assignment_provisions_members_and_unassignment_deactivates_them() -> None:
    """docs/okta-idp.md §6 triggers; Okta QA plan tests C9307 and C9311 (§11c)."""
    directory = s20_directory()
    group_id = next(iter(directory.groups))
    directory.groups[group_id].members += [TEST_USER_ID, SECOND_USER_ID]
    directory.app.users.append(SECOND_USER_ID)
    okta, fake = make_okta(directory)
    okta.assign_group(group_id)
    assert [m for m, _ in fake.calls()] == ["GET", "POST", "GET", "POST"]
    fake.requests.clear()
    okta.unassign_group(group_id)
    assert okta.links.scim_id("user", SECOND_USER_ID) is not None, "still directly assigned, not deactivated"
    assert okta.links.scim_id("user", TEST_USER_ID) is None
    assert [m for m, _ in fake.calls()] == ["PATCH"]


def test_deactivated_users_are_not_provisioned() -> None:
    directory = s20_directory()
    directory.users[TEST_USER_ID].status = Status.DEPROVISIONED
    okta, fake = make_okta(directory)
    assert okta.assign_user(TEST_USER_ID) == [] and fake.requests == []


@BOTH
def test_force_sync_overwrites_drift_and_never_changes_active(profile: OktaProfile) -> None:
    okta, fake = make_okta(profile=profile)
    okta.assign_user(TEST_USER_ID)
    scim_id = okta.links.scim_id("user", TEST_USER_ID)
    fake.resources["Users"][scim_id]["name"]["givenName"] = "Drifted"
    fake.resources["Users"][scim_id]["active"] = False
    fake.requests.clear()
    okta.force_sync()
    assert fake.calls() == [("GET", f"/Users/{scim_id}"), ("PUT", f"/Users/{scim_id}")]
    assert fake.resources["Users"][scim_id]["name"]["givenName"] == "Test"
    assert fake.bodies()[1]["active"] is False


def test_import_pages_by_hundred_and_skips_inactive_users() -> None:
    """docs/okta-idp.md §3."""
    okta, fake = make_okta(settings=OktaSettings(import_groups=True))
    for number in range(250):
        fake.add("Users", {"userName": f"u{number}@x", "active": number % 10 != 0})
    result = okta.import_users()
    assert [url for _, url in fake.calls()] == [
        "/Users?startIndex=1&count=100",
        "/Users?startIndex=101&count=100",
        "/Users?startIndex=201&count=100",
        "/Groups?startIndex=1&count=100",
    ]
    assert result.scanned == 250 and len(result.users) == 225 and result.groups == []


@pytest.mark.parametrize(
    ("profile", "expected"), [(OKTA_OIN, ["PATCH"]), (OKTA_AIW, ["GET", "PUT"])], ids=["oin", "aiw"]
)
def test_password_sync_by_patch_or_put(profile: OktaProfile, expected: list[str]) -> None:
    """docs/okta-idp.md §6; the OIN body is undocumented and inferred."""
    okta, fake = make_okta(profile=profile, settings=OktaSettings(sync_password=True))
    okta.assign_user(TEST_USER_ID)
    fake.requests.clear()
    okta.sync_password(TEST_USER_ID, "n3w-Secret")
    assert [m for m, _ in fake.calls()] == expected
    body = fake.bodies()[-1]
    sent = body["Operations"][0]["value"]["password"] if profile is OKTA_OIN else body["password"]
    assert sent == "n3w-Secret"
    assert "n3w-Secret" not in str(okta.tasks.to_data())


def test_password_sync_needs_the_setting() -> None:
    okta, _ = make_okta()
    with pytest.raises(ConfigurationError, match="password sync is off"):
        okta.sync_password(TEST_USER_ID)


def test_a_bad_mapping_fails_before_any_request() -> None:
    fake = FakeScim()
    bad = OKTA_DEFAULT_MAPPING.merged([MappingRule("title", "user.titel")])
    with pytest.raises(ConfigurationError, match=r"did you mean user\.title"):
        OktaEmulator(s20_directory(), make_http(fake.transport), mapping=bad)
    assert fake.requests == []


def test_settings_switch_operations_off() -> None:
    okta, fake = make_okta(settings=OktaSettings(create_users=False, update_users=False))
    okta.assign_user(TEST_USER_ID)
    okta.update_profile(TEST_USER_ID, {"firstName": "X"})
    assert fake.requests == []
