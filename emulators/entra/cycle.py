"""One provisioning cycle (docs/entra-idp.md §8): probe, plan, users, managers, groups, memberships, watermark.

The initial cycle evaluates every object; an incremental cycle evaluates only objects whose source
state changed since the watermark (Entra's Graph delta query, emulated by comparing snapshots), plus
escrows that are due (§7). Deprovisions are planned from source data first, so the accidental-deletion
threshold can stage them before any request is sent (§3.3).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import TypeVar

from emulators.core.linkstore import Kind
from emulators.core.progress import ProgressCallback, ProgressMeter
from emulators.entra.context import Context, Disposition, Skipped
from emulators.entra.groups import GroupFlows
from emulators.entra.log import Action, Code, LogEntry, Outcome
from emulators.entra.payloads import path_text
from emulators.entra.session import ProvisioningFailure
from emulators.entra.state import ObjectKey, Quarantine
from emulators.entra.users import Provisioned, UserFlows

_T = TypeVar("_T")
# Graph's quarantineReason for the accidental-deletions threshold (docs/domain.md; §3.3 (documented)):
# https://learn.microsoft.com/en-us/graph/api/resources/synchronization-synchronizationquarantine
ACCIDENTAL_DELETIONS = "TooManyDeletes"


@dataclass
class CycleReport:
    number: int
    kind: str  # "initial", "incremental", "quarantined" (the probe failed) or "disabled"
    started: float
    entries: list[LogEntry] = field(default_factory=list)
    quarantine: Quarantine | None = None


class CycleRunner:
    def __init__(
        self, ctx: Context, users: UserFlows, groups: GroupFlows, progress: ProgressCallback | None = None
    ) -> None:
        self.ctx = ctx
        self.users = users
        self.groups = groups
        self.progress = progress
        self._failed: set[ObjectKey] = set()
        self._reference_failures = 0

    # -- snapshots (the emulated delta query) ---------------------------------------------------

    def _snapshot(self, kind: Kind, source_id: str) -> str:
        ctx = self.ctx
        if kind == "user":
            disposition = ctx.user_disposition(source_id)
            view = None if disposition is Disposition.GONE else ctx.directory.user_view(source_id)
            return json.dumps([disposition, view], sort_keys=True, default=str)
        disposition = ctx.group_disposition(source_id)
        if disposition is Disposition.GONE:
            return json.dumps([disposition])
        group = ctx.directory.core.group(source_id)
        members = sorted(group.members) + [f"group:{child}" for child in sorted(group.member_groups)]  # §3.4 nesting
        return json.dumps([disposition, ctx.directory.group_view(source_id), members], sort_keys=True, default=str)

    def _candidates(self, kind: Kind, known: Iterable[str], initial: bool) -> list[str]:
        ctx, state, now = self.ctx, self.ctx.state, self.ctx.clock.now()
        ids = list(dict.fromkeys([*known, *ctx.links.links(kind)]))
        watermark = state.watermark or {}
        ids += [sid for k, sid in watermark if k == kind and sid not in ids]
        chosen = []
        for sid in ids:
            key = (kind, sid)
            if state.waiting(key, now):
                continue
            if initial or state.due(key, now) or watermark.get(key) != self._snapshot(kind, sid):
                chosen.append(sid)
        return chosen

    # -- the cycle ------------------------------------------------------------------------------

    def run(self) -> CycleReport:
        ctx, state = self.ctx, self.ctx.state
        state.cycle += 1
        first_entry = len(ctx.log)
        initial = state.watermark is None
        report = CycleReport(state.cycle, "initial" if initial else "incremental", ctx.clock.now())
        self._failed, self._reference_failures = set(), 0
        try:
            self.probe()
        except ProvisioningFailure as exc:
            ctx.record("user", "*", Action.OTHER, Outcome.FAILURE, exc.code, exc.detail)
            state.quarantine = state.quarantine or Quarantine(exc.code, ctx.clock.now(), exc.detail)
            report.kind = "quarantined"
        else:
            self._objects(initial)
        report.entries = ctx.log.entries[first_entry:]
        report.quarantine = state.quarantine
        if state.disabled:
            state.running = False  # an escrow was dropped (§7)
        return report

    def probe(self) -> None:
        matching = self.ctx.users.matching
        group_matching = self.ctx.groups.matching
        user_attr = path_text(matching[0].path)
        group_attr = path_text(group_matching[0].path) if group_matching else None
        self.ctx.session.probe(user_attr, group_attr)

    def _objects(self, initial: bool) -> None:
        ctx = self.ctx
        core = ctx.directory.core
        user_ids = self._candidates("user", core.users, initial)
        group_ids = self._candidates("group", core.groups, initial)
        dispositions = {uid: ctx.user_disposition(uid) for uid in user_ids}
        group_dispositions = {gid: ctx.group_disposition(gid) for gid in group_ids}
        staged = self._staged(dispositions, group_dispositions)
        provisioned: list[Provisioned] = []
        for uid in self._metered("users", user_ids):
            done = self.user(uid, dispositions[uid], rematch=initial, staged=staged)
            if done is not None:
                provisioned.append(done)
        for done in self._metered("managers", provisioned):
            self._manager(done)
        linked_groups = [
            gid
            for gid in self._metered("groups", group_ids)
            if self.group(gid, group_dispositions[gid], initial, staged)
        ]
        self._memberships(linked_groups)
        self._watermark(user_ids, group_ids, staged)
        self._evaluate_quarantine(bool(staged))

    def _memberships(self, group_ids: list[str]) -> None:
        """Every linked group's membership PATCHes, sent concurrently in one batch per cycle or per group as
        the profile says (docs/entra-idp.md §3.5); each group's result is then logged and escrowed in turn (§7)."""
        plans = {gid: self.groups.member_patches(gid) for gid in group_ids}
        batches = [group_ids] if self.ctx.profile.membership_scope == "cycle" else [[gid] for gid in group_ids]
        meter = ProgressMeter("memberships", len(group_ids), self.progress)
        for batch in batches:
            outcomes = iter(self.groups.send_members([patch for gid in batch for patch in plans[gid]]))
            for gid in batch:
                done = list(islice(outcomes, len(plans[gid])))
                if self._attempt(("group", gid), Action.UPDATE, partial(self.groups.apply_members, plans[gid], done)):
                    self._attempt(("group", gid), Action.UPDATE, partial(self.groups.sync_member_groups, gid))
                meter.step()
        meter.finish()

    def _metered(self, stage: str, items: list[_T]) -> Iterator[_T]:
        """The items of one stage of the cycle, reporting progress as each one is done."""
        meter = ProgressMeter(stage, len(items), self.progress)
        for item in items:
            yield item
            meter.step()
        meter.finish()

    def _staged(self, users: dict[str, Disposition], groups: dict[str, Disposition]) -> set[ObjectKey]:
        """Deprovisions over the accidental-deletion threshold are staged, not sent (§3.3 (documented))."""
        ctx, state = self.ctx, self.ctx.state
        threshold = ctx.settings.accidental_deletion_threshold
        planned: set[ObjectKey] = {
            ("user", uid)
            for uid, d in users.items()
            if d is not Disposition.ACTIVE and ctx.links.scim_id("user", uid) and uid not in state.unmanaged
        }
        planned |= {
            ("group", gid)
            for gid, d in groups.items()
            if d is not Disposition.ACTIVE and ctx.links.scim_id("group", gid)
        }
        if threshold is None or len(planned) <= threshold or state.deletions_approved:
            state.deletions_approved = False
            return set()
        detail = f"{len(planned)} deletions/disables in one cycle exceed the threshold of {threshold}"
        state.quarantine = Quarantine(ACCIDENTAL_DELETIONS, ctx.clock.now(), detail)
        return planned

    def _attempt(self, key: ObjectKey, action: Action, run: Callable[[], object]) -> bool:
        """Run one object's flow; log and escrow a failure (§7). True when it did not fail."""
        ctx, state = self.ctx, self.ctx.state
        try:
            run()
        except Skipped as skip:
            ctx.record(key[0], key[1], action, Outcome.SKIPPED, skip.code, skip.detail)
        except ProvisioningFailure as exc:
            ctx.record(key[0], key[1], action, Outcome.FAILURE, exc.code, exc.detail)
            retry_next = exc.code == Code.TOO_MANY_REQUESTS
            state.fail(key, exc.code, ctx.clock.now(), ctx.settings.escrow, retry_next_cycle=retry_next)
            self._failed.add(key)
            return False
        state.escrows.pop(key, None)
        return True

    def _dropped(self, key: ObjectKey) -> bool:
        """An escrow older than the give-up time is dropped instead of retried (§7)."""
        ctx, state = self.ctx, self.ctx.state
        escrow = state.escrows.get(key)
        if escrow is None or escrow.never_drop:
            return False
        if ctx.clock.now() - escrow.first_failure < ctx.settings.escrow.give_up_after:
            return False
        del state.escrows[key]
        detail = f"last failure {escrow.code}"
        if ctx.settings.escrow.disable_job_on_drop:
            # §7 (documented): the job is disabled; this cycle finishes first (inferred)
            state.disabled = True
            detail += "; the job is disabled"
        ctx.record(key[0], key[1], Action.SKIP, Outcome.SKIPPED, Code.ESCROW_DROPPED, detail)
        return True

    def user(self, uid: str, disposition: Disposition, *, rematch: bool, staged: set[ObjectKey]) -> Provisioned | None:
        ctx, state = self.ctx, self.ctx.state
        key: ObjectKey = ("user", uid)
        if self._dropped(key):
            return None
        linked = ctx.links.scim_id("user", uid) is not None
        if disposition is Disposition.ACTIVE:
            result: list[Provisioned | None] = [None]

            def provision() -> None:
                result[0] = self.users.provision(uid, rematch=rematch)

            self._attempt(key, Action.UPDATE if linked else Action.CREATE, provision)
            return result[0]
        if disposition is Disposition.GONE and uid in ctx.directory.core.users:
            ctx.directory.hard_delete(uid)  # 30 days after the soft delete Entra purges the user (§3.3)
        if not linked:
            assigned = uid in ctx.directory.core.users and (
                ctx.settings.scope == "all" or ctx.directory.core.is_assigned(uid)
            )
            if disposition in (Disposition.DISABLED, Disposition.SOFT_DELETED) and assigned:
                ctx.record("user", uid, Action.CREATE, Outcome.SKIPPED, Code.NOT_EFFECTIVELY_ENTITLED)
            return None
        action = Action.DELETE if disposition is Disposition.GONE else Action.DISABLE
        if uid in state.unmanaged:
            if disposition is Disposition.GONE:
                ctx.links.unlink("user", uid)
                state.unmanaged.discard(uid)
            ctx.record("user", uid, action, Outcome.SKIPPED, Code.UNMANAGED)
        elif key in staged:
            ctx.record("user", uid, action, Outcome.STAGED, Code.STAGED_DELETE)
        elif disposition.out_of_scope and ctx.settings.skip_out_of_scope_deletions:
            ctx.record("user", uid, action, Outcome.SKIPPED, Code.SKIP_OUT_OF_SCOPE_DELETIONS)
        elif disposition is Disposition.GONE:
            self._attempt(key, action, lambda: self.users.delete(uid))
        else:
            self._attempt(key, action, lambda: self.users.disable(uid, disposition))
        return None

    def _manager(self, done: Provisioned) -> None:
        """A failed manager PATCH is a reference failure: logged, not counted for quarantine (§7)."""
        try:
            self.users.set_manager(done)
        except ProvisioningFailure as exc:
            self.ctx.record("user", done.user_id, Action.UPDATE, Outcome.FAILURE, exc.code, f"manager: {exc.detail}")
            self._reference_failures += 1

    def group(self, gid: str, disposition: Disposition, rematch: bool, staged: set[ObjectKey]) -> bool:
        """Evaluate one group; True when it is linked afterwards and its memberships should be synced."""
        ctx = self.ctx
        key: ObjectKey = ("group", gid)
        if self._dropped(key):
            return False
        if disposition is not Disposition.ACTIVE:
            if key in staged:
                ctx.record("group", gid, Action.DELETE, Outcome.STAGED, Code.STAGED_DELETE)
            else:
                self._attempt(key, Action.DELETE, lambda: self.groups.delete(gid))
            return False
        linked = ctx.links.scim_id("group", gid) is not None
        ok = self._attempt(
            key, Action.UPDATE if linked else Action.CREATE, lambda: self.groups.provision(gid, rematch=rematch)
        )
        return ok and ctx.links.scim_id("group", gid) is not None

    def _watermark(self, user_ids: list[str], group_ids: list[str], staged: set[ObjectKey]) -> None:
        state = self.ctx.state
        watermark = dict(state.watermark or {})
        evaluated: list[ObjectKey] = [("user", uid) for uid in user_ids] + [("group", gid) for gid in group_ids]
        for key in evaluated:
            kind, sid = key
            if key in staged or key in self._failed or self._waits_for_members(key):
                continue
            snapshot = self._snapshot(kind, sid)
            if json.loads(snapshot)[0] == Disposition.GONE and self.ctx.links.scim_id(kind, sid) is None:
                watermark.pop(key, None)
            else:
                watermark[key] = snapshot
        state.watermark = watermark

    def _waits_for_members(self, key: ObjectKey) -> bool:
        """A group with a member — a user, or a nested child group — that failed or sits in escrow stays
        unwatermarked, so the next cycle sends that membership once the member exists (docs/entra-idp.md §7:
        escrowed objects are retried; §3.4: a provisioned child group is sent as a member)."""
        kind, gid = key
        if kind != "group" or gid not in self.ctx.directory.core.groups:
            return False
        state = self.ctx.state
        group = self.ctx.directory.core.group(gid)
        members = [("user", uid) for uid in group.members] + [("group", child) for child in group.member_groups]
        return any(member in self._failed or member in state.escrows for member in members)

    def _evaluate_quarantine(self, staged: bool) -> None:
        """Escrow thresholds (§7 (documented)); a good cycle ends a quarantine."""
        ctx, state = self.ctx, self.ctx.state
        policy = ctx.settings.quarantine
        escrowed = len(state.escrows)
        population = max(1, len(state.watermark or {}) + len(self._failed))
        over = escrowed + self._reference_failures >= policy.absolute or (
            escrowed >= policy.evaluate_from
            and (escrowed / population > policy.proportion or escrowed > policy.failures)
        )
        if over:
            detail = f"{escrowed} objects in escrow of {population}"
            state.quarantine = state.quarantine or Quarantine(Code.ESCROW_THRESHOLD, ctx.clock.now(), detail)
        elif not staged:
            state.quarantine = None
