"""What every object flow needs: the session, the directory, links, mappings, settings, log and clock.

It also decides, from source data alone, what state an object is in (docs/entra-idp.md §3.3):
the cycle engine plans deletions with it before any request is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from emulators.core.clock import Clock
from emulators.core.linkstore import Kind, LinkStore
from emulators.entra.directory import EntraDirectory
from emulators.entra.log import Action, Code, LogEntry, Outcome, ProvisioningLog
from emulators.entra.mapping import CompiledEntraMapping
from emulators.entra.profile import EntraProfile, EntraSettings
from emulators.entra.scoping import ScopingFilter
from emulators.entra.session import EntraSession
from emulators.entra.state import JobState


class Disposition(StrEnum):
    """Where a source object stands; everything but ACTIVE makes ``IsSoftDeleted`` true (§3.3, attribute mappings)."""

    ACTIVE = "active"
    GONE = "gone"  # hard-deleted (or purged 30 days after a soft delete)
    SOFT_DELETED = "soft-deleted"
    DISABLED = "disabled"  # accountEnabled false
    UNASSIGNED = "unassigned"
    FILTERED = "filtered"  # fails the scoping filter

    @property
    def out_of_scope(self) -> bool:
        return self in (Disposition.UNASSIGNED, Disposition.FILTERED)


class Skipped(Exception):
    """An object the engine skips with a logged reason instead of a failure (e.g. ``ImportSkipped``)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass
class Context:
    session: EntraSession
    directory: EntraDirectory
    links: LinkStore
    users: CompiledEntraMapping
    groups: CompiledEntraMapping
    profile: EntraProfile
    settings: EntraSettings
    scoping: ScopingFilter
    log: ProvisioningLog
    clock: Clock
    state: JobState

    def record(
        self,
        kind: Kind,
        source_id: str,
        action: Action,
        outcome: Outcome,
        code: str | None = None,
        detail: str = "",
    ) -> LogEntry:
        target = self.links.scim_id(kind, source_id)
        entry = LogEntry(self.state.cycle, self.clock.now(), kind, source_id, target, action, outcome, code, detail)
        return self.log.add(entry)

    def hard_delete(self, kind: Kind, source_id: str) -> bool:
        """DELETE the linked object when the Delete target action is on; a 404 counts as done (§3.3, §3.4).

        True when the object was deleted and unlinked, so the caller can forget what it sent for it.
        """
        scim_id = self.links.scim_id(kind, source_id)
        if scim_id is None:
            return False
        if not self.settings.delete:
            self.record(kind, source_id, Action.DELETE, Outcome.SKIPPED, Code.DELETE_DISABLED)
            return False
        endpoint = "/Users" if kind == "user" else "/Groups"
        self.session.call("DELETE", f"{endpoint}/{scim_id}", absent_ok=True)
        self.record(kind, source_id, Action.DELETE, Outcome.SUCCESS)
        self.links.unlink(kind, source_id)
        return True

    def user_disposition(self, user_id: str) -> Disposition:
        core = self.directory.core
        if user_id not in core.users:
            return Disposition.GONE
        if self.directory.is_soft_deleted(user_id):
            deleted_at = self.directory.soft_deleted_at.get(user_id, self.clock.now())
            if self.clock.now() - deleted_at >= self.settings.hard_delete_after:
                return Disposition.GONE
            return Disposition.SOFT_DELETED
        view = self.directory.user_view(user_id)
        if not view["accountEnabled"]:
            return Disposition.DISABLED
        if self.settings.scope == "assigned" and not core.is_assigned(user_id):
            return Disposition.UNASSIGNED
        if not self.scoping.admits(view):
            return Disposition.FILTERED
        return Disposition.ACTIVE

    def user_attributes(self, user_id: str, disposition: Disposition) -> dict[str, Any]:
        view = self.directory.user_view(user_id)
        view["IsSoftDeleted"] = disposition is not Disposition.ACTIVE
        return view

    def group_disposition(self, group_id: str) -> Disposition:
        core = self.directory.core
        if group_id not in core.groups:
            return Disposition.GONE
        if self.settings.scope == "assigned" and group_id not in core.app.groups:
            return Disposition.UNASSIGNED
        return Disposition.ACTIVE
