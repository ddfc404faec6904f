"""PingFederate's SCIM Provisioner as an admin console: the datastore is the directory, a connection's source
location is the app assignment (users) and the pushed groups, and a synchronization cycle sends what changed
since the last one (docs/pingfederate-idp.md).

PingFederate keeps the state of synchronization in its provisioning database and checks the source every
minute (§1). Here that database is ``SyncState``: the last representation written per user and the last name
and members written per group, saved beside the links, so a later run sends only what changed, as the real
provisioner does. A write the server refuses leaves the state as it was, so the next cycle sends it again (§6).

The wire, per the documentation: a user is matched by ``userName eq`` (or the admin's filter expression) before
it is created (§3); users are created with POST and changed with PUT only, never PATCH (§4); a removed user is
disabled with a PUT carrying ``active`` false, or deleted, as the Remove User Action says (§4); a group is found
by reading every page of /Groups and comparing names, since the provisioner filters groups by listing them (§5);
group renames and membership changes go as PATCH, or as a PUT of the whole group when the connection's
"SCIM SP Supports Patch Updates" box is cleared (§5); a group taken out of the source is deleted (§5).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from emulators.core.console import AdminConsole, ConsoleSetup, DirectoryActions
from emulators.core.directory import Status, User
from emulators.core.errors import ConfigurationError
from emulators.core.expected import ExpectedGroup, ExpectedState, ExpectedUser
from emulators.core.linkstore import Kind, LinkStore
from emulators.core.mapping import TargetPath, is_empty, set_value
from emulators.core.payloads import patch_request
from emulators.core.retry import RateLimitExhaustedError, send_with_rate_limit
from emulators.pingfederate.profile import DEFAULT_MAPPING, PingFederateProfile, PingFederateSettings
from scimcore import urns
from scimcore.client import ScimClient, eq_filter, response_json

STATE_VERSION = 1


class SyncState:
    """PingFederate's provisioning database: what the last cycles wrote, per directory id (JSON beside the links)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.users: dict[str, dict[str, Any]] = {}  # directory id -> the user document last written
        self.groups: dict[str, dict[str, Any]] = {}  # directory id -> {"name": ..., "members": [scim ids]}
        if path is not None and path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigurationError(f"cannot read PingFederate's sync state {path}: {exc}") from None
            if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
                raise ConfigurationError(f"{path} is not a version {STATE_VERSION} PingFederate sync state")
            self.users = dict(data.get("users") or {})
            self.groups = dict(data.get("groups") or {})

    @classmethod
    def beside(cls, links: LinkStore) -> SyncState:
        """Saved beside saved links (``people.pingfederate-links.json`` -> ``people.pingfederate-state.json``);
        in memory with in-memory links."""
        if links.path is None:
            return cls(None)
        name = links.path.name
        stem = name.removesuffix("-links.json") if name.endswith("-links.json") else name.removesuffix(".json")
        return cls(links.path.with_name(f"{stem}-state.json"))

    def save(self) -> None:
        if self.path is None:
            return
        data = {"version": STATE_VERSION, "users": self.users, "groups": self.groups}
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)


def compile_mapping(rules: Sequence[Any], known: frozenset[str] = frozenset()) -> tuple[tuple[TargetPath, str], ...]:
    """The default mapping with ``rules`` ((target path, directory attribute) pairs, or a mapping of them)
    replacing the entries of the same target; with ``known``, every source must be one of the directory's
    attributes (a typo would otherwise send nothing, silently)."""
    pairs = dict(DEFAULT_MAPPING)
    items = rules.items() if isinstance(rules, Mapping) else rules
    for item in items:
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            raise ConfigurationError(f"a PingFederate mapping rule is a (SCIM path, attribute) pair, not {item!r}")
        pairs[item[0]] = item[1]
    if "userName" not in pairs:
        raise ConfigurationError("PingFederate's mapping must give userName")
    unknown = sorted(source for source in pairs.values() if known and source not in known)
    if unknown:
        raise ConfigurationError(f"PingFederate's mapping reads unknown directory attribute(s): {', '.join(unknown)}")
    return tuple((TargetPath.parse(target), source) for target, source in pairs.items())


class PingFederateConsole(DirectoryActions, AdminConsole):
    label = "PingFederate"

    def __init__(self, setup: ConsoleSetup) -> None:
        super().__init__(setup.directory, setup.clock)
        self.profile = self.own_profile(setup, PingFederateProfile)
        self.settings = PingFederateSettings.from_mapping(setup.settings)
        self.mapping = compile_mapping(setup.rules, setup.directory.known_attributes())
        self.scim = ScimClient(
            setup.http,
            headers=self.profile.headers,
            body_headers=self.profile.body_headers,
            space=self.profile.query_space,
        )
        self._links = setup.links or LinkStore()
        self.state = SyncState.beside(self._links)
        self.failures: list[str] = []
        self.cycles = 0

    @property
    def links(self) -> LinkStore:
        return self._links

    # -- admin actions change the datastore (DirectoryActions); the next cycle sends -------------------------------

    def deactivate(self, user_id: str) -> None:
        self.directory.user(user_id).status = Status.SUSPENDED  # disabled in the datastore

    def reactivate(self, user_id: str) -> None:
        self.directory.user(user_id).status = Status.ACTIVE

    def provision_all(self) -> None:
        self.sync()

    def rewrite(self) -> None:
        """Every managed object written again (provmgr's reset of a channel): the state is forgotten, the links
        kept, so each user is written in full and each group's members are set again."""
        self.state.users.clear()
        self.state.groups.clear()
        self.sync()

    def unresolved_failures(self) -> list[str]:
        return list(self.failures)

    # -- the synchronization cycle ------------------------------------------------------------------------------

    def sync(self) -> None:
        """One cycle: users, then groups (their members are users' SCIM ids), then what left the source."""
        self.clock.advance(self.profile.cycle_seconds)
        self.cycles += 1
        self.failures.clear()
        try:
            for user in list(self.directory.users.values()):
                self._sync_user(user)
            for user_id in sorted(set(self.links.links("user")) - set(self.directory.users)):
                self._remove_user(user_id, f"deleted user {user_id}")  # deleted from the datastore
            for group_id, connected in list(self.directory.app.push_groups.items()):
                if connected and group_id in self.directory.groups:
                    self._sync_group(group_id)
            for group_id in sorted(self.links.links("group")):
                if not self.directory.app.push_groups.get(group_id) or group_id not in self.directory.groups:
                    self._delete_group(group_id)
        finally:
            self.links.save()
            self.state.save()

    # users

    def in_source(self, user: User) -> bool:
        return self.directory.is_assigned(user.id)

    def provisioned_active(self, user: User) -> bool:
        """In the source and enabled: created and kept active, and a member of its groups on the server."""
        return self.in_source(user) and user.status is Status.ACTIVE

    def _sync_user(self, user: User) -> None:
        scim_id = self.links.scim_id("user", user.id)
        if not self.in_source(user) or user.status is not Status.ACTIVE:
            if scim_id is not None:  # removed from the source, or disabled in the datastore
                self._remove_user(user.id, user.login)
            elif self.in_source(user) and self.settings.provision_disabled_users:
                self._create_user(user, active=False)
            return
        if scim_id is None:
            self._create_user(user, active=True)
            return
        doc = self._document(user, active=True)
        if self.state.users.get(user.id) != doc:  # an attribute changed, or the user is enabled again
            self._replace_user(user.id, scim_id, doc, f"update {user.login}")

    def _document(self, user: User, *, active: bool) -> dict[str, Any]:
        doc: dict[str, Any] = {"schemas": [urns.USER]}
        for path, source in self.mapping:
            value = user.profile.get(source)
            if not is_empty(value):
                set_value(doc, path, value)
        doc["active"] = active
        return doc

    def _lookup_filter(self, user: User) -> str:
        if self.settings.unique_user_identifier == "workEmail":
            value = str(user.profile.get("email") or user.login)
            attribute = "emails"
        else:
            value, attribute = user.login, "userName"
        if self.settings.filter_expression:
            return self.settings.filter_expression.replace("%s", value)
        return eq_filter(attribute, value)

    def _create_user(self, user: User, *, active: bool) -> None:
        doc = self._document(user, active=active)
        found = self._send(
            lambda: self.scim.get("/Users", [("filter", self._lookup_filter(user))]), f"find {user.login}"
        )
        if found is None:
            return
        resources = (response_json(found) or {}).get("Resources") or []
        if resources:  # an existing account: linked, then written as the datastore has it
            scim_id = str(resources[0].get("id"))
            self.links.link("user", user.id, scim_id)
            self._replace_user(user.id, scim_id, doc, f"update {user.login}")
            return
        created = self._send(lambda: self.scim.post("/Users", doc), f"create {user.login}")
        body = response_json(created) if created is not None else None
        if created is not None and isinstance(body, dict) and body.get("id"):
            self.links.link("user", user.id, str(body["id"]))
            self.state.users[user.id] = doc
        elif created is not None:
            self.failures.append(f"create {user.login}: the answer has no id")

    def _replace_user(self, user_id: str, scim_id: str, doc: dict[str, Any], what: str) -> None:
        body = {**doc, "id": scim_id}
        gone = partial(self._gone, "user", user_id)
        if self._send(lambda: self.scim.put(f"/Users/{scim_id}", body), what, on_gone=gone) is not None:
            self.state.users[user_id] = doc

    def _gone(self, kind: Kind, idp_id: str) -> None:
        """The server no longer has what was linked (deleted there): the link and state are dropped, so the next
        cycle looks it up and creates it again (inferred: docs/pingfederate-idp.md §6)."""
        self.links.unlink(kind, idp_id)
        (self.state.users if kind == "user" else self.state.groups).pop(idp_id, None)

    def _remove_user(self, user_id: str, what: str) -> None:
        scim_id = self.links.scim_id("user", user_id)
        if scim_id is None:
            return
        if self.settings.remove_user_action == "delete":
            response = self._send(lambda: self.scim.delete(f"/Users/{scim_id}"), f"delete {what}", gone_ok=True)
            if response is not None:
                self.links.unlink("user", user_id)
                self.state.users.pop(user_id, None)
            return
        last = self.state.users.get(user_id)
        if last is not None and last.get("active") is False:
            return  # disabled already
        if last is None:  # the state was reset: the server's copy is disabled as it stands
            current = self._send(lambda: self.scim.get(f"/Users/{scim_id}"), f"read {what}")
            if current is None:
                return
            last = {k: v for k, v in (response_json(current) or {}).items() if k not in ("id", "meta", "groups")}
        self._replace_user(user_id, scim_id, {**last, "active": False}, f"disable {what}")

    # groups

    def _members(self, group_id: str) -> list[str]:
        """The SCIM ids of the group's members that are provisioned and enabled, in directory order."""
        out = []
        for user_id in self.directory.group(group_id).members:
            user = self.directory.users.get(user_id)
            scim_id = self.links.scim_id("user", user_id)
            if user is not None and scim_id is not None and self.provisioned_active(user):
                out.append(scim_id)
        return out

    def _sync_group(self, group_id: str) -> None:
        group = self.directory.group(group_id)
        members = self._members(group_id)
        scim_id = self.links.scim_id("group", group_id)
        if scim_id is None:
            listed, scim_id, held = self._find_group(group.name)
            if not listed:  # /Groups could not be read: creating now could duplicate a group (next cycle)
                return
            if scim_id is None:
                doc = {"schemas": [urns.GROUP], "displayName": group.name, "members": [{"value": m} for m in members]}
                created = self._send(lambda: self.scim.post("/Groups", doc), f"create group {group.name}")
                body = response_json(created) if created is not None else None
                if isinstance(body, dict) and body.get("id"):
                    self.links.link("group", group_id, str(body["id"]))
                    self.state.groups[group_id] = {"name": group.name, "members": members}
                elif created is not None:
                    self.failures.append(f"create group {group.name}: the answer has no id")
                return
            self.links.link("group", group_id, scim_id)  # an existing group of that name: its members overwritten
            self.state.groups[group_id] = {"name": group.name, "members": held}
        last = self.state.groups.get(group_id)
        if last is None:  # reset: members are set as the datastore has them
            self._write_group(group_id, scim_id, group.name, members, None)
        elif last["name"] != group.name or last["members"] != members:
            self._write_group(group_id, scim_id, group.name, members, last)

    def _find_group(self, name: str) -> tuple[bool, str | None, list[str]]:
        """Every page of /Groups read until a group of that name turns up, as the provisioner filters groups by
        listing them: whether the list could be read, and the group's id and members when found."""
        for page in self._group_pages():
            if page is None:
                return False, None, []
            for doc in page:
                if doc.get("displayName") == name:
                    held = [str(m.get("value")) for m in doc.get("members") or () if isinstance(m, dict)]
                    return True, str(doc.get("id")), held
        return True, None, []

    def _group_pages(self) -> Iterator[list[dict[str, Any]] | None]:
        """The pages of /Groups by index (RFC 7644 §3.4.2.4); None, and the end, when one cannot be read."""
        start, size = 1, self.profile.group_page_size
        while True:
            query: list[tuple[str, str | int]] = [("startIndex", start), ("count", size)]
            response = self._send(lambda page=query: self.scim.get("/Groups", page), "list groups")
            body = response_json(response) if response is not None else None
            if not isinstance(body, dict):
                if response is not None:
                    self.failures.append("list groups: the answer is not a ListResponse")
                yield None
                return
            page = [doc for doc in body.get("Resources") or () if isinstance(doc, dict)]
            yield page
            total = body.get("totalResults")
            start += len(page)
            if not page or not isinstance(total, int) or start > total:
                return

    def _write_group(
        self, group_id: str, scim_id: str, name: str, members: list[str], last: dict[str, Any] | None
    ) -> None:
        what = f"update group {name}"
        gone = partial(self._gone, "group", group_id)
        if not self.profile.patch_groups:
            doc = {
                "schemas": [urns.GROUP],
                "id": scim_id,
                "displayName": name,
                "members": [{"value": m} for m in members],
            }
            sent = self._send(lambda: self.scim.put(f"/Groups/{scim_id}", doc), what, on_gone=gone)
        else:
            operations: list[dict[str, Any]] = []
            if last is None:  # nothing known of what was written: the name and the whole member list
                operations.append({"op": "replace", "path": "displayName", "value": name})
                operations.append({"op": "replace", "path": "members", "value": [{"value": m} for m in members]})
            else:
                if last["name"] != name:
                    operations.append({"op": "replace", "path": "displayName", "value": name})
                added = [m for m in members if m not in last["members"]]
                removed = [m for m in last["members"] if m not in members]
                if added:
                    operations.append({"op": "add", "path": "members", "value": [{"value": m} for m in added]})
                operations += [{"op": "remove", "path": f"members[value eq {json.dumps(m)}]"} for m in removed]
            request = patch_request(operations)
            sent = self._send(lambda: self.scim.patch(f"/Groups/{scim_id}", request), what, on_gone=gone)
        if sent is not None:
            self.state.groups[group_id] = {"name": name, "members": members}

    def _delete_group(self, group_id: str) -> None:
        scim_id = self.links.scim_id("group", group_id)
        if scim_id is None:
            return
        group = self.directory.groups.get(group_id)
        what = f"delete group {group.name if group else group_id}"
        if self._send(lambda: self.scim.delete(f"/Groups/{scim_id}"), what, gone_ok=True) is not None:
            self.links.unlink("group", group_id)
            self.state.groups.pop(group_id, None)

    # the wire

    def _send(
        self, request: Any, what: str, *, gone_ok: bool = False, on_gone: Callable[[], None] | None = None
    ) -> httpx.Response | None:
        """The answer when the server took the request; otherwise None and the failure noted (the next cycle
        tries again, as the state did not move). A 404 to a DELETE means it is gone already (``gone_ok``); a
        404 to a write of a linked resource calls ``on_gone``."""
        try:
            response = send_with_rate_limit(request, self.profile.rate_limit, self.clock)
        except RateLimitExhaustedError as exc:
            self.failures.append(f"{what}: {exc}")
            return None
        if response.is_success or (gone_ok and response.status_code == 404):
            return response
        if on_gone is not None and response.status_code == 404:
            on_gone()
            self.failures.append(f"{what}: HTTP 404, gone from the server; the next cycle creates it again")
            return None
        self.failures.append(f"{what}: HTTP {response.status_code} {response.text[:200]}")
        return None

    # -- the oracle ---------------------------------------------------------------------------------------------

    def expected_state(self) -> ExpectedState:
        """What the server must hold once a cycle has run with nothing pending, from the directory alone."""
        expected = ExpectedState()
        for user in self.directory.users.values():
            if self.provisioned_active(user):
                values = tuple((path, user.profile.get(source) or None) for path, source in self.mapping)
                expected.users[user.login] = ExpectedUser(user.login, "active", values)
            elif self.settings.remove_user_action == "delete":
                expected.users[user.login] = ExpectedUser(user.login, "absent")
            else:
                expected.users[user.login] = ExpectedUser(user.login, "inactive")
        for group_id, connected in self.directory.app.push_groups.items():
            if connected and group_id in self.directory.groups:
                group = self.directory.groups[group_id]
                logins = frozenset(
                    self.directory.users[uid].login
                    for uid in group.members
                    if uid in self.directory.users and self.provisioned_active(self.directory.users[uid])
                )
                expected.groups[group.name] = ExpectedGroup(group.name, logins, logins)
        return expected
