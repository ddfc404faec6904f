"""User flows: match or create, update what differs, disable, delete, and the separate manager PATCH.

Each flow sends the requests of docs/entra-idp.md §3.1-§3.3 for one user and writes one log entry;
a failed request raises ``ProvisioningFailure`` for the cycle engine to log and escrow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulators.core.payloads import patch_request
from emulators.entra import payloads
from emulators.entra.context import Context, Disposition, Skipped
from emulators.entra.functions import as_text
from emulators.entra.log import Action, Code, Outcome
from emulators.entra.session import ProvisioningFailure


@dataclass
class Provisioned:
    """A user that exists in the target after this cycle, with the manager id the target holds."""

    user_id: str
    scim_id: str
    manager: str | None


class UserFlows:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _values(self, attributes: dict[str, Any], *, creating: bool) -> list[tuple[Any, Any]]:
        return [(row.path, value) for row, value in self.ctx.users.values(attributes, creating=creating)]

    def provision(self, user_id: str, *, rematch: bool) -> Provisioned | None:
        """An in-scope, enabled user: update the linked object, or match, then link or create (§3.1, §3.2)."""
        ctx = self.ctx
        attributes = ctx.user_attributes(user_id, Disposition.ACTIVE)
        scim_id = ctx.links.scim_id("user", user_id)
        if scim_id is not None:
            current = ctx.session.resource("/Users", scim_id)
            if current is None and not rematch:
                raise ProvisioningFailure(Code.INVALID_ANCHOR, f"linked user {scim_id} is gone from the target", 404)
            if current is not None:
                ctx.state.unmanaged.discard(user_id)
                return self._update(user_id, scim_id, current, attributes)
            ctx.links.unlink("user", user_id)  # §3.2 (Microsoft staff): re-match after a 404 on re-evaluation
        found = self._match(user_id, attributes)
        if found is None:
            return self._create(user_id, attributes)
        scim_id = str(found["id"])
        ctx.links.link("user", user_id, scim_id)
        ctx.state.unmanaged.discard(user_id)
        return self._update(user_id, scim_id, found, attributes)

    def _match(self, user_id: str, attributes: dict[str, Any]) -> dict[str, Any] | None:
        """Matching attributes in precedence order, stopping at the first hit (§3.1 step 1, §8)."""
        tried = False
        for row in self.ctx.users.matching:
            value = as_text(row.value(attributes, creating=True))
            if not value:
                continue
            tried = True
            found = self.ctx.session.search("/Users", payloads.path_text(row.path), value)
            if len(found) > 1:
                raise ProvisioningFailure(
                    Code.DUPLICATE_TARGET_ENTRIES, f"{len(found)} users match {payloads.path_text(row.path)} {value!r}"
                )
            if found:
                if not found[0].get("id"):
                    raise ProvisioningFailure(Code.SERVICE_INCOMPATIBLE, "a matched user has no id")
                return found[0]
        if not tried:
            raise Skipped(Code.IMPORT_SKIPPED, "no value for any matching attribute")
        return None

    def _create(self, user_id: str, attributes: dict[str, Any]) -> Provisioned | None:
        ctx = self.ctx
        if not ctx.settings.create:
            ctx.record("user", user_id, Action.CREATE, Outcome.SKIPPED, Code.CREATE_DISABLED)
            return None
        body = payloads.user_create_body(self._values(attributes, creating=True), ctx.profile)
        created = ctx.session.call("POST", "/Users", body=body)
        if not isinstance(created, dict) or not created.get("id"):
            raise ProvisioningFailure(Code.SERVICE_INCOMPATIBLE, "POST /Users answered without an id")
        ctx.links.link("user", user_id, str(created["id"]))
        ctx.record("user", user_id, Action.CREATE, Outcome.SUCCESS)
        return Provisioned(user_id, str(created["id"]), None)

    def _update(self, user_id: str, scim_id: str, current: dict[str, Any], attributes: dict[str, Any]) -> Provisioned:
        ctx = self.ctx
        operations = payloads.update_operations(current, self._values(attributes, creating=False), ctx.profile)
        manager = payloads.current_manager(current)
        if not operations:
            ctx.record("user", user_id, Action.UPDATE, Outcome.SKIPPED, Code.SYNCHRONIZATION_SKIPPED)
        elif not ctx.settings.update:
            ctx.record("user", user_id, Action.UPDATE, Outcome.SKIPPED, Code.UPDATE_DISABLED)
        else:
            ctx.session.call("PATCH", f"/Users/{scim_id}", body=patch_request(operations))
            changed = ", ".join(str(op.get("path") or ", ".join(op["value"])) for op in operations)
            ctx.record("user", user_id, Action.UPDATE, Outcome.SUCCESS, detail=changed)
        return Provisioned(user_id, scim_id, manager)

    def set_manager(self, done: Provisioned) -> None:
        """The manager as a second, separate PATCH with the manager's target id (§3.1 step 4, §3.2).

        A manager that is not provisioned is left out and not filled in later until a restart
        (§3.1; Microsoft's known issues page).
        """
        ctx = self.ctx
        if ctx.users.reference is None or done.user_id not in ctx.directory.core.users:
            return
        manager_source = ctx.directory.user_view(done.user_id).get("manager")
        wanted = ctx.links.scim_id("user", str(manager_source)) if manager_source else None
        if manager_source and wanted is None:
            return
        operation = payloads.manager_operation(done.manager, wanted, ctx.profile)
        if operation is None or not ctx.settings.update:
            return
        ctx.session.call("PATCH", f"/Users/{done.scim_id}", body=patch_request([operation]))
        ctx.record("user", done.user_id, Action.UPDATE, Outcome.SUCCESS, detail="manager")

    def disable(self, user_id: str, disposition: Disposition) -> None:
        """Deprovision (§3.3): PATCH active to the mapping's soft-deleted value; DELETE if active is unmapped."""
        ctx = self.ctx
        scim_id = ctx.links.scim_id("user", user_id)
        if scim_id is None:
            return
        if not ctx.users.has_target("active"):
            self.delete(user_id)
            return
        current = ctx.session.resource("/Users", scim_id)
        if current is None:
            raise ProvisioningFailure(Code.INVALID_ANCHOR, f"linked user {scim_id} is gone from the target", 404)
        attributes = ctx.user_attributes(user_id, disposition)
        active = [(p, v) for p, v in self._values(attributes, creating=False) if p.attribute.lower() == "active"]
        operations = payloads.update_operations(current, active, ctx.profile)
        if disposition.out_of_scope:
            ctx.state.unmanaged.add(user_id)  # §3.3: no DELETE for this user afterwards
        if not operations:
            ctx.record("user", user_id, Action.DISABLE, Outcome.SKIPPED, Code.SYNCHRONIZATION_SKIPPED)
            return
        ctx.session.call("PATCH", f"/Users/{scim_id}", body=patch_request(operations))
        ctx.record("user", user_id, Action.DISABLE, Outcome.SUCCESS, detail=str(disposition))

    def delete(self, user_id: str) -> None:
        """Hard delete (§3.3): DELETE when the Delete target action is on; a 404 is tolerated (§11.6)."""
        ctx = self.ctx
        if not ctx.hard_delete("user", user_id):
            return
        ctx.state.unmanaged.discard(user_id)
        for members in ctx.state.members_sent.values():
            members.discard(user_id)
