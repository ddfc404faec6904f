"""Group Push flows: the calls Okta makes to create, link, fill, rename and delete a pushed group.

docs/okta-idp.md §7. Only members that are provisioned (linked) and not deactivated are pushed;
members are referenced by SCIM user id with the userName as ``display``.
"""

from __future__ import annotations

from typing import Any

from emulators.core.directory import Directory, Group, Status
from emulators.core.linkstore import LinkStore
from emulators.core.payloads import member_ref
from emulators.okta import payloads
from emulators.okta.profile import OktaProfile, OktaSettings
from emulators.okta.session import OktaSession
from emulators.okta.tasks import TaskError
from emulators.okta.users import UserFlows, resource_id


class GroupFlows:
    def __init__(
        self,
        session: OktaSession,
        directory: Directory,
        links: LinkStore,
        users: UserFlows,
        profile: OktaProfile,
        settings: OktaSettings,
    ) -> None:
        self.session = session
        self.directory = directory
        self.links = links
        self.users = users
        self.profile = profile
        self.settings = settings

    def member_refs(self, user_ids: list[str]) -> list[dict[str, Any]]:
        """Member references for the users Okta may push: linked and not deactivated (§7 prerequisites)."""
        refs = []
        for user_id in user_ids:
            scim_id = self.links.scim_id("user", user_id)
            user = self.directory.users.get(user_id)
            if scim_id is None or user is None or user.status is Status.DEPROVISIONED:
                continue
            refs.append(member_ref(scim_id, self.users.user_name(user)))
        return refs

    def scim_id(self, group_id: str) -> str:
        scim_id = self.links.scim_id("group", group_id)
        if scim_id is None:
            raise TaskError(f"group {group_id} is not pushed to the app (no link); push it first")
        return scim_id

    def create(self, group_id: str) -> None:
        """Look the name up, POST the group, then push its members as a membership change (§7, §12).

        The canonical create carries ``members: []``; the members follow in the same request(s) as
        any membership update (``push_delta``): the add PATCH and the rename PATCH in OIN mode, GET
        then PUT in AIW mode. ``group_members_in_post`` lists them in the POST as well.
        """
        group = self.directory.group(group_id)
        linked = self.links.scim_id("group", group.id)
        found = self.session.find("/Groups", "displayName", group.name)
        if found is None:
            listed = self.member_refs(group.members) if self.profile.group_members_in_post else []
            created = self.session.call("POST", "/Groups", body=payloads.group_create_body(group.name, listed))
            self.links.link("group", group.id, resource_id(created, "Create new group returned empty group"))
        elif linked is None or found.get("id") != linked:
            # §13: what Okta does here is undocumented; an error asking for "Link Group" is inferred.
            raise TaskError(
                f"a group named {group.name!r} already exists in the app (id {found.get('id')}); link it instead"
            )
        # A name found under the linked id is this task's own POST from an earlier attempt, so a retry
        # goes on with the members (inferred: Okta keeps the app group's id once the POST answered).
        self.push_delta(group.id, group.members, [])

    def link(self, group_id: str, scim_id: str) -> None:
        """Link Group (§7): adopt an existing app group, add Okta's members (old ones stay), rename if set."""
        self.links.link("group", group_id, scim_id)
        self.push_delta(group_id, self.directory.group(group_id).members, [], rename=True)

    def push_delta(self, group_id: str, adds: list[str], removes: list[str], *, rename: bool = False) -> None:
        """A membership change (§7): one PATCH, removes by filter path then the add list, followed by
        the rename PATCH when renaming is on; AIW reads the group and PUTs the whole member list.
        """
        group = self.directory.group(group_id)
        scim_id = self.scim_id(group_id)
        add_refs = self.member_refs(adds)
        remove_ids = [sid for uid in removes if (sid := self.links.scim_id("user", uid)) is not None]
        if self.profile.group_update == "put":
            doc = self.session.call("GET", f"/Groups/{scim_id}")
            kept = [ref for ref in _members(doc) if ref["value"] not in remove_ids]
            known = {ref["value"] for ref in kept}
            self._put(group, scim_id, doc, kept + [ref for ref in add_refs if ref["value"] not in known])
            return
        if add_refs or remove_ids:
            self.session.call("PATCH", f"/Groups/{scim_id}", body=payloads.members_patch(remove_ids, add_refs))
        if self.settings.rename_groups and (add_refs or remove_ids or rename):
            # §7: "the group name update operation is triggered each time there's a group membership update".
            self._rename_patch(group, scim_id)

    def push_all(self, group_id: str) -> None:
        """Push Now (§7): overwrite the membership with Okta's full list, ``[]`` for an empty group."""
        group = self.directory.group(group_id)
        scim_id = self.scim_id(group_id)
        members = self.member_refs(group.members)
        if self.profile.group_update == "put":
            self._put(group, scim_id, self.session.call("GET", f"/Groups/{scim_id}"), members)
            return
        self.session.call("PATCH", f"/Groups/{scim_id}", body=payloads.replace_members_patch(members))
        if self.settings.rename_groups:
            self._rename_patch(group, scim_id)

    def rename(self, group_id: str) -> None:
        """Rename the app group to the Okta name (§7), only sent when renaming is on."""
        group = self.directory.group(group_id)
        scim_id = self.scim_id(group_id)
        if self.profile.group_update == "put":
            doc = self.session.call("GET", f"/Groups/{scim_id}")
            self._put(group, scim_id, doc, _members(doc))
            return
        self._rename_patch(group, scim_id)

    def delete(self, group_id: str) -> None:
        """Unlink and delete (§7): DELETE /Groups/{id}; a 404 counts as already deleted (inferred)."""
        scim_id = self.scim_id(group_id)
        self.session.call("DELETE", f"/Groups/{scim_id}", absent_ok=True)
        self.links.unlink("group", group_id)

    def _rename_patch(self, group: Group, scim_id: str) -> None:
        body = payloads.rename_patch(scim_id, group.name, profile=self.profile)
        self.session.call("PATCH", f"/Groups/{scim_id}", body=body)

    def _put(self, group: Group, scim_id: str, doc: Any, members: list[dict[str, Any]]) -> None:
        server = doc if isinstance(doc, dict) else {"id": scim_id}
        name = group.name if self.settings.rename_groups else str(server.get("displayName", group.name))
        self.session.call("PUT", f"/Groups/{scim_id}", body=payloads.group_put_body(server, name, members))


def _members(doc: Any) -> list[dict[str, Any]]:
    """The member references of a group resource, reduced to ``value`` and ``display``."""
    members = doc.get("members") if isinstance(doc, dict) else None
    return [
        member_ref(str(m["value"]), m.get("display")) for m in members or () if isinstance(m, dict) and "value" in m
    ]
