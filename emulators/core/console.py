"""One set of admin-console verbs for every IdP, so the one-way rules are written once and run for each.

An ``AdminConsole`` is what an IdP admin does in the IdP's console (assign a user, change a profile,
deactivate, push or assign a group, sync), each verb forwarded to that IdP's emulator, which says what
goes on the wire and when (Okta sends at once; Entra at the next cycle). ``expected_state`` is the
independent oracle (``emulators.core.expected``): what the service provider must hold after ``sync``.
The Gherkin steps, the stateful proofs, the conformance ``sync`` suite and ``aup sync`` drive IdPs
through this class, so an IdP added to the registry (``emulators.registry``) is tested by all of them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from emulators.core.cycle_clock import CycleClock
from emulators.core.directory import Directory, Group, User
from emulators.core.expected import ExpectedState
from emulators.core.linkstore import LinkStore
from emulators.core.profile import IdpProfile


@dataclass
class ConsoleSetup:
    """What a console is built from.

    ``http`` is a client of the service provider made with the profile's headers (the caller adds its
    hooks and transport); ``links`` keeps IdP id <-> SCIM id across runs (in memory when None); ``rules``
    are mapping rules in the IdP's own form, merged over its default mapping; ``settings`` are the fields
    of the IdP's settings object (admin choices); ``options`` anything else the IdP documents (Entra: its
    scoping filter under ``scoping``).
    """

    directory: Directory
    http: httpx.Client
    profile: IdpProfile
    clock: CycleClock
    links: LinkStore | None = None
    rules: Sequence[Any] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)


P = TypeVar("P", bound=IdpProfile)


class DirectoryActions:
    """The admin actions that only change the directory, for an IdP that sends at its next sync (a cycle):
    assignments, profile changes, group membership and names, which groups it provisions."""

    directory: Directory

    def assign_user(self, user_id: str) -> None:
        self.directory.user(user_id)
        if user_id not in self.directory.app.users:
            self.directory.app.users.append(user_id)

    def unassign_user(self, user_id: str) -> None:
        if user_id in self.directory.app.users:
            self.directory.app.users.remove(user_id)

    def update_user(self, user_id: str, changes: Mapping[str, Any]) -> None:
        """Change profile attributes; a None value empties the attribute."""
        profile = self.directory.user(user_id).profile
        for name, value in changes.items():
            if value is None:
                profile.pop(name, None)
            else:
                profile[name] = value

    def connect_group(self, group_id: str) -> None:
        self.directory.group(group_id)
        self.directory.app.push_groups[group_id] = True

    def disconnect_group(self, group_id: str) -> None:
        self.directory.group(group_id)
        self.directory.app.push_groups[group_id] = False

    def add_member(self, group_id: str, user_id: str) -> None:
        members = self.directory.group(group_id).members
        if user_id not in members:
            members.append(user_id)

    def remove_member(self, group_id: str, user_id: str) -> None:
        members = self.directory.group(group_id).members
        if user_id in members:
            members.remove(user_id)

    def rename_group(self, group_id: str, name: str) -> None:
        self.directory.group(group_id).name = name


class AdminConsole(ABC):
    """The admin verbs shared by every IdP; each IdP says what they send and when."""

    label = ""  # the IdP's name in messages ("Okta")

    def __init__(self, directory: Directory, clock: CycleClock) -> None:
        self.directory = directory
        self.clock = clock

    @classmethod
    def own_profile(cls, setup: ConsoleSetup, kind: type[P]) -> P:
        """``setup.profile`` when it is one of this IdP's (``kind``); another IdP's dialect is a TypeError."""
        if not isinstance(setup.profile, kind):
            raise TypeError(
                f"{cls.label}'s console needs one of {cls.label}'s profiles, not {type(setup.profile).__name__}"
            )
        return setup.profile

    # directory content (no request on any IdP)
    def add_user(self, user_id: str, profile: Mapping[str, Any]) -> None:
        self.directory.users[user_id] = User(user_id, dict(profile))

    def add_group(self, group_id: str, name: str, members: list[str]) -> None:
        self.directory.groups[group_id] = Group(group_id, name, members=list(members))

    @property
    @abstractmethod
    def links(self) -> LinkStore:
        """IdP id <-> SCIM id of everything the IdP provisioned."""

    # admin actions
    @abstractmethod
    def assign_user(self, user_id: str) -> None: ...

    @abstractmethod
    def unassign_user(self, user_id: str) -> None: ...

    @abstractmethod
    def update_user(self, user_id: str, changes: Mapping[str, Any]) -> None:
        """Change profile attributes; a None value empties the attribute."""

    @abstractmethod
    def deactivate(self, user_id: str) -> None: ...

    @abstractmethod
    def reactivate(self, user_id: str) -> None: ...

    @abstractmethod
    def connect_group(self, group_id: str) -> None:
        """Start provisioning a group (Okta: push it; Entra: assign it)."""

    @abstractmethod
    def disconnect_group(self, group_id: str) -> None:
        """Stop provisioning a group and delete it on the service provider."""

    @abstractmethod
    def add_member(self, group_id: str, user_id: str) -> None: ...

    @abstractmethod
    def remove_member(self, group_id: str, user_id: str) -> None: ...

    @abstractmethod
    def rename_group(self, group_id: str, name: str) -> None: ...

    @abstractmethod
    def sync(self) -> None:
        """Send what is pending."""

    @abstractmethod
    def provision_all(self) -> None:
        """Provision the whole directory as it stands: every assigned user and every provisioned group."""

    def resync(self) -> None:
        """Sync again with no directory change."""
        self.sync()

    @abstractmethod
    def rewrite(self) -> None:
        """Write every object the IdP owns again, overwriting drift on mapped attributes."""

    @abstractmethod
    def unresolved_failures(self) -> list[str]:
        """Sends that failed and were not made good since: an expected-state check is void while any remain."""

    @abstractmethod
    def expected_state(self) -> ExpectedState:
        """What the service provider must hold once nothing is pending (computed from the directory)."""
