"""Entra's membership stage through the worker pool (docs/entra-idp.md §3.5), against the reference server in
process: every seeded interleaving, and real threads, leave exactly the directory's members."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store
from emulators.core.clock import FakeClock
from emulators.core.directory import AppAssignments, Directory, Group, User
from emulators.entra import ENTRA_DEFAULT, EntraDirectory, EntraEmulator, EntraSettings
from scimcore.client import IN_PROCESS_SCIM_URL, BearerAuth, make_http

USERS, GROUPS = 12, 3


def people() -> EntraDirectory:
    users = {
        f"u{n:02d}": User(f"u{n:02d}", {"login": f"u{n:02d}@contoso.test", "firstName": "U", "lastName": f"{n}"})
        for n in range(USERS)
    }
    groups = {
        f"g{n}": Group(f"g{n}", f"Group {n}", members=sorted(users)[n::2] + sorted(users)[:n]) for n in range(GROUPS)
    }
    return EntraDirectory(
        Directory(users=users, groups=groups, app=AppAssignments(users=list(users), groups=list(groups)))
    )


def members_on_server(http: httpx.Client) -> dict[str, set[str]]:
    names = {user["id"]: user["userName"] for user in http.get("/Users", params={"count": 100}).json()["Resources"]}
    groups = http.get("/Groups", params={"count": 100}).json()["Resources"]
    return {group["displayName"]: {names[m["value"]] for m in group.get("members") or []} for group in groups}


def expected(directory: EntraDirectory) -> dict[str, set[str]]:
    core = directory.core
    return {group.name: {core.users[uid].login for uid in group.members} for group in core.groups.values()}


def run(settings_: EntraSettings) -> tuple[EntraDirectory, httpx.Client, list[str]]:
    """Two cycles: the initial one, then one after members left and joined every group."""
    store = open_store(ServerConfig())
    app = create_app(store=store)
    sent: list[str] = []

    def note(request: httpx.Request) -> None:
        if request.method == "PATCH" and "/Groups/" in request.url.path:
            sent.append(json.dumps(json.loads(request.content)["Operations"]))

    http = make_http(app, BearerAuth(issue_token(store, "t")), base_url=IN_PROCESS_SCIM_URL, hooks={"request": [note]})
    directory = people()
    entra = EntraEmulator(directory, http, ENTRA_DEFAULT, settings=settings_, clock=FakeClock())
    entra.start()
    for number, group in enumerate(directory.core.groups.values()):
        for uid in list(group.members)[: 3 + number]:
            entra.remove_group_member(group.id, uid)
        for uid in sorted(set(directory.core.users) - set(group.members))[:2]:
            entra.add_group_member(group.id, uid)
    report = entra.run_cycle()
    assert not [entry for entry in entra.log.entries if entry.outcome.name == "FAILURE"], report
    return directory, http, sent


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_every_seeded_interleaving_leaves_the_directorys_members(seed: int) -> None:
    directory, http, _ = run(EntraSettings(concurrency_seed=seed))
    assert members_on_server(http) == expected(directory)
    http.close()


def test_seeds_change_the_order_of_the_patches_but_not_what_is_sent() -> None:
    _, first, listed = run(EntraSettings())
    _, second, seeded = run(EntraSettings(concurrency_seed=11))
    first.close()
    second.close()
    assert listed != seeded  # a seeded interleaving, not the listed order
    # the same PATCHes, only in another order (server ids differ per run, so compare the op shapes)
    shape = [json.dumps([op["op"] for op in json.loads(ops)]) for ops in listed]
    assert sorted(shape) == sorted(json.dumps([op["op"] for op in json.loads(ops)]) for ops in seeded)


def test_real_threads_in_process_leave_the_directorys_members() -> None:
    """The in-process transport and the reference server's store are safe to call from several threads."""
    directory, http, sent = run(EntraSettings(concurrency="threads"))
    assert members_on_server(http) == expected(directory)
    http.close()
    assert len(sent) > ENTRA_DEFAULT.membership_workers


def test_the_log_and_what_was_sent_follow_the_listed_order_whatever_the_interleaving() -> None:
    """Bookkeeping happens after each batch, in input order, so the log does not depend on the seed."""
    logs: list[Any] = []
    for chosen in (EntraSettings(), EntraSettings(concurrency_seed=5), EntraSettings(concurrency="threads")):
        store = open_store(ServerConfig())
        http = make_http(create_app(store=store), BearerAuth(issue_token(store, "t")), base_url=IN_PROCESS_SCIM_URL)
        with http:
            entra = EntraEmulator(people(), http, ENTRA_DEFAULT, settings=chosen, clock=FakeClock())
            entra.start()
            logs.append([(e.source_id, e.action, e.detail) for e in entra.log.entries])
            assert entra.state.members_sent == {gid: set(g.members) for gid, g in entra.directory.core.groups.items()}
    assert logs[0] == logs[1] == logs[2]
