"""Test data for the figures: SQLite stores filled through the store API, and seeded IdP directories.

Filling through the store (one transaction per chunk) is the fast path for 100k users; the requests
that are measured always go through HTTP.
"""

from __future__ import annotations

import random
from pathlib import Path

from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import Store, open_store
from emulators.core.directory import Directory, Group
from emulators.core.generator import generate_directory, okta_id

CHUNK = 5_000


def user_doc(number: int) -> dict[str, object]:
    """A realistic small user: the attributes IdPs send and filter on."""
    login = f"user{number:07d}@example.com"
    return {
        "userName": login,
        "externalId": f"00u{number:017d}",
        "name": {"givenName": "Given", "familyName": f"Family{number}"},
        "displayName": f"Given Family{number}",
        "emails": [{"value": login, "type": "work", "primary": True}],
        "active": True,
    }


def fill_users(store: Store, count: int, start: int = 0) -> list[str]:
    """Insert ``count`` users numbered from ``start``; their SCIM ids in order."""
    ids: list[str] = []
    for first in range(start, start + count, CHUNK):
        with store.write("default") as session:
            ids.extend(
                session.insert("User", user_doc(n), password=None).id
                for n in range(first, min(first + CHUNK, start + count))
            )
    return ids


def fill_group(store: Store, name: str, member_ids: list[str]) -> str:
    """A group holding ``member_ids`` (membership rows added in chunks); its SCIM id."""
    with store.write("default") as session:
        gid = session.insert("Group", {"displayName": name}, password=None).id
    for first in range(0, len(member_ids), CHUNK):
        with store.write("default") as session:
            session.add_members(gid, member_ids[first : first + CHUNK])
    return gid


def new_store(path: Path) -> tuple[Store, str]:
    """A file-backed store (durable, as `aup serve` runs it) and a bearer token for it."""
    store = open_store(ServerConfig(db=str(path)))
    return store, issue_token(store, "bench")


def bench_directory(users: int, groups: int, *, seed: int = 7, mean_members: int = 50) -> Directory:
    """``users`` seeded users, all assigned, and ``groups`` groups of 1 to 2*mean-1 members (mean ``mean_members``).

    The generator's own groups follow a heavy-tailed size law; the figures ask for an average of 50.
    """
    directory = generate_directory(users, 0, seed)
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    ids = list(directory.users)
    for number in range(groups):
        size = min(len(ids), rng.randint(1, 2 * mean_members - 1))
        gid = okta_id("00g", rng)
        directory.groups[gid] = Group(gid, f"Team {number:04d}", "bench group", rng.sample(ids, size))
    return directory


def for_okta(directory: Directory) -> Directory:
    """Every user assigned directly, every group pushed (docs/okta-idp.md §7)."""
    directory.app.groups = []
    directory.app.push_groups = dict.fromkeys(directory.groups, True)
    return directory


def for_entra(directory: Directory) -> Directory:
    """Every user and every group assigned to the app (docs/entra-idp.md §3 'sync assigned')."""
    directory.app.groups = list(directory.groups)
    directory.app.push_groups = {}
    return directory
