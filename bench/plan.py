"""How big and how often: the sizes and repeat counts of a bench run (full, --quick, or given on the command line)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Plan:
    mode: str
    sync: tuple[tuple[int, int], ...]  # (users, groups) per Okta/Entra sync size
    sync_repeats: int
    floor_requests: int
    scale_sizes: tuple[int, ...]  # the largest also hosts the large groups and is served for the RSS figure
    scale_rounds: int
    scale_per_round: int
    group_sizes: tuple[int, ...]
    group_rounds: int
    group_per_round: int
    peer_sync: tuple[int, int]  # the Entra cycle measured against aup serve and the peer
    peer_repeats: int
    peer_group_rounds: int
    rss_requests: int
    isolation_operations: int = 1000  # the worst-case PATCH of figure 7: max_patch_operations ...
    isolation_emails: int = 1_000  # ... over a user this big (max_multi_valued: the most the server stores)
    cursor_users: int = 100_000  # issue #26: users read back by cursor and by startIndex ...
    cursor_page: int = 1_000  # ... this many a page (maxResults)
    cursor_creates: int = 1_000  # users created through /Bulk and one by one
    stores_users: tuple[int, ...] = (10_000, 100_000)  # issue #23: SQLite, PostgreSQL x1 and x2 at these sizes ...
    stores_seconds: float = 10.0  # ... each load this long
    load_tenants: int = 50  # issue #25: tenants syncing at once for the p99 figure ...
    load_seconds: float = 15.0  # ... and each aup load run this long

    def check(self) -> None:
        """Sizes that cannot work are a one-line error before anything runs."""
        if not self.scale_sizes or not self.group_sizes or not self.sync:
            raise ValueError("every size list needs at least one size")
        spares = (self.group_rounds + self.peer_group_rounds) * self.group_per_round + self.rss_requests
        if max(self.group_sizes) + spares > max(self.scale_sizes):
            raise ValueError(
                f"the largest scale size ({max(self.scale_sizes)}) must exceed the largest group "
                f"({max(self.group_sizes)}) by the {spares} users the group PATCHes add; raise --scale-sizes"
            )
        if min(self.sync_repeats, self.scale_rounds, self.group_rounds, self.peer_repeats) < 1:
            raise ValueError("repeats and rounds must be at least 1")
        if min(self.isolation_operations, self.isolation_emails) < 1:
            raise ValueError("the isolation figure needs at least one operation and one email")
        if not self.stores_users or min(self.stores_users) < 1 or self.stores_seconds <= 0:
            raise ValueError("the stores figure needs user counts and a positive load duration")
        if self.load_tenants < 1 or self.load_seconds < 6:
            raise ValueError("the load figure needs tenants and runs of at least 6 s (3 s of warm-up)")
        if min(self.cursor_users, self.cursor_creates) < 1 or not 1 <= self.cursor_page <= 1000:
            raise ValueError("the cursor figure needs users and creates, and a page of 1 to 1000 (maxResults)")


FULL = Plan(
    mode="full",
    sync=((1_000, 100), (10_000, 500)),
    sync_repeats=3,
    floor_requests=2_000,
    scale_sizes=(1_000, 10_000, 100_000),
    scale_rounds=5,
    scale_per_round=60,
    group_sizes=(1_000, 20_000, 50_000),
    group_rounds=5,
    group_per_round=20,
    peer_sync=(1_000, 100),
    peer_repeats=2,
    peer_group_rounds=3,
    rss_requests=2_000,
)

QUICK = replace(
    FULL,
    mode="quick",
    sync=((1_000, 100),),
    sync_repeats=3,
    floor_requests=1_000,
    scale_sizes=(1_000, 20_000),
    scale_rounds=3,
    scale_per_round=40,
    group_sizes=(1_000, 5_000),
    group_rounds=3,
    group_per_round=10,
    peer_sync=(300, 30),
    peer_repeats=1,
    peer_group_rounds=2,
    rss_requests=500,
    cursor_users=20_000,
    cursor_creates=500,
    stores_users=(10_000,),
    stores_seconds=5.0,
    load_tenants=10,
    load_seconds=8.0,
)


def sizes(text: str) -> tuple[int, ...]:
    """``1000,10000`` -> (1000, 10000)."""
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a comma-separated list of numbers") from None
    if not values or min(values) < 1:
        raise ValueError(f"{text!r}: give positive numbers, e.g. 1000,10000")
    return values


def sync_sizes(text: str) -> tuple[tuple[int, int], ...]:
    """``1000:100,10000:500`` -> ((1000, 100), (10000, 500)): users and groups."""
    out = []
    for part in text.split(","):
        users, sep, groups = part.partition(":")
        if not sep:
            raise ValueError(f"{part!r} is not USERS:GROUPS, e.g. 1000:100")
        out.append((sizes(users)[0], sizes(groups)[0]))
    return tuple(out)
