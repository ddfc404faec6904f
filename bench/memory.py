"""Figure 8, bounded memory: peak RSS of ``aup serve`` under eight concurrent worst-case reads (issue #17).

The store holds ``users`` users and ``groups`` groups of ``members`` members each, so one default page of
``GET /Groups`` would hold ``groups * members`` members without the list cap (the issue measured 210,000
members, 42 MB, in one page). Eight clients at once each read: that page, the largest page of users
(``count`` = ``filter.maxResults``), and one whole group (``GET /Groups/{id}``, the RFC 7644 §3.4.2.5 way to
read a big group's members). The figure is the server's VmHWM before and after, read from ``/proc``.

Standalone: ``python -m bench.memory [--users N --members N --groups N]``.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import click
import httpx

from bench.common import aup_serve, expect, peak_rss_mb
from bench.population import fill_group, fill_users, new_store

CLIENTS = 8


def _reads(client: httpx.Client, gid: str, max_results: int) -> dict[str, int]:
    """One client's worst-case reads; the member counts each answer carried."""
    page = expect(client.get("/Groups"), 200).json()
    users = expect(client.get("/Users", params={"count": max_results}), 200).json()
    group = expect(client.get(f"/Groups/{gid}"), 200).json()
    return {
        "list_members": sum(len(g.get("members") or []) for g in page["Resources"]),
        "list_groups": len(page["Resources"]),
        "users": len(users["Resources"]),
        "group_members": len(group.get("members") or []),
    }


def measure(workdir: Path, *, users: int, members: int, groups: int = 4, clients: int = CLIENTS) -> dict[str, Any]:
    """Peak RSS of ``aup serve`` before and after ``clients`` concurrent rounds of the worst-case reads."""
    db = workdir / f"memory-{users}-{members}.db"
    store, token = new_store(db)
    start = time.perf_counter()
    try:
        ids = fill_users(store, users)
        gids = [fill_group(store, f"memory-{n}", ids[:members]) for n in range(groups)]
    finally:
        store.close()
    fill_s = time.perf_counter() - start
    with aup_serve(db) as server:
        url = server.match.group("url")
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=600.0) as client:
            config = expect(client.get("/ServiceProviderConfig"), 200).json()
            max_results = int(config["filter"]["maxResults"])
            expect(client.get("/Users", params={"count": 1}), 200)
        idle = peak_rss_mb(server.pid)
        seen: list[dict[str, int]] = []
        errors: list[BaseException] = []

        def one() -> None:
            try:
                with httpx.Client(base_url=url, headers=headers, timeout=600.0) as own:
                    seen.append(_reads(own, gids[0], max_results))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=one) for _ in range(clients)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall_s = time.perf_counter() - began
        if errors:
            raise RuntimeError(f"a worst-case read failed: {errors[0]!r}")
        peak = peak_rss_mb(server.pid)
    return {
        "users": users,
        "groups": groups,
        "members_per_group": members,
        "clients": clients,
        "max_results": max_results,
        "fill_s": fill_s,
        "wall_s": wall_s,
        "idle_peak_rss_mb": idle,
        "peak_rss_mb": peak,
        "answers": seen[0],
    }


def describe(row: dict[str, Any]) -> str:
    answers = row["answers"]
    return (
        f"memory: {row['clients']} concurrent worst-case reads over {row['users']} users and {row['groups']} groups "
        f"of {row['members_per_group']} members (a list page carried {answers['list_members']} members in "
        f"{answers['list_groups']} groups, a whole group {answers['group_members']}) in {row['wall_s']:.1f} s: "
        f"aup serve peaked at {row['peak_rss_mb']:.1f} MB ({row['idle_peak_rss_mb']:.1f} MB before)"
    )


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--users", type=click.IntRange(1), default=100_000, show_default=True)
@click.option("--members", type=click.IntRange(1), default=50_000, show_default=True)
@click.option("--groups", type=click.IntRange(1), default=4, show_default=True)
def main(users: int, members: int, groups: int) -> None:
    """Measure figure 8 alone and print it as JSON."""
    import tempfile  # noqa: PLC0415

    if members > users:
        raise click.UsageError("--members cannot exceed --users")
    with tempfile.TemporaryDirectory(prefix="aup-memory-") as tmp:
        row = measure(Path(tmp), users=users, members=members, groups=groups)
    click.echo(describe(row), err=True)
    click.echo(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
