"""Cycles on the virtual clock: incremental updates, deprovisioning, InvalidAnchor, restart, scoping (§3, §8)."""

from __future__ import annotations

import pytest

from emulators.core.clock import FakeClock
from emulators.entra import ENTRA_DEFAULT, ENTRA_SCIM062020, Clause, EntraProfile, EntraSettings, ScopingFilter
from scimcore import urns
from tests.unit.entra_setup import GROUP, MANAGER, TUT_USER, decoded_calls, make_entra, tut_directory

BOTH = pytest.mark.parametrize("profile", [ENTRA_DEFAULT, ENTRA_SCIM062020], ids=["scim", "flag"])
PROBES = 2
CYCLE = 40 * 60


def started(profile: EntraProfile = ENTRA_DEFAULT, **kwargs: object):  # type: ignore[no-untyped-def]
    clock = FakeClock()
    entra, fake = make_entra(profile=profile, clock=clock, **kwargs)
    entra.start()
    fake.requests.clear()
    return entra, fake, clock


def test_cycles_run_every_40_virtual_minutes_and_nothing_is_sent_when_nothing_changed() -> None:
    entra, fake, clock = started()
    t0 = clock.now()
    reports = entra.run_cycles(3)
    assert [r.kind for r in reports] == ["incremental"] * 3
    assert [r.started - t0 for r in reports] == [CYCLE, 2 * CYCLE, 3 * CYCLE]
    assert [m for m, _ in fake.calls()] == ["GET"] * PROBES * 3  # only the start-of-cycle probes
    assert all(r.entries == [] for r in reports)


@BOTH
def test_incremental_cycle_reads_the_linked_user_and_patches_only_what_changed(profile: EntraProfile) -> None:
    entra, fake, _ = started(profile)
    entra.update_user(TUT_USER, {"jobTitle": "Engineer", "surname": "Lee"})
    report = entra.run_cycle()
    scim_id = entra.links.scim_id("user", TUT_USER)
    assert decoded_calls(fake)[PROBES:] == [("GET", f"/Users/{scim_id}"), ("PATCH", f"/Users/{scim_id}")]
    ops = fake.bodies()[-1]["Operations"]
    if profile is ENTRA_DEFAULT:
        assert ops == [
            {"op": "Add", "path": "title", "value": "Engineer"},
            {"op": "Replace", "path": "name.familyName", "value": "Lee"},
            {"op": "Replace", "path": "name.formatted", "value": "givenName Lee"},
        ]
    else:  # §5: two or more plain replaces become one path-less replace with dotted keys
        assert ops == [
            {"op": "add", "path": "title", "value": "Engineer"},
            {"op": "replace", "value": {"name.familyName": "Lee", "name.formatted": "givenName Lee"}},
        ]
    assert [(e.action, e.outcome) for e in report.entries] == [("Update", "Success")]


def test_a_change_that_maps_to_the_same_values_is_read_but_not_patched() -> None:
    """§3.2: nothing differs -> no PATCH, logged as EntrySynchronizationSkipped."""
    entra, fake, _ = started()
    entra.update_user(TUT_USER, {"city": None, "department": None, "costCenter": "42"})
    report = entra.run_cycle()
    assert [m for m, _ in fake.calls()][PROBES:] == ["GET"]
    assert [e.code for e in report.entries] == ["EntrySynchronizationSkipped"]


@BOTH
@pytest.mark.parametrize("change", ["unassign", "disable", "soft_delete"])
def test_deprovisioning_disables_with_the_dialect_active_value(profile: EntraProfile, change: str) -> None:
    """§3.3 and §5: PATCH active "False" (default) or false (flag); never DELETE."""
    entra, fake, _ = started(profile)
    {
        "unassign": lambda: entra.unassign_user(TUT_USER),
        "disable": lambda: entra.set_account_enabled(TUT_USER, False),
        "soft_delete": lambda: entra.soft_delete_user(TUT_USER),
    }[change]()
    report = entra.run_cycle()
    value = "False" if profile is ENTRA_DEFAULT else False
    assert fake.bodies()[-1] == {
        "schemas": [urns.PATCH_OP],
        "Operations": [{"op": profile.op("replace"), "path": "active", "value": value}],
    }
    assert "DELETE" not in [m for m, _ in fake.calls()]
    assert ("Disable", "Success") in [(e.action, e.outcome) for e in report.entries]


def test_soft_deleted_for_30_days_is_deleted_and_restored_before_is_reenabled() -> None:
    entra, fake, clock = started()
    entra.soft_delete_user(MANAGER)
    entra.run_cycle()
    entra.restore_user(MANAGER)
    entra.run_cycle()
    assert fake.bodies()[-1]["Operations"] == [{"op": "Replace", "path": "active", "value": "True"}]
    entra.soft_delete_user(MANAGER)
    entra.run_cycle()
    clock.advance(30 * 24 * 3600)
    report = entra.run_cycle()
    assert fake.calls()[-1][0] == "DELETE"
    assert MANAGER not in entra.directory.core.users
    assert [(e.source_id, e.action) for e in report.entries] == [(MANAGER, "Delete")]
    assert entra.links.scim_id("user", MANAGER) is None


def test_after_an_out_of_scope_disable_a_hard_delete_sends_nothing() -> None:
    """§3.3: the user is unmanaged after the disable; no DELETE later."""
    entra, fake, _ = started()
    entra.unassign_user(MANAGER)
    entra.run_cycle()
    entra.hard_delete_user(MANAGER)
    fake.requests.clear()
    report = entra.run_cycle()
    assert [m for m, _ in fake.calls()] == ["GET"] * PROBES
    assert [e.code for e in report.entries] == ["UnmanagedAfterOutOfScope"]


def test_hard_delete_sends_delete_only_when_the_delete_action_is_on() -> None:
    entra, fake, _ = started(settings=EntraSettings(delete=False))
    entra.hard_delete_user(MANAGER)
    report = entra.run_cycle()
    assert "DELETE" not in [m for m, _ in fake.calls()]
    assert [e.code for e in report.entries] == ["TargetActionDeleteDisabled"]


def test_linked_user_gone_is_invalid_anchor_until_restart_which_rematches_and_creates() -> None:
    """§3.2 (Microsoft staff): InvalidAnchor in normal cycles; restart does GET 404, filter, POST."""
    entra, fake, _ = started()
    old = entra.links.scim_id("user", TUT_USER)
    del fake.resources["Users"][old]
    entra.update_user(TUT_USER, {"jobTitle": "Boss"})
    report = entra.run_cycle()
    assert [(e.action, e.outcome, e.code) for e in report.entries] == [("Update", "Failure", "InvalidAnchor")]
    entra.restart()
    fake.requests.clear()
    entra.run_cycle()
    calls = decoded_calls(fake)
    assert ("GET", f"/Users/{old}") in calls
    assert calls.index(("GET", f"/Users/{old}")) < calls.index(("POST", "/Users"))
    assert entra.links.scim_id("user", TUT_USER) not in (None, old)


def test_restart_keeps_links_and_full_reset_matches_again() -> None:
    entra, fake, _ = started()
    entra.restart()
    fake.requests.clear()
    entra.run_cycle()
    assert all("filter=userName" not in url or "<guid>" in url for _, url in decoded_calls(fake)[PROBES:])
    entra.restart(full=True)
    fake.requests.clear()
    report = entra.run_cycle()
    assert report.kind == "initial"
    methods = [m for m, _ in fake.calls()][PROBES:]
    assert "POST" not in methods and methods.count("GET") == 2  # matched by filter and linked
    assert len(fake.resources["Users"]) == 2


def test_manager_not_yet_in_scope_is_filled_only_after_restart() -> None:
    """§3.1 step 4 (Microsoft's known issues page): a manager out of scope is left out until a restart."""
    directory = tut_directory()
    directory.core.user(TUT_USER).profile["managerId"] = MANAGER
    directory.core.app.users.remove(MANAGER)
    entra, fake = make_entra(directory)
    entra.start()
    assert not any(r.method == "PATCH" for r in fake.requests)
    entra.assign_user(MANAGER)
    entra.run_cycle()
    assert not any(r.method == "PATCH" for r in fake.requests)
    entra.restart()
    entra.run_cycle()
    patch = [r for r in fake.requests if r.method == "PATCH"]
    assert len(patch) == 1 and b"manager" in patch[0].content


def test_group_rename_and_unassignment() -> None:
    directory = tut_directory()
    directory.core.app.groups.append(GROUP)
    entra, fake = make_entra(directory)
    entra.start()
    gid = entra.links.scim_id("group", GROUP)
    entra.rename_group(GROUP, "Renamed")
    fake.requests.clear()
    entra.run_cycle()
    assert decoded_calls(fake)[PROBES:] == [
        ("GET", f"/Groups/{gid}?excludedAttributes=members"),
        ("PATCH", f"/Groups/{gid}"),
    ]
    assert fake.bodies()[-1]["Operations"] == [{"op": "Replace", "path": "displayName", "value": "Renamed"}]
    entra.unassign_group(GROUP)
    entra.run_cycle()
    assert fake.calls()[-1] == ("DELETE", f"/Groups/{gid}")


def test_scoping_filter_and_skip_out_of_scope_deletions() -> None:
    """§3.3 (documented): out-of-scope users are not disabled when SkipOutOfScopeDeletions is on."""
    scoping = ScopingFilter(((Clause("department", "EQUALS", "Sales"),),))
    entra, _ = make_entra(scoping=scoping)
    entra.update_user(TUT_USER, {"department": "Sales"})
    entra.start()
    assert entra.links.scim_id("user", TUT_USER) is not None
    assert entra.links.scim_id("user", MANAGER) is None
    entra2, fake2 = make_entra(scoping=scoping, settings=EntraSettings(skip_out_of_scope_deletions=True))
    entra2.update_user(TUT_USER, {"department": "Sales"})
    entra2.start()
    entra2.update_user(TUT_USER, {"department": "Legal"})
    report = entra2.run_cycle()
    assert [e.code for e in report.entries] == ["SkipOutOfScopeDeletions"]
    assert not any(r.method == "PATCH" for r in fake2.requests)


def test_scope_all_provisions_unassigned_users() -> None:
    directory = tut_directory()
    directory.core.app.users.clear()
    entra, fake = make_entra(directory, settings=EntraSettings(scope="all"))
    entra.start()
    assert len(fake.resources["Users"]) == 2


def test_disabled_users_are_never_created() -> None:
    entra, fake = make_entra()
    entra.set_account_enabled(MANAGER, False)
    report = entra.start()
    assert ("Skipped", "NotEffectivelyEntitled") in [(e.outcome, e.code) for e in report.entries]
    assert len(fake.resources["Users"]) == 1


def test_provision_group_on_demand_takes_at_most_five_members() -> None:
    from emulators.core.errors import ConfigurationError

    entra, fake = make_entra()
    with pytest.raises(ConfigurationError, match="at most 5"):
        entra.provision_group_on_demand(GROUP, [TUT_USER] * 6)
    assert [e.code for e in entra.provision_group_on_demand(GROUP, [TUT_USER])] == ["NotInScope"]
    entra.assign_group(GROUP)
    entries = entra.provision_group_on_demand(GROUP, [TUT_USER])
    assert [(e.kind, e.action) for e in entries] == [("user", "Create"), ("group", "Create"), ("group", "Update")]
    assert fake.bodies()[-1]["Operations"][0]["path"] == "members"


def test_on_demand_does_not_touch_disabled_users() -> None:
    entra, fake = make_entra()
    entra.set_account_enabled(TUT_USER, False)
    entries = entra.provision_on_demand(TUT_USER)
    assert [e.code for e in entries] == ["OnDemandCannotProvisionDeletedOrDisabled"]
    assert [m for m, _ in fake.calls()] == ["GET"] * PROBES
