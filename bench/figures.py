"""The six figures of the bench, each a function of the plan that returns plain JSON data.

Every comparison is a ratio of two things measured side by side in the same run, repeated, and
reduced to a median: the machine is shared, so absolute numbers drift while ratios hold.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench import floor, peer, scale
from bench import groups as large
from bench.common import aup_serve, expect, median, peak_rss_mb
from bench.plan import Plan
from bench.population import fill_group, new_store
from bench.sync import SyncRun, entra_sync, in_process, rfc_entra_profile
from emulators.registry import idps
from scimcore import urns
from scimcore.target import Bearer, Target

Echo = Callable[[str], None]


def floor_figure(plan: Plan, echo: Echo) -> dict[str, Any]:
    """Figure 1: no-op requests per second, in process and over loopback to waitress."""
    with floor.in_process_client() as client:
        in_process = median([floor.rate(client, plan.floor_requests) for _ in range(3)])
    with floor.loopback_server() as url, floor.loopback_client(url) as client:
        loopback = median([floor.rate(client, plan.floor_requests) for _ in range(3)])
    echo(f"floor: {in_process:.0f} req/s in process, {loopback:.0f} req/s over loopback")
    return {"in_process_rps": in_process, "loopback_rps": loopback, "requests": plan.floor_requests}


def sync_figure(plan: Plan, workdir: Path, echo: Echo) -> list[dict[str, Any]]:
    """Figure 2: each sync repeated, each repeat right after an in-process floor measurement."""
    rows = []
    for users, group_count in plan.sync:
        for idp in idps().names():  # every registered IdP (the built-in ones: Okta, then Entra)
            runs: list[SyncRun] = []
            floors: list[float] = []
            for _ in range(plan.sync_repeats):
                with floor.in_process_client() as client:
                    floors.append(floor.rate(client, plan.floor_requests))
                runs.append(in_process(idp, users, group_count, workdir))
            ratios = [run.ops_per_s / rps for run, rps in zip(runs, floors, strict=True)]
            row = {
                "idp": idp,
                "users": users,
                "groups": group_count,
                "repeats": plan.sync_repeats,
                "requests": runs[0].requests,
                "wall_s": median([run.wall_s for run in runs]),
                "ops_per_s": median([run.ops_per_s for run in runs]),
                "floor_rps": median(floors),
                "floor_ratio": median(ratios),
                "failures": max(run.failures for run in runs),
            }
            echo(
                f"sync {idp} {users}/{group_count}: {row['requests']} requests in {row['wall_s']:.1f} s, "
                f"{row['ops_per_s']:.0f} ops/s = {row['floor_ratio']:.2f} x floor"
            )
            rows.append(row)
    return rows


def _ratio(table: dict[int, float]) -> float:
    return table[max(table)] / table[min(table)]


def in_process_figures(plan: Plan, workdir: Path, echo: Echo) -> tuple[dict[str, Any], dict[str, Any], Path, Any]:
    """Figures 3 and 4 on filled stores; returns them, the largest store's path and its groups for later use."""
    with scale.directories(workdir, list(plan.scale_sizes)) as made:
        echo("scale: filled " + ", ".join(f"{size} users in {d.fill_s:.1f} s" for size, d in made.items()))
        curve = scale.curve(made, plan.scale_rounds, plan.scale_per_round)
        scale_data = {
            "sizes": list(plan.scale_sizes),
            "median_ms": {op: {str(size): ms for size, ms in by_size.items()} for op, by_size in curve.items()},
            "ratio": {op: _ratio(by_size) for op, by_size in curve.items()},
        }
        for op, by_size in curve.items():
            echo(f"scale {op}: " + ", ".join(f"{size}: {ms:.2f} ms" for size, ms in by_size.items()))
        host = made[max(made)]
        first_spare = max(plan.group_sizes)
        host_groups = {
            size: large.LargeGroup(
                fill_group(host.store, f"large-{size}", host.ids[:size]), size, iter(host.ids[first_spare:])
            )
            for size in plan.group_sizes
        }
        measured = large.measure(
            [large.Measured("aup", host.client, host_groups)], plan.group_rounds, plan.group_per_round
        )["aup"]
        group_data = _group_data(plan, measured)
        for size, ops in measured.items():
            echo(f"large group {size}: " + ", ".join(f"{op} {ms:.2f} ms" for op, ms in ops.items()))
        return scale_data, group_data, host.path, (host.token, host.ids, host_groups)


def _group_data(plan: Plan, measured: dict[int, dict[str, float]]) -> dict[str, Any]:
    ops = large.OPERATIONS
    return {
        "sizes": list(plan.group_sizes),
        "median_ms": {str(size): by_op for size, by_op in measured.items()},
        "ratio": {op: measured[max(measured)][op] / measured[min(measured)][op] for op in ops},
    }


def exercise(client: httpx.Client, ids: list[str], group: large.LargeGroup, requests: int) -> None:
    """A mixed IdP workload for the RSS figure: lookups, reads, pages, PATCHes and full reads of the largest group."""
    rng = random.Random(5)  # noqa: S311 - which user to touch
    for index in range(requests):
        number = rng.randrange(len(ids))
        kind = index % 5
        if kind == 0:
            expect(client.get("/Users", params={"filter": f'userName eq "user{number:07d}@example.com"'}), 200)
        elif kind == 1:
            expect(client.get(f"/Users/{ids[number]}"), 200)
        elif kind == 2:
            body = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": True}]}
            expect(client.patch(f"/Users/{ids[number]}", json=body), 200)
        elif kind == 3:
            expect(client.get("/Users", params={"startIndex": 1 + number, "count": 100}), 200)
        else:
            expect(client.patch(f"/Groups/{group.gid}", json=large.add_member_body(next(group.spare))), 200, 204)
    for _ in range(3):  # Okta AIW reads the whole group before a PUT (docs/okta-idp.md §7)
        expect(client.get(f"/Groups/{group.gid}"), 200)


def served_figures(
    plan: Plan, db: Path, host: Any, with_peer: bool, echo: Echo
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Figure 5 (peak RSS of `aup serve` on the largest store) and figure 6's large groups against the peer."""
    token, ids, host_groups = host
    peer_data: dict[str, Any] = {}
    with aup_serve(db) as server, Target(server.match.group("url"), Bearer(token), timeout=600.0).http() as client:
        if with_peer:
            peer_data = _peer_groups(plan, client, host_groups, echo)
        exercise(client, ids, host_groups[max(host_groups)], plan.rss_requests)
        rss = peak_rss_mb(server.pid)
    echo(f"rss: aup serve peaked at {rss:.1f} MB with {len(ids)} users")
    return {
        "users": len(ids),
        "group_sizes": list(host_groups),
        "requests": plan.rss_requests,
        "peak_rss_mb": rss,
    }, peer_data


def _peer_groups(
    plan: Plan, ours: httpx.Client, host_groups: dict[int, large.LargeGroup], echo: Echo
) -> dict[str, Any]:
    spares = plan.peer_group_rounds * plan.group_per_round + 10
    with peer.peer_server() as (server, url, token), peer.client(url, token) as theirs:
        peer_ids = peer.bulk_users(theirs, max(plan.group_sizes) + spares)
        peer_groups = {
            size: large.LargeGroup(
                peer.group_with(theirs, f"large-{size}", peer_ids[:size]), size, iter(peer_ids[max(plan.group_sizes) :])
            )
            for size in plan.group_sizes
        }
        echo(f"peer: filled {len(peer_ids)} users and {len(peer_groups)} groups")
        targets = [large.Measured("aup", ours, host_groups), large.Measured(peer.PEER, theirs, peer_groups)]
        measured = large.measure(targets, plan.peer_group_rounds, max(1, plan.group_per_round // 10))
        rss = peak_rss_mb(server.pid)
    for size in plan.group_sizes:
        echo(
            f"peer large group {size}: "
            + ", ".join(
                f"{op} aup {measured['aup'][size][op]:.2f} / {measured[peer.PEER][size][op]:.2f} ms"
                for op in large.OPERATIONS
            )
        )
    return {
        "large_groups_ms": {
            name: {str(size): ops for size, ops in by_size.items()} for name, by_size in measured.items()
        },
        "large_groups_ratio": {
            str(size): {op: measured[peer.PEER][size][op] / measured["aup"][size][op] for op in large.OPERATIONS}
            for size in plan.group_sizes
        },
        "peak_rss_mb": rss,
        "users": len(peer_ids),
    }


def peer_cycle_figure(plan: Plan, workdir: Path, echo: Echo) -> dict[str, Any]:
    """Figure 6: the same Entra initial cycle against `aup serve` and the peer, fresh servers per repeat."""
    users, group_count = plan.peer_sync
    profile = rfc_entra_profile()  # the peer refuses Entra's default PascalCase ops (scim2-server issue #13)
    runs: dict[str, list[SyncRun]] = {"aup": [], peer.PEER: []}
    for _ in range(plan.peer_repeats):
        with tempfile.TemporaryDirectory(dir=workdir) as tmp:
            store, token = new_store(Path(tmp) / "cycle.db")
            store.close()
            with aup_serve(Path(tmp) / "cycle.db") as server:
                url = server.match.group("url")
                runs["aup"].append(entra_sync(users, group_count, httpx.HTTPTransport(), url, token, profile))
        with peer.peer_server() as (_, url, token):
            runs[peer.PEER].append(entra_sync(users, group_count, httpx.HTTPTransport(), url, token, profile))
    data: dict[str, Any] = {
        "users": users,
        "groups": group_count,
        "repeats": plan.peer_repeats,
        "dialect": "aadOptscim062020",
    }
    for name, done in runs.items():
        data[name] = {
            "requests": done[0].requests,
            "wall_s": median([run.wall_s for run in done]),
            "ms_per_request": median([1000 * run.wall_s / run.requests for run in done]),
            "failures": max(run.failures for run in done),
        }
    data["ratio"] = data[peer.PEER]["ms_per_request"] / data["aup"]["ms_per_request"]
    echo(
        f"peer entra cycle {users}/{group_count}: aup {data['aup']['ms_per_request']:.2f} ms/request, "
        f"{peer.PEER} {data[peer.PEER]['ms_per_request']:.2f} ms/request (ratio {data['ratio']:.2f})"
    )
    return data
