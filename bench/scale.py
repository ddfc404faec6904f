"""Figure 3, the scale curve: per-request latency of the lookups and writes IdPs make, at growing directory sizes.

Every size has its own filled SQLite file and in-process app; the sizes are measured in interleaved
rounds (each round visits every size), so load from other processes on the machine falls on all
sizes alike. The figure that matters is the ratio largest/smallest: indexed lookups keep it near 1.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from aup.embedded import Embedded, embedded_server
from aup_server.store import Store
from bench.common import expect, median
from bench.population import fill_users
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.target import Bearer, Target

OPERATIONS = ("filter userName eq", "GET by id", "PATCH active")


@dataclass
class Directory:
    """A filled embedded server with its in-process client; ``ids[i]`` is user number ``i``."""

    path: Path
    server: Embedded
    ids: list[str]
    fill_s: float
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = Target(IN_PROCESS_SCIM_URL, Bearer(self.token), app=self.server.app).http()

    @property
    def store(self) -> Store:
        return self.server.store

    @property
    def token(self) -> str:
        return self.server.token

    def close(self) -> None:
        self.client.close()


def filled(path: Path, server: Embedded, users: int) -> Directory:
    """Fill ``server``'s store (a SQLite file at ``path``) with ``users`` users, timed."""
    start = time.perf_counter()
    ids = fill_users(server.store, users)
    return Directory(path, server, ids, time.perf_counter() - start)


@contextmanager
def directories(workdir: Path, sizes: list[int]) -> Iterator[dict[int, Directory]]:
    made: dict[int, Directory] = {}
    with ExitStack() as stack:
        for size in sizes:
            path = workdir / f"users-{size}.db"
            server = stack.enter_context(embedded_server(db=str(path), name="bench"))
            made[size] = filled(path, server, users=size)
            stack.callback(made[size].close)
        yield made


def _operation(name: str, directory: Directory, rng: random.Random) -> Callable[[], Any]:
    """One request of kind ``name`` on a random existing user."""
    number = rng.randrange(len(directory.ids))
    client, rid = directory.client, directory.ids[number]
    if name == "filter userName eq":
        # Okta looks users up by userName in any case (docs/okta-idp.md §4.1).
        flt = f'userName eq "USER{number:07d}@example.com"'
        return lambda: expect(client.get("/Users", params={"filter": flt}), 200)
    if name == "GET by id":
        return lambda: expect(client.get(f"/Users/{rid}"), 200)
    body = {
        "schemas": [urns.PATCH_OP],
        "Operations": [{"op": "replace", "path": "active", "value": rng.random() < 0.5}],
    }
    return lambda: expect(client.patch(f"/Users/{rid}", json=body), 200)


def curve(made: dict[int, Directory], rounds: int, per_round: int, seed: int = 11) -> dict[str, dict[int, float]]:
    """Median milliseconds per request, by operation and size, over ``rounds`` interleaved rounds."""
    rng = random.Random(seed)  # noqa: S311 - which user to ask for, not a secret
    taken: dict[tuple[str, int], list[float]] = {}
    for _ in range(rounds):
        for size, directory in made.items():
            for name in OPERATIONS:
                bucket = taken.setdefault((name, size), [])
                for _ in range(per_round):
                    call = _operation(name, directory, rng)
                    start = time.perf_counter()
                    call()
                    bucket.append(time.perf_counter() - start)
    return {name: {size: median(taken[(name, size)]) * 1000 for size in made} for name in OPERATIONS}
