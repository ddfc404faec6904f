"""Entra's initial cycle on the wire, in both dialects: sequences, headers, and the documented bodies (§2-§5)."""

from __future__ import annotations

import json

import pytest

from emulators.entra import ENTRA_DEFAULT, ENTRA_SCIM062020, EntraProfile
from scimcore import urns
from tests.unit.entra_setup import (
    GROUP,
    MANAGER,
    TUT_EXTERNAL_ID,
    TUT_MAIL,
    TUT_UPN,
    TUT_USER,
    decoded_calls,
    make_entra,
    normalised,
    tut_directory,
)

BOTH = pytest.mark.parametrize("profile", [ENTRA_DEFAULT, ENTRA_SCIM062020], ids=["scim", "flag"])

# docs/entra-idp.md §4, Create User, as documented (the user's mailNickname is the sample externalId).
TUT_CREATE = {
    "schemas": [urns.USER, urns.ENTERPRISE_USER],
    "externalId": TUT_EXTERNAL_ID,
    "userName": TUT_UPN,
    "active": True,
    "emails": [{"primary": True, "type": "work", "value": TUT_MAIL}],
    "meta": {"resourceType": "User"},
    "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
    "roles": [],
}


def ids_of(fake: object) -> dict[str, str]:
    resources = fake.resources  # type: ignore[attr-defined]
    names = {}
    for endpoint in ("Users", "Groups"):
        for rid, doc in resources[endpoint].items():
            names[rid] = f"<{doc.get('userName') or doc.get('displayName')}>"
    return names


@BOTH
def test_initial_cycle_probes_matches_creates_then_manager_then_group_then_members(profile: EntraProfile) -> None:
    """§2 probe, §3.1 match then POST, a separate manager PATCH, §3.4 group without members, then one member PATCH."""
    directory = tut_directory()
    directory.core.user(TUT_USER).profile["managerId"] = MANAGER
    directory.core.app.groups.append(GROUP)
    entra, fake = make_entra(directory, profile)
    report = entra.start()
    assert report.kind == "initial"
    assert decoded_calls(fake) == [
        ("GET", '/Users?filter=userName eq "<guid>"'),
        ("GET", '/Groups?excludedAttributes=members&filter=displayName eq "<guid>"'),
        ("GET", f'/Users?filter=userName eq "{TUT_UPN}"'),
        ("POST", "/Users"),
        ("GET", '/Users?filter=userName eq "boss@contoso.test"'),
        ("POST", "/Users"),
        ("PATCH", f"/Users/{entra.links.scim_id('user', TUT_USER)}"),
        ("GET", '/Groups?excludedAttributes=members&filter=displayName eq "displayName"'),
        ("POST", "/Groups"),
        ("PATCH", f"/Groups/{entra.links.scim_id('group', GROUP)}"),
    ]
    bodies = fake.bodies()
    assert bodies[3] == TUT_CREATE
    mgr_id = entra.links.scim_id("user", MANAGER)
    add = profile.op("add")
    assert bodies[6] == {
        "schemas": [urns.PATCH_OP],
        "Operations": [{"op": add, "path": f"{urns.ENTERPRISE_USER}:manager", "value": mgr_id}],
    }
    assert bodies[8] == {
        "schemas": [urns.GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": GROUP,
        "displayName": "displayName",
        "meta": {"resourceType": "Group"},
    }
    tut_id = entra.links.scim_id("user", TUT_USER)
    assert bodies[9] == {
        "schemas": [urns.PATCH_OP],
        "Operations": [{"op": add, "path": "members", "value": [{"$ref": None, "value": tut_id}]}],
    }
    assert [(e.source_id, e.action, e.outcome) for e in report.entries] == [
        (TUT_USER, "Create", "Success"),
        (MANAGER, "Create", "Success"),
        (TUT_USER, "Update", "Success"),
        (GROUP, "Create", "Success"),
        (GROUP, "Update", "Success"),
    ]


@BOTH
def test_headers_are_bearer_and_scim_content_type_only(profile: EntraProfile) -> None:
    """§1 and §11.5: Authorization on every request, Content-Type application/scim+json only with a body."""
    entra, fake = make_entra(profile=profile)
    entra.start()
    for request in fake.requests:
        headers = dict(request.headers)
        assert headers.pop("authorization") == "Bearer s3cret"
        assert headers.pop("host") == "idp-target.test"
        if request.content:
            assert headers.pop("content-type") == "application/scim+json"
            assert headers.pop("content-length") == str(len(request.content))
        assert headers == {}, request.method


def test_queries_are_form_encoded() -> None:
    """§2: + for spaces, %22 for quotes, %40 for @ (observed)."""
    entra, fake = make_entra()
    entra.start()
    assert ("GET", "/Users?filter=userName+eq+%22boss%40contoso.test%22") in fake.calls()


@BOTH
def test_one_match_links_and_patches_only_the_differing_attributes(profile: EntraProfile) -> None:
    """§3.1 step 3: a single match is linked and only what differs is PATCHed (no POST)."""
    entra, fake = make_entra(profile=profile)
    existing = fake.add(
        "Users",
        {
            "userName": TUT_UPN,
            "active": True,
            "externalId": TUT_EXTERNAL_ID,
            "emails": [{"type": "work", "value": "old@testuser.com", "primary": True}],
            "name": {"givenName": "givenName", "familyName": "Old", "formatted": "givenName familyName"},
        },
    )
    entra.provision_on_demand(TUT_USER)
    assert entra.links.scim_id("user", TUT_USER) == existing["id"]
    assert [m for m, _ in fake.calls()] == ["GET", "GET", "GET", "PATCH"]
    replace = profile.op("replace")
    # both dialects: a filter path keeps its own op; one plain replace keeps its path (§5)
    assert fake.bodies()[-1]["Operations"] == [
        {"op": replace, "path": 'emails[type eq "work"].value', "value": TUT_MAIL},
        {"op": replace, "path": "name.familyName", "value": "familyName"},
    ]


def test_more_than_one_match_is_duplicate_target_entries_and_writes_nothing() -> None:
    """§3.1: >1 result -> DuplicateTargetEntries, no write."""
    entra, fake = make_entra()
    for _ in range(2):
        fake.add("Users", {"userName": "boss@contoso.test"})
    fake.add("Users", {"userName": TUT_UPN + "-other"})
    report = entra.start()
    failures = [e for e in report.entries if e.outcome == "Failure"]
    assert [(e.source_id, e.code) for e in failures] == [(MANAGER, "DuplicateTargetEntries")]
    assert "POST" in [m for m, _ in fake.calls()]
    assert entra.links.scim_id("user", MANAGER) is None


@BOTH
def test_remove_member_shapes_per_dialect(profile: EntraProfile) -> None:
    """§4 Remove Members (default) and §5 members[value eq ...] (flag)."""
    directory = tut_directory()
    directory.core.app.groups.append(GROUP)
    entra, fake = make_entra(directory, profile)
    entra.start()
    entra.remove_group_member(GROUP, TUT_USER)
    entra.run_cycle()
    tut_id = entra.links.scim_id("user", TUT_USER)
    body = fake.bodies()[-1]
    if profile is ENTRA_DEFAULT:
        expected = [{"op": "Remove", "path": "members", "value": [{"$ref": None, "value": tut_id}]}]
    else:
        expected = [{"op": "remove", "path": f'members[value eq "{tut_id}"]'}]
    assert body == {"schemas": [urns.PATCH_OP], "Operations": expected}


def test_golden_bodies_match_the_reference_after_normalising_ids() -> None:
    """The §4 create body, serialised as sent, equals the documented one once ids are named."""
    entra, fake = make_entra()
    entra.provision_on_demand(TUT_USER)
    post = next(r for r in fake.requests if r.method == "POST")
    assert normalised(json.loads(post.content), ids_of(fake)) == TUT_CREATE
