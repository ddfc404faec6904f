"""User flows: the calls Okta makes to provision, update, (de)activate a user and sync a password.

Which HTTP shape each flow takes (PATCH or GET+PUT) comes from the profile; the flows only order
the calls as docs/okta-idp.md §4-§6 describe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulators.core.directory import Directory, User
from emulators.core.errors import ConfigurationError
from emulators.core.linkstore import LinkStore
from emulators.core.mapping import CompiledMapping
from emulators.okta import payloads
from emulators.okta.expression import with_groups
from emulators.okta.profile import OktaProfile, OktaSettings
from emulators.okta.session import OktaSession
from emulators.okta.tasks import TaskError


def resource_id(doc: Any, failure: str) -> str:
    """The ``id`` of a returned resource; without one the task fails with ``failure`` (docs/okta-idp.md §4.4)."""
    if not isinstance(doc, dict) or not doc.get("id"):
        raise TaskError(failure)
    return str(doc["id"])


class UserFlows:
    def __init__(
        self,
        session: OktaSession,
        directory: Directory,
        links: LinkStore,
        mapping: CompiledMapping,
        profile: OktaProfile,
        settings: OktaSettings,
    ) -> None:
        self.session = session
        self.directory = directory
        self.links = links
        self.mapping = mapping
        # The password a create sends (the engine's: the user's Okta password with password sync on), else None
        self.create_password: Callable[[str], str | None] = lambda user_id: None
        self.profile = profile
        self.settings = settings

    def attributes(self, user: User) -> dict[str, Any]:
        """What the mapping's expressions see: the profile, and the user's groups for the group functions."""
        return user_attributes(self.directory, user)

    def mapped(self, user: User) -> dict[str, Any]:
        """The user's app profile: the mapping evaluated on the directory profile."""
        return self.mapping.build(self.attributes(user))

    def user_name(self, user: User) -> Any:
        """The user's mapped userName alone (what a group member reference shows as ``display``)."""
        return self.mapping.value("userName", self.attributes(user))

    def scim_id(self, user_id: str) -> str:
        scim_id = self.links.scim_id("user", user_id)
        if scim_id is None:
            raise TaskError(f"user {user_id} is not provisioned to the app (no link); provision it first")
        return scim_id

    def provision(self, user_id: str) -> None:
        """Look the user up by the unique identifier; link and update it, or create it (§4)."""
        user = self.directory.user(user_id)
        mapped = self.mapped(user)
        key = self.settings.unique_identifier
        value = mapped.get(key)
        if not isinstance(value, str) or not value:
            raise TaskError(f"the mapped {key} of {user.login} is empty; check the attribute mapping")
        found = self.session.find("/Users", key, value)
        if found is not None:
            # §4.2: link to the existing resource and push the profile; activation if it is inactive (inferred).
            self.links.link("user", user.id, resource_id(found, "Lookup of user returned a user without id"))
            self.push_profile(user.id, activate=found.get("active") is False)
            return
        body = payloads.user_create_body(
            mapped, external_id=user.id, profile=self.profile, password=self.create_password(user.id)
        )
        created = self.session.call("POST", "/Users", body=body)
        self.links.link("user", user.id, resource_id(created, "Create new user returned empty user"))

    def push_profile(self, user_id: str, *, activate: bool = False) -> None:
        """GET the resource, then PUT it back with the mapped attributes overwritten (§5).

        ``activate`` also makes the app user active: in the same PUT where the profile activates
        by PUT, else by the profile's separate activation request afterwards.
        """
        user = self.directory.user(user_id)
        scim_id = self.scim_id(user_id)
        doc = self.session.call("GET", f"/Users/{scim_id}")
        merged = activate and self.profile.user_active == "put"
        self._put(user, scim_id, doc, active=True if merged else None)
        if activate and not merged:
            self.set_active(user_id, True)

    def set_active(self, user_id: str, active: bool) -> None:
        """Deactivate or reactivate the app user (§6): path-less PATCH, or GET then PUT."""
        scim_id = self.scim_id(user_id)
        if self.profile.user_active == "patch":
            self.session.call("PATCH", f"/Users/{scim_id}", body=payloads.active_patch(active))
            return
        doc = self.session.call("GET", f"/Users/{scim_id}")
        user = self.directory.users.get(user_id)
        if user is None:  # deleted from the directory since: echo the resource with the new state only
            self.session.call("PUT", f"/Users/{scim_id}", body={**_as_dict(doc), "active": active})
            return
        self._put(user, scim_id, doc, active=active)

    def deprovision(self, user_id: str) -> None:
        """Deactivate the app user; once it has no assignment left Okta drops the app user (§6)."""
        self.set_active(user_id, False)
        if user_id not in self.directory.users or not self.directory.is_assigned(user_id):
            self.links.unlink("user", user_id)

    def sync_password(self, user_id: str, password: str) -> None:
        """Password sync (§6): PATCH in OIN (body inferred), GET then PUT with the password in AIW."""
        scim_id = self.scim_id(user_id)
        if self.profile.credential_update == "patch":
            self.session.call("PATCH", f"/Users/{scim_id}", body=payloads.password_patch(password))
            return
        doc = self.session.call("GET", f"/Users/{scim_id}")
        self._put(self.directory.user(user_id), scim_id, doc, password=password)

    def _put(
        self, user: User, scim_id: str, doc: Any, *, active: bool | None = None, password: str | None = None
    ) -> None:
        body = payloads.user_put_body(
            _as_dict(doc),
            self.mapping,
            self.attributes(user),
            external_id=user.id,
            profile=self.profile,
            active=active,
            password=password,
        )
        self.session.call("PUT", f"/Users/{scim_id}", body=body)


def _as_dict(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise TaskError("the server answered GET with no resource")
    return doc


def user_attributes(directory: Directory, user: User) -> dict[str, Any]:
    """A user's profile with the groups it belongs to in the directory, for the group functions."""

    def manager() -> dict[str, Any] | None:
        reference = user.profile.get("managerId") or user.profile.get("manager")
        if not reference:
            return None
        try:
            return directory.find_user(str(reference)).profile
        except ConfigurationError:
            return None  # a manager outside the directory: null, as for a user without one (inferred)

    return with_groups(
        user.profile, lambda: [(g.id, g.name) for g in directory.groups.values() if user.id in g.members], manager
    )
