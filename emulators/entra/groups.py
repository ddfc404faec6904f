"""Group flows: match or create without members, update attributes, delete, then membership PATCHes.

docs/entra-idp.md §3.4: every group read carries ``excludedAttributes=members``; members are added
and removed one PATCH at a time by the members' target ids, after all users and groups exist, several
in flight at once (§3.5). Entra never reads members back, so what it has sent is remembered in the job
state, after each batch and in the calling thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from emulators.core.concurrency import Done, WorkerPool
from emulators.core.payloads import patch_request
from emulators.entra import payloads
from emulators.entra.context import Context, Skipped
from emulators.entra.functions import as_text
from emulators.entra.log import Action, Code, Outcome
from emulators.entra.session import ProvisioningFailure


@dataclass(frozen=True)
class MemberPatch:
    """One membership PATCH: ``members`` (source ids) added to or removed from a group.

    ``body`` is None when none of the removed members has a target id: nothing is sent, but the
    members are forgotten all the same.
    """

    group_id: str
    scim_id: str
    members: tuple[str, ...]
    add: bool
    body: dict[str, Any] | None


class GroupFlows:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        # §3.5: the profile says how many PATCHes are in flight; the settings say how the emulator runs them.
        settings = ctx.settings
        self.pool = WorkerPool(ctx.profile.membership_workers, settings.concurrency, settings.concurrency_seed)

    def _values(self, group_id: str, *, creating: bool) -> list[tuple[Any, Any]]:
        view = self.ctx.directory.group_view(group_id)
        return [(row.path, value) for row, value in self.ctx.groups.values(view, creating=creating)]

    def provision(self, group_id: str, *, rematch: bool) -> str | None:
        """The group's target id after creating, linking or updating it (§3.4, §4), or None when skipped."""
        ctx = self.ctx
        scim_id = ctx.links.scim_id("group", group_id)
        if scim_id is not None:
            current = ctx.session.resource("/Groups", scim_id)
            if current is None and not rematch:
                raise ProvisioningFailure(Code.INVALID_ANCHOR, f"linked group {scim_id} is gone from the target", 404)
            if current is not None:
                self._update(group_id, scim_id, current)
                return scim_id
            ctx.links.unlink("group", group_id)
            ctx.state.members_sent.pop(group_id, None)
        found = self._match(group_id)
        if found is not None:
            scim_id = str(found["id"])
            ctx.links.link("group", group_id, scim_id)
            ctx.state.members_sent.pop(group_id, None)
            self._update(group_id, scim_id, found)
            return scim_id
        if not ctx.settings.create:
            ctx.record("group", group_id, Action.CREATE, Outcome.SKIPPED, Code.CREATE_DISABLED)
            return None
        body = payloads.group_create_body(self._values(group_id, creating=True), ctx.profile)
        created = ctx.session.call("POST", "/Groups", body=body)
        if not isinstance(created, dict) or not created.get("id"):
            raise ProvisioningFailure(Code.SERVICE_INCOMPATIBLE, "POST /Groups answered without an id")
        ctx.links.link("group", group_id, str(created["id"]))
        ctx.state.members_sent[group_id] = set()
        ctx.record("group", group_id, Action.CREATE, Outcome.SUCCESS)
        return str(created["id"])

    def _match(self, group_id: str) -> dict[str, Any] | None:
        view = self.ctx.directory.group_view(group_id)
        for row in self.ctx.groups.matching:
            value = as_text(row.value(view, creating=True))
            if not value:
                continue
            found = self.ctx.session.search("/Groups", payloads.path_text(row.path), value)
            if len(found) > 1:
                raise ProvisioningFailure(Code.DUPLICATE_TARGET_ENTRIES, f"{len(found)} groups are named {value!r}")
            if found:
                return found[0]
            return None
        raise Skipped(Code.IMPORT_SKIPPED, "no value for any matching attribute")

    def _update(self, group_id: str, scim_id: str, current: dict[str, Any]) -> None:
        ctx = self.ctx
        values = self._values(group_id, creating=False)
        operations = payloads.update_operations(current, values, ctx.profile, "Group")
        if not operations:
            ctx.record("group", group_id, Action.UPDATE, Outcome.SKIPPED, Code.SYNCHRONIZATION_SKIPPED)
            return
        if not ctx.settings.update:
            ctx.record("group", group_id, Action.UPDATE, Outcome.SKIPPED, Code.UPDATE_DISABLED)
            return
        ctx.session.call("PATCH", f"/Groups/{scim_id}", body=patch_request(operations))
        ctx.record("group", group_id, Action.UPDATE, Outcome.SUCCESS, detail="attributes")

    def sync_members(self, group_id: str, subset: set[str] | None = None) -> None:
        """Add and remove members one PATCH at a time (§3.4), comparing with what was sent before;
        the PATCHes go out concurrently (§3.5).

        ``subset`` limits the change to some members (provision on demand, §8).
        """
        patches = self.member_patches(group_id, subset)
        self.apply_members(patches, self.send_members(patches))

    def member_patches(self, group_id: str, subset: set[str] | None = None) -> list[MemberPatch]:
        """The membership PATCHes that bring the group from what was sent to what the directory holds (§3.4)."""
        ctx = self.ctx
        scim_id = ctx.links.scim_id("group", group_id)
        if scim_id is None or not ctx.groups.provision_members or group_id not in ctx.directory.core.groups:
            return []
        sent = ctx.state.members_sent.setdefault(group_id, set())
        wanted = {
            uid
            for uid in ctx.directory.core.group(group_id).members
            if ctx.links.scim_id("user", uid) is not None and uid not in ctx.state.unmanaged
        }
        if subset is not None:
            wanted = (wanted & subset) | (sent - subset)
        size = max(1, ctx.profile.members_per_patch)
        adds, removes = sorted(wanted - sent), sorted(sent - wanted)
        patches = []
        for start in range(0, len(adds), size):
            chunk = tuple(adds[start : start + size])
            ids = [ctx.links.scim_id("user", uid) or "" for uid in chunk]
            patches.append(MemberPatch(group_id, scim_id, chunk, True, payloads.member_add_patch(ids, ctx.profile)))
        for start in range(0, len(removes), size):
            chunk = tuple(removes[start : start + size])
            known = [sid for uid in chunk if (sid := ctx.links.scim_id("user", uid)) is not None]
            body = payloads.member_remove_patch(known, ctx.profile) if known else None
            patches.append(MemberPatch(group_id, scim_id, chunk, False, body))
        return patches

    def send_members(self, patches: Sequence[MemberPatch]) -> list[Done[object]]:
        """Send the PATCHes through the worker pool (§3.5); each outcome in the order of ``patches``.

        Only HTTP happens on the workers: what was sent and the log are updated by ``apply_members``.
        """
        session = self.ctx.session

        def send(patch: MemberPatch) -> Callable[[], object]:
            if patch.body is None:
                return lambda: None
            return partial(session.call, "PATCH", f"/Groups/{patch.scim_id}", body=patch.body)

        return self.pool.run([send(patch) for patch in patches])

    def apply_members(self, patches: Sequence[MemberPatch], outcomes: Iterable[Done[object]]) -> None:
        """Remember and log what one group's PATCHes did, in order; then raise the first failure."""
        ctx = self.ctx
        failure: Exception | None = None
        for patch, done in zip(patches, outcomes, strict=True):
            if done.error is not None:
                failure = failure or done.error
                continue
            sent = ctx.state.members_sent.setdefault(patch.group_id, set())
            if patch.add:
                sent.update(patch.members)
            else:
                sent.difference_update(patch.members)
            verb = "add" if patch.add else "remove"
            detail = f"{verb} member {', '.join(patch.members)}"
            ctx.record("group", patch.group_id, Action.UPDATE, Outcome.SUCCESS, detail=detail)
        if failure is not None:
            raise failure

    def delete(self, group_id: str) -> None:
        """Group deleted or unassigned: DELETE /Groups/{id} when the Delete action is on (§3.4)."""
        if self.ctx.hard_delete("group", group_id):
            self.ctx.state.members_sent.pop(group_id, None)

    def sync_member_groups(self, group_id: str) -> None:
        """Child groups in scope, each sent as one member by its target id (docs/entra-idp.md §3.4).

        Entra adds a nested group as a single member and does not flatten its members (Microsoft staff,
        https://github.com/Azure/AzureAD-BYOA-Provisioning-Samples/issues/26); a child that is not
        provisioned has no target id, so it is not sent (inferred, as for users out of scope). A server
        that refuses the member fails the parent group's update, which is logged and escrowed like any
        failed object (§7). Sent children are kept by the parent's target id, so a relinked parent starts
        afresh.
        """
        ctx = self.ctx
        scim_id = ctx.links.scim_id("group", group_id)
        if scim_id is None or not ctx.groups.provision_members or group_id not in ctx.directory.core.groups:
            return
        sent = ctx.state.member_groups_sent.setdefault(scim_id, set())
        children = ctx.directory.core.group(group_id).member_groups
        wanted = {child for child in children if ctx.links.scim_id("group", child) is not None}
        for child in sorted(wanted - sent):
            body = payloads.member_add_patch([ctx.links.scim_id("group", child) or ""], ctx.profile)
            ctx.session.call("PATCH", f"/Groups/{scim_id}", body=body)
            sent.add(child)
            ctx.record("group", group_id, Action.UPDATE, Outcome.SUCCESS, detail=f"add member group {child}")
        for child in sorted(sent - wanted):
            if (child_id := ctx.links.scim_id("group", child)) is not None:
                body = payloads.member_remove_patch([child_id], ctx.profile)
                ctx.session.call("PATCH", f"/Groups/{scim_id}", body=body)
            sent.discard(child)
            ctx.record("group", group_id, Action.UPDATE, Outcome.SUCCESS, detail=f"remove member group {child}")
