"""The documented flows whose emulator traffic is pinned as golden cassettes (docs/recording.md).

Each flow drives an emulator against a fresh embedded reference server and returns every exchange.
The directories and clocks are fixed, so two runs differ only in what the fidelity diff normalises
away (server ids, Entra's random probe GUIDs, Okta's random passwords, timestamps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store
from emulators.core.clock import FakeClock
from emulators.core.console import AdminConsole, ConsoleSetup
from emulators.core.directory import AppAssignments, Directory, Group, User
from emulators.entra import ENTRA_DEFAULT, EntraDirectory, EntraEmulator
from emulators.okta import OKTA_OIN, OktaEmulator
from emulators.pingfederate import SPEC as PINGFEDERATE_SPEC
from scimcore.client import IN_PROCESS_SCIM_URL, BearerAuth, Wiretap, make_http
from scimcore.wire import Exchange

GOLDEN_DIR = Path(__file__).resolve().parent
BASE_URL = IN_PROCESS_SCIM_URL
ANN, BEN, TEAM = "00uANN0000000000000a", "00uBEN0000000000000b", "00gTEAM000000000000t"
E_ANN, E_BEN, E_CAT, E_TEAM = "ann-oid", "ben-oid", "cat-oid", "team-oid"


@dataclass(frozen=True)
class Flow:
    name: str
    summary: str
    run: Callable[[], list[Exchange]]

    @property
    def path(self) -> Path:
        return GOLDEN_DIR / f"{self.name}.jsonl"


@contextmanager
def recorded(source: str, headers: tuple[tuple[str, str], ...] | None = None) -> Iterator[tuple[httpx.Client, Wiretap]]:
    """A client of a fresh embedded server whose every exchange the Wiretap keeps."""
    store = open_store(ServerConfig())
    tap = Wiretap(source)
    http = make_http(
        create_app(store=store),
        BearerAuth(issue_token(store, "golden")),
        hooks=tap.hooks,
        base_url=BASE_URL,
        headers=headers,
    )
    try:
        yield http, tap
    finally:
        http.close()
        store.close()


def okta_people() -> Directory:
    ann = User(
        ANN,
        {
            "login": "ann.lee@example.com",
            "email": "ann.lee@example.com",
            "firstName": "Ann",
            "lastName": "Lee",
            "displayName": "Ann Lee",
            "locale": "en-US",
            "title": "Engineer",
        },
    )
    ben = User(
        BEN, {"login": "ben.ng@example.com", "email": "ben.ng@example.com", "firstName": "Ben", "lastName": "Ng"}
    )
    team = Group(TEAM, "Team Blue", members=[ANN, BEN])
    return Directory(users={ANN: ann, BEN: ben}, groups={TEAM: team})


def okta(actions: Callable[[OktaEmulator], object]) -> list[Exchange]:
    with recorded(OKTA_OIN.source) as (http, tap):
        actions(OktaEmulator(okta_people(), http, OKTA_OIN, clock=FakeClock()))
        return list(tap.exchanges)


def entra_people() -> EntraDirectory:
    ann = User(
        E_ANN,
        {
            "login": "ann@contoso.test",
            "email": "ann@contoso.test",
            "firstName": "Ann",
            "lastName": "Lee",
            "displayName": "Ann Lee",
            "title": "Engineer",
            "department": "R&D",
            "managerId": E_BEN,
        },
    )
    ben = User(E_BEN, {"login": "ben@contoso.test", "firstName": "Ben", "lastName": "Ng"})
    cat = User(E_CAT, {"login": "cat@contoso.test", "firstName": "Cat", "lastName": "Park"})
    team = Group(E_TEAM, "Team Green", members=[E_ANN, E_BEN])
    core = Directory(
        users={u.id: u for u in (ann, ben, cat)},
        groups={E_TEAM: team},
        app=AppAssignments(users=[E_CAT], groups=[E_TEAM]),
    )
    return EntraDirectory(core)


def entra(actions: Callable[[EntraEmulator], object]) -> list[Exchange]:
    with recorded(ENTRA_DEFAULT.source, ENTRA_DEFAULT.headers) as (http, tap):
        actions(EntraEmulator(entra_people(), http, ENTRA_DEFAULT, clock=FakeClock()))
        return list(tap.exchanges)


def pingfederate_people() -> Directory:
    users = {
        uid: User(uid, {"login": f"{uid}@ping.test", "email": f"{uid}@ping.test", "firstName": first, "lastName": last,
                        "displayName": f"{first} {last}"})
        for uid, first, last in (("ann", "Ann", "Lee"), ("ben", "Ben", "Ng"))
    }  # fmt: skip
    team = Group("team", "Team Red", members=["ann", "ben"])
    return Directory(
        users=users, groups={"team": team}, app=AppAssignments(users=["ann", "ben"], push_groups={"team": True})
    )


def pingfederate(profile: str, actions: Callable[[AdminConsole], object]) -> list[Exchange]:
    chosen = PINGFEDERATE_SPEC.profile(profile)
    with recorded(chosen.source, chosen.headers) as (http, tap):
        actions(PINGFEDERATE_SPEC.console(ConsoleSetup(pingfederate_people(), http, chosen, FakeClock())))
        return list(tap.exchanges)


def _pingfederate_changes(console: AdminConsole) -> None:
    console.sync()
    console.update_user("ann", {"lastName": "Lee-Smith"})
    console.deactivate("ben")
    console.rename_group("team", "Team Crimson")
    console.sync()
    console.reactivate("ben")
    console.sync()


def _okta_deactivate(emulator: OktaEmulator) -> None:
    emulator.assign_user(ANN)
    emulator.deactivate_user(ANN)


def _okta_group_push(emulator: OktaEmulator) -> None:
    emulator.assign_user(ANN)
    emulator.assign_user(BEN)
    emulator.push_group(TEAM)


def _entra_incremental(emulator: EntraEmulator) -> None:
    emulator.start()
    emulator.update_user(E_ANN, {"jobTitle": "Lead", "surname": "Lee-Smith"})
    emulator.run_cycle()


def _entra_soft_delete(emulator: EntraEmulator) -> None:
    emulator.start()
    emulator.soft_delete_user(E_CAT)
    emulator.run_cycle()


FLOWS = (
    Flow(
        "okta-create-user",
        "Okta (OIN): assign a user: lookup by userName, then POST",
        lambda: okta(lambda e: e.assign_user(ANN)),
    ),
    Flow(
        "okta-deactivate-user",
        "Okta (OIN): assign, then deactivate (path-less PATCH active false)",
        lambda: okta(_okta_deactivate),
    ),
    Flow(
        "okta-group-push",
        "Okta (OIN): assign two users, push their group with its members",
        lambda: okta(_okta_group_push),
    ),
    Flow(
        "entra-initial-cycle",
        "Entra: initial cycle of a small directory (users, manager, group, members)",
        lambda: entra(lambda e: e.start()),
    ),
    Flow(
        "entra-incremental-update",
        "Entra: initial cycle, then an incremental cycle PATCHing a changed user",
        lambda: entra(_entra_incremental),
    ),
    Flow(
        "entra-soft-delete",
        "Entra: initial cycle, then a soft-deleted user disabled in the next cycle",
        lambda: entra(_entra_soft_delete),
    ),
    Flow(
        "pingfederate-first-cycle",
        "PingFederate: the first cycle (lookup and POST per user, /Groups read by pages, POST of the group)",
        lambda: pingfederate("patch", lambda console: console.sync()),
    ),
    Flow(
        "pingfederate-changes",
        "PingFederate: a changed user PUT, a disabled user PUT with active false and its group PATCH, then enabled",
        lambda: pingfederate("patch", _pingfederate_changes),
    ),
    Flow(
        "pingfederate-put-changes",
        "PingFederate without PATCH: the same changes, the group replaced with PUT",
        lambda: pingfederate("put", _pingfederate_changes),
    ),
)
