"""Okta Group Push on the wire, against docs/okta-idp.md §7."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import pytest

from emulators.core.clock import FakeClock
from emulators.core.directory import Directory
from emulators.core.errors import DirectoryError
from emulators.okta import OKTA_AIW, OKTA_OIN, PROFILES, OktaEmulator, OktaProfile, OktaSettings, TaskStatus
from emulators.okta.profile import OKTA_OIN_MEMBERS_IN_POST
from scimcore import urns
from scimcore.client import BearerAuth, make_http
from scimcore.faults import Fault, FaultTransport, Match, Rule, Script
from tests.unit.okta_setup import GROUP_ID, SECOND_USER_ID, TEST_USER_ID, make_okta, normalised, s20_directory
from tests.unit.scim_fake import BASE_URL, FakeScim

GROUP_LOOKUP = "/Groups?filter=displayName%20eq%20%22Test%20SCIMv2%22&startIndex=1&count=100"
PATCH = urns.PATCH_OP


def provisioned(
    profile: OktaProfile = OKTA_OIN,
    settings: OktaSettings | None = None,
    members: tuple[str, ...] = (),
    *,
    pushed: bool = True,
) -> tuple[OktaEmulator, FakeScim, Directory]:
    """Both users assigned and provisioned, the group pushed unless ``pushed`` is false; requests so far forgotten."""
    directory = s20_directory()
    directory.groups[GROUP_ID].members.extend(members)
    okta, fake = make_okta(directory, profile, settings=settings)
    okta.assign_user(TEST_USER_ID)
    okta.assign_user(SECOND_USER_ID)
    if pushed:
        okta.push_group(GROUP_ID)
    fake.requests.clear()
    return okta, fake, directory


def names(okta: OktaEmulator) -> dict[str, str]:
    ids = {okta.links.scim_id("user", uid): uid for uid in (TEST_USER_ID, SECOND_USER_ID)}
    ids[okta.links.scim_id("group", GROUP_ID)] = "GROUP"
    return {str(real): name for real, name in ids.items() if real}


def both_members(okta: OktaEmulator) -> list[dict[str, Any]]:
    """The sample users of Okta's SCIM 2.0 reference as Okta names them (docs/okta-idp.md §7): SCIM id, userName
    shown."""
    return [
        {"value": okta.links.scim_id("user", TEST_USER_ID), "display": "test.user@okta.local"},
        {"value": okta.links.scim_id("user", SECOND_USER_ID), "display": "second.user@okta.local"},
    ]


def rename_body(okta: OktaEmulator) -> dict[str, Any]:
    group = okta.links.scim_id("group", GROUP_ID)
    return {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"id": group, "displayName": "Test SCIMv2"}}]}


def test_pushing_an_empty_group_looks_up_the_name_then_posts_it_and_sends_nothing_else() -> None:
    """docs/okta-idp.md §7: the documented lookup URL and create body; no member to push, so no PATCH."""
    okta, fake = make_okta()
    okta.push_group(GROUP_ID)
    assert fake.calls() == [("GET", GROUP_LOOKUP), ("POST", "/Groups")]
    assert fake.bodies()[1] == {"schemas": [urns.GROUP], "displayName": "Test SCIMv2", "members": []}


def test_oin_create_posts_no_members_then_adds_them_as_a_membership_update_does() -> None:
    """docs/okta-idp.md §12 canonical group push: POST {members: []}, then the add PATCH and the rename PATCH."""
    okta, fake, _ = provisioned(members=(TEST_USER_ID, SECOND_USER_ID), pushed=False)
    [task] = okta.push_group(GROUP_ID)
    group = okta.links.scim_id("group", GROUP_ID)
    assert task.status is TaskStatus.DONE and task.action == "create_push_group"
    assert fake.calls() == [
        ("GET", GROUP_LOOKUP),
        ("POST", "/Groups"),
        ("PATCH", f"/Groups/{group}"),
        ("PATCH", f"/Groups/{group}"),
    ]
    post, add, rename = fake.bodies()[1:]
    assert post == {"schemas": [urns.GROUP], "displayName": "Test SCIMv2", "members": []}
    assert add == {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": both_members(okta)}]}
    assert rename == rename_body(okta)
    assert fake.resources["Groups"][group]["members"] == both_members(okta)

    # The same two PATCHes a membership update sends for the same members (one mechanism, §7).
    okta.directory.groups[GROUP_ID].members.clear()
    okta.push_now(GROUP_ID)
    fake.requests.clear()
    okta.add_group_member(GROUP_ID, TEST_USER_ID)
    okta.add_group_member(GROUP_ID, SECOND_USER_ID)
    adds = fake.bodies()[0::2]
    assert [ref for body in adds for ref in body["Operations"][0]["value"]] == add["Operations"][0]["value"]
    assert fake.bodies()[1::2] == [rename, rename]


def test_oin_create_without_the_rename_setting_sends_the_add_patch_alone() -> None:
    """docs/okta-idp.md §7: the rename PATCH goes with membership pushes only when renaming is on."""
    okta, fake, _ = provisioned(settings=OktaSettings(rename_groups=False), members=(TEST_USER_ID,), pushed=False)
    okta.push_group(GROUP_ID)
    group = okta.links.scim_id("group", GROUP_ID)
    assert fake.calls() == [("GET", GROUP_LOOKUP), ("POST", "/Groups"), ("PATCH", f"/Groups/{group}")]
    assert fake.bodies()[1]["members"] == [] and fake.bodies()[2]["Operations"][0]["op"] == "add"


def test_the_members_in_post_variant_lists_them_then_adds_them_again() -> None:
    """docs/okta-idp.md §7 (documented; observed): members in the POST, then an add of the same members,
    which the server applies as a no-op (§10.3)."""
    okta, fake, _ = provisioned(OKTA_OIN_MEMBERS_IN_POST, members=(TEST_USER_ID, SECOND_USER_ID), pushed=False)
    okta.push_group(GROUP_ID)
    group = okta.links.scim_id("group", GROUP_ID)
    assert [method for method, _ in fake.calls()] == ["GET", "POST", "PATCH", "PATCH"]
    post, add, rename = fake.bodies()[1:]
    assert post == {"schemas": [urns.GROUP], "displayName": "Test SCIMv2", "members": both_members(okta)}
    assert add["Operations"] == [{"op": "add", "path": "members", "value": both_members(okta)}]
    assert rename == rename_body(okta)
    assert fake.resources["Groups"][group]["members"] == both_members(okta)


def test_the_members_in_post_variant_is_a_selectable_profile_with_provenance() -> None:
    """Quirks are data: the variant differs from OIN in this one quirk, and says where it comes from."""
    assert PROFILES["oin-members-in-post"] is OKTA_OIN_MEMBERS_IN_POST
    assert PROFILES["oin"].group_members_in_post is False and OKTA_AIW.group_members_in_post is False
    differing = {
        f.name for f in fields(OKTA_OIN) if getattr(OKTA_OIN, f.name) != getattr(OKTA_OIN_MEMBERS_IN_POST, f.name)
    }
    assert differing == {"name", "group_members_in_post", "provenance"}
    assert "SimpleIdServer/issues/269" in OKTA_OIN_MEMBERS_IN_POST.provenance["group_members_in_post"]
    assert "members []" in OKTA_OIN.provenance["group_members_in_post"]


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_quirk_of_every_okta_profile_names_its_reference_fact(name: str) -> None:
    profile = PROFILES[name]
    quirks = {f.name.removesuffix("_first").removesuffix("_last") for f in fields(profile)}
    quirks -= {"name", "source", "provenance"}
    assert quirks <= set(profile.provenance), f"no provenance for {sorted(quirks - set(profile.provenance))}"
    assert all(text.startswith("docs/okta-idp.md §") for text in profile.provenance.values())


@pytest.mark.parametrize(
    ("profile", "resumed"),
    [(OKTA_OIN, ["GET", "PATCH", "PATCH"]), (OKTA_AIW, ["GET", "GET", "PUT"])],
    ids=["oin", "aiw"],
)
def test_a_create_that_failed_after_its_post_completes_the_members_on_retry(
    profile: OktaProfile, resumed: list[str]
) -> None:
    """Nothing acknowledged is lost: the POST answered, so the retry finds its own group by name and
    pushes the members instead of stopping with "link it instead" (inferred, docs/okta-idp.md §7)."""
    directory = s20_directory()
    directory.groups[GROUP_ID].members.append(TEST_USER_ID)
    fake = FakeScim()
    transport = FaultTransport(fake.transport, Script([Rule(Fault.server_error(503), Match(path=r"/Groups/"))]))
    http = make_http(transport, BearerAuth("t0ken"), base_url=BASE_URL)
    okta = OktaEmulator(directory, http, profile, clock=FakeClock())
    okta.assign_user(TEST_USER_ID)
    [task] = okta.push_group(GROUP_ID)
    group = okta.links.scim_id("group", GROUP_ID)
    assert task.status is TaskStatus.FAILED and "answered 503" in task.error
    assert group is not None and fake.resources["Groups"][group]["members"] == []
    fake.requests.clear()
    okta.retry(task.id)
    assert task.status is TaskStatus.DONE and task.attempts == 2
    assert [method for method, _ in fake.calls()] == resumed and fake.calls()[0] == ("GET", GROUP_LOOKUP)
    assert list(fake.resources["Groups"]) == [group]
    assert fake.resources["Groups"][group]["members"] == [
        {"value": okta.links.scim_id("user", TEST_USER_ID), "display": "test.user@okta.local"}
    ]


def test_aiw_create_posts_empty_then_reads_and_puts_the_members() -> None:
    """docs/okta-idp.md §7 AIW groups (observed)."""
    directory = s20_directory()
    directory.groups[GROUP_ID].members.append(TEST_USER_ID)
    okta, fake = make_okta(directory, OKTA_AIW)
    okta.assign_user(TEST_USER_ID)
    fake.requests.clear()
    okta.push_group(GROUP_ID)
    scim_id = okta.links.scim_id("group", GROUP_ID)
    assert fake.calls() == [
        ("GET", GROUP_LOOKUP),
        ("POST", "/Groups"),
        ("GET", f"/Groups/{scim_id}"),
        ("PUT", f"/Groups/{scim_id}"),
    ]
    assert fake.bodies()[1]["members"] == []
    assert normalised(fake.bodies()[3], names(okta)) == {
        "schemas": [urns.GROUP],
        "id": "GROUP",
        "displayName": "Test SCIMv2",
        "members": [{"value": TEST_USER_ID, "display": "test.user@okta.local"}],
    }


def test_oin_membership_change_is_one_patch_then_the_rename_patch() -> None:
    """docs/okta-idp.md §7: remove by filter path without value, then add; rename with id after every change."""
    okta, fake, _ = provisioned(members=(SECOND_USER_ID,))
    okta.push_now(GROUP_ID)
    fake.requests.clear()
    okta.add_group_member(GROUP_ID, TEST_USER_ID)
    okta.remove_group_member(GROUP_ID, SECOND_USER_ID)
    group = okta.links.scim_id("group", GROUP_ID)
    assert fake.calls() == [("PATCH", f"/Groups/{group}")] * 4
    rename = {
        "schemas": [PATCH],
        "Operations": [{"op": "replace", "value": {"id": "GROUP", "displayName": "Test SCIMv2"}}],
    }
    assert normalised(fake.bodies(), names(okta)) == [
        {
            "schemas": [PATCH],
            "Operations": [
                {"op": "add", "path": "members", "value": [{"value": TEST_USER_ID, "display": "test.user@okta.local"}]}
            ],
        },
        rename,
        {"schemas": [PATCH], "Operations": [{"op": "remove", "path": f'members[value eq "{SECOND_USER_ID}"]'}]},
        rename,
    ]
    assert fake.resources["Groups"][group]["members"] == [
        {"value": okta.links.scim_id("user", TEST_USER_ID), "display": "test.user@okta.local"}
    ]


def test_remove_paths_are_json_escaped_on_the_wire() -> None:
    okta, fake, _ = provisioned(members=(SECOND_USER_ID,))
    okta.push_now(GROUP_ID)
    fake.requests.clear()
    okta.remove_group_member(GROUP_ID, SECOND_USER_ID)
    assert b'"path":"members[value eq \\"' in fake.requests[0].content


def test_without_the_rename_setting_no_rename_patch_is_sent() -> None:
    okta, fake, _ = provisioned(settings=OktaSettings(rename_groups=False))
    okta.add_group_member(GROUP_ID, TEST_USER_ID)
    assert okta.rename_group(GROUP_ID, "Other") == []
    assert len(fake.requests) == 1 and fake.bodies()[0]["Operations"][0]["op"] == "add"


def test_push_now_replaces_members_with_the_full_list_even_when_empty() -> None:
    """docs/okta-idp.md §7 Push Now, and §10.5: an empty group is sent as []."""
    okta, fake, _ = provisioned()
    okta.push_now(GROUP_ID)
    assert fake.bodies()[0] == {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "members", "value": []}]}
    assert fake.bodies()[1]["Operations"][0]["value"]["displayName"] == "Test SCIMv2"


def test_rename_sends_the_documented_patch_with_the_id() -> None:
    okta, fake, _ = provisioned()
    okta.rename_group(GROUP_ID, "Renamed")
    group = okta.links.scim_id("group", GROUP_ID)
    assert fake.bodies() == [
        {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"id": group, "displayName": "Renamed"}}]}
    ]
    assert fake.resources["Groups"][group]["displayName"] == "Renamed"


def test_aiw_membership_change_reads_then_puts_the_whole_group() -> None:
    okta, fake, _ = provisioned(OKTA_AIW)
    okta.add_group_member(GROUP_ID, TEST_USER_ID)
    group = okta.links.scim_id("group", GROUP_ID)
    assert fake.calls() == [("GET", f"/Groups/{group}"), ("PUT", f"/Groups/{group}")]
    assert [m["display"] for m in fake.bodies()[1]["members"]] == ["test.user@okta.local"]


def test_unlink_and_delete_sends_delete_and_unlink_and_leave_sends_nothing() -> None:
    okta, fake, _ = provisioned()
    group = okta.links.scim_id("group", GROUP_ID)
    okta.unlink_group(GROUP_ID, delete=True)
    assert fake.calls() == [("DELETE", f"/Groups/{group}")] and group not in fake.resources["Groups"]
    assert okta.links.scim_id("group", GROUP_ID) is None
    okta, fake, _ = provisioned()
    assert okta.unlink_group(GROUP_ID, delete=False) == [] and fake.requests == []
    assert okta.links.scim_id("group", GROUP_ID) is None


def test_a_paused_push_sends_nothing_until_activated_which_pushes_everything() -> None:
    """docs/okta-idp.md §7: Okta QA plan tests C9319/C9320."""
    okta, fake, _ = provisioned()
    okta.deactivate_push(GROUP_ID)
    okta.add_group_member(GROUP_ID, TEST_USER_ID)
    okta.rename_group(GROUP_ID, "Paused name")
    assert fake.requests == []
    okta.activate_push(GROUP_ID)
    assert fake.bodies()[0]["Operations"][0]["path"] == "members"
    assert len(fake.bodies()[0]["Operations"][0]["value"]) == 1


def test_an_existing_app_group_fails_the_push_until_linked() -> None:
    """docs/okta-idp.md §13 (inferred error) and Okta QA plan test C9315: Link Group adds members, old ones stay."""
    fake = FakeScim()
    stranger = fake.add("Users", {"userName": "stranger@x"})
    existing = fake.add("Groups", {"displayName": "Test SCIMv2", "members": [{"value": stranger["id"]}]})
    directory = s20_directory()
    directory.groups[GROUP_ID].members.append(TEST_USER_ID)
    okta, fake = make_okta(directory, fake=fake)
    okta.assign_user(TEST_USER_ID)
    [task] = okta.push_group(GROUP_ID)
    assert task.status.value == "FAILED" and "link it instead" in task.error
    assert okta.links.scim_id("group", GROUP_ID) is None
    with pytest.raises(DirectoryError, match="is not an app group Okta has imported"):
        okta.push_group(GROUP_ID, link_to=existing["id"])  # Link Group offers only imported app groups (§7)
    okta.settings = replace(okta.settings, import_groups=True)
    okta.import_users()
    assert okta.tasks.app_groups == {existing["id"]: "Test SCIMv2"}
    okta.push_group(GROUP_ID, link_to=existing["id"])
    members = [m["value"] for m in fake.resources["Groups"][existing["id"]]["members"]]
    assert members == [stranger["id"], okta.links.scim_id("user", TEST_USER_ID)]
    assert len(fake.resources["Groups"]) == 1


def test_only_provisioned_active_members_are_pushed() -> None:
    """docs/okta-idp.md §7 prerequisites; a user provisioned later joins the pushed group (inferred)."""
    directory = s20_directory()
    directory.groups[GROUP_ID].members += [TEST_USER_ID, SECOND_USER_ID]
    okta, fake = make_okta(directory)
    okta.assign_user(TEST_USER_ID)
    okta.push_group(GROUP_ID)
    [add] = [body for body in fake.bodies() if body and body.get("Operations", [{}])[0].get("op") == "add"]
    assert [ref["display"] for ref in add["Operations"][0]["value"]] == ["test.user@okta.local"]
    fake.requests.clear()
    okta.assign_user(SECOND_USER_ID)
    group = okta.links.scim_id("group", GROUP_ID)
    assert [c for c in fake.calls() if c[1].startswith("/Groups")] == [("PATCH", f"/Groups/{group}")] * 2
    okta.deactivate_user(SECOND_USER_ID)
    fake.requests.clear()
    okta.push_now(GROUP_ID)
    assert len(fake.bodies()[0]["Operations"][0]["value"]) == 1


def test_a_group_cannot_be_both_assigned_and_pushed() -> None:
    okta, _, _ = provisioned()
    with pytest.raises(DirectoryError, match="cannot also assign it"):
        okta.assign_group(GROUP_ID)


def test_actions_on_a_group_that_is_not_pushed_are_refused() -> None:
    okta, _ = make_okta()
    with pytest.raises(DirectoryError, match="not pushed; push it first"):
        okta.push_now(GROUP_ID)
