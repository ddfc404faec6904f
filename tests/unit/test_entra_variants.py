"""Entra behaviour the emulator did not send before: the string active on POST, the job disabled when an escrow is
dropped, the restart after a scoping-filter change, and Graph's TooManyDeletes quarantine
(docs/entra-idp.md §3.3-§8)."""

from __future__ import annotations

import json
from dataclasses import replace

from emulators.core.clock import FakeClock
from emulators.entra import ENTRA_DEFAULT, Clause, EntraSettings, ScopingFilter
from emulators.entra.profile import EscrowPolicy
from tests.unit.entra_setup import MANAGER, TUT_USER, make_entra
from tests.unit.scim_fake import empty_list, error_response

HOUR = 3600.0


def test_string_active_variant_posts_the_string_true() -> None:
    """§4/§12: the observed default-dialect create carries "active": "True" (Microsoft staff)."""
    entra, fake = make_entra(profile=replace(ENTRA_DEFAULT, post_booleans="string"))
    entra.start()
    posts = [json.loads(r.content) for r in fake.requests if r.method == "POST" and r.url.path.endswith("/Users")]
    assert posts and all(body["active"] == "True" for body in posts)


def _escrowed_then_28_days(settings: EntraSettings) -> tuple[object, object]:
    clock = FakeClock()
    entra, fake = make_entra(clock=clock, settings=settings)
    fake.scripted = [empty_list(), empty_list(), empty_list(), error_response(500, "boom")]
    entra.start()
    fake.scripted = []
    entra.state.escrows[("user", TUT_USER)].next_retry = clock.now()
    clock.advance(28 * 24 * HOUR)
    entra.state.next_cycle_at = clock.now()
    return entra, entra.run_cycle()


def test_a_dropped_escrow_disables_the_job() -> None:
    """§7 (documented): after 28 days the escrow entry is removed and the job is disabled (stops running)."""
    entra, report = _escrowed_then_28_days(EntraSettings())
    assert [(e.source_id, e.code) for e in report.entries] == [(TUT_USER, "EscrowDropped")]  # type: ignore[attr-defined]
    assert entra.state.disabled and not entra.state.running  # type: ignore[attr-defined]
    assert entra.run_cycle().kind == "disabled"  # type: ignore[attr-defined]
    assert entra.start().kind == "incremental"  # type: ignore[attr-defined]  # an admin starts it again


def test_the_earlier_behaviour_keeps_the_job_running_after_a_drop() -> None:
    entra, _ = _escrowed_then_28_days(EntraSettings(escrow=EscrowPolicy(disable_job_on_drop=False)))
    assert not entra.state.disabled and entra.state.running  # type: ignore[attr-defined]


def test_a_scoping_filter_change_starts_a_full_initial_cycle() -> None:
    """§8 (documented): changing the scoping filter restarts provisioning: every object is evaluated again."""
    entra, _ = make_entra()
    entra.start()
    assert entra.run_cycle().entries == []  # nothing changed: nothing evaluated
    entra.set_scoping_filter(ScopingFilter(((Clause("userPrincipalName", "IS NOT NULL"),),)))
    report = entra.run_cycle()
    assert report.kind == "initial"
    assert {e.source_id for e in report.entries} >= {TUT_USER, MANAGER}
    assert entra.run_cycle().kind == "incremental"


def test_with_the_restart_turned_off_a_scoping_change_keeps_the_watermark() -> None:
    entra, _ = make_entra(settings=EntraSettings(restart_on_scoping_change=False))
    entra.start()
    entra.set_scoping_filter(ScopingFilter(((Clause("userPrincipalName", "IS NOT NULL"),),)))
    assert entra.run_cycle().kind == "incremental"


def test_accidental_deletions_quarantine_is_named_too_many_deletes() -> None:
    """§3.3 (documented); Graph's synchronizationQuarantine reason for the deletion threshold is TooManyDeletes."""
    entra, _ = make_entra(settings=EntraSettings(accidental_deletion_threshold=1))
    entra.start()
    entra.unassign_user(TUT_USER)
    entra.unassign_user(MANAGER)
    entra.run_cycle()
    assert entra.quarantine is not None and entra.quarantine.reason == "TooManyDeletes"
