"""Figure 4, large groups: a one-member PATCH and a GET with and without ``excludedAttributes=members``.

Entra adds one member per PATCH and always reads groups with ``excludedAttributes=members``
(docs/entra-idp.md §3.4), so both must cost the same whatever the group's size. The same code
measures any target (the embedded server, ``aup serve``, a peer): with several targets, each round
visits them in turn, so the ratios between them are measured side by side.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from bench.common import expect, median
from scimcore import urns

OPERATIONS = ("PATCH add one member", "GET excludedAttributes=members", "GET with members")


@dataclass
class LargeGroup:
    """A group of ``size`` members on one target, and users of that target that are not members yet."""

    gid: str
    size: int
    spare: Iterator[str]


@dataclass(frozen=True)
class Measured:
    """One server measured side by side with others: its name, a client of it, and its large groups."""

    name: str
    client: httpx.Client
    groups: dict[int, LargeGroup]


def add_member_body(member_id: str) -> dict[str, object]:
    """Entra's membership PATCH in the RFC shape (docs/entra-idp.md §4 'Add Members')."""
    return {
        "schemas": [urns.PATCH_OP],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": member_id}]}],
    }


def _timed(client: httpx.Client, name: str, group: LargeGroup) -> float:
    start = time.perf_counter()
    if name == OPERATIONS[0]:
        expect(client.patch(f"/Groups/{group.gid}", json=add_member_body(next(group.spare))), 200, 204)
    elif name == OPERATIONS[1]:
        expect(client.get(f"/Groups/{group.gid}", params={"excludedAttributes": "members"}), 200)
    else:
        members = expect(client.get(f"/Groups/{group.gid}"), 200).json().get("members") or []
        if len(members) < group.size:
            raise RuntimeError(f"group {group.gid} returned {len(members)} members, expected at least {group.size}")
    return time.perf_counter() - start


def measure(
    targets: list[Measured], rounds: int, per_round: int, full_per_round: int = 1
) -> dict[str, dict[int, dict[str, float]]]:
    """Median milliseconds per request: target -> group size -> operation."""
    taken: dict[tuple[str, int, str], list[float]] = {}
    sizes = sorted(targets[0].groups)
    for _ in range(rounds):
        for size in sizes:
            for target in targets:
                group = target.groups[size]
                for name in OPERATIONS:
                    count = full_per_round if name == OPERATIONS[2] else per_round
                    bucket = taken.setdefault((target.name, size, name), [])
                    bucket.extend(_timed(target.client, name, group) for _ in range(count))
    return {
        target.name: {
            size: {name: median(taken[(target.name, size, name)]) * 1000 for name in OPERATIONS} for size in sizes
        }
        for target in targets
    }
