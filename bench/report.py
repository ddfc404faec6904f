"""The targets of issue #10 checked against a bench result, and the result as markdown tables."""

from __future__ import annotations

from typing import Any

from bench import cursor, isolation, load, memory, shared_store

FLOOR_SHARE = 0.8  # sync throughput at the largest size, as a share of the in-process floor
SCALE_RATIO = 1.2  # latency at the largest size over the smallest
GROUP_MS = 5.0  # one-member PATCH and excluded-members GET on the largest group
WAN_S = 10.0  # issue #20: a full conformance run 50 ms from the server
RSS_MB = 120.0
ISOLATION_MS = 100.0  # issue #17: one worst-case PATCH delays another tenant's one-line PATCH by less
MEMORY_MB = 300.0  # issue #17: peak RSS under eight concurrent worst-case reads, 100k users, 50k members
STORES_SCALING = 1.5  # issue #23: two PostgreSQL server processes over one, write throughput
CURSOR_FLAT = 2.0  # issue #26: a cursor page at the end of the walk takes at most this many times the first
LOAD_COST = 1.5  # issue #25: aup load's CPU per request over Locust's plain FastHttpUser sending the same kinds


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per target: what was asked, what was measured, and whether it holds."""
    rows: list[dict[str, Any]] = []

    def add(name: str, measured: float, met: bool, unit: str = "") -> None:
        rows.append({"target": name, "measured": round(measured, 3), "unit": unit, "met": met})

    syncs = result.get("sync") or []
    if syncs:
        top = max(row["users"] for row in syncs)
        for row in (r for r in syncs if r["users"] == top):
            ratio = row["floor_ratio"]
            add(
                f"{row['idp']} sync at {top} users >= {FLOOR_SHARE:.0%} of the in-process floor",
                ratio,
                ratio >= FLOOR_SHARE,
                "x floor",
            )
    scale = result.get("scale")
    if scale:
        span = f"{max(scale['sizes'])}/{min(scale['sizes'])}"
        for op, ratio in scale["ratio"].items():
            add(f"{op} latency {span} users <= {SCALE_RATIO}", ratio, ratio <= SCALE_RATIO, "ratio")
    net = result.get("wan")
    if net:
        parallel = [r for r in net["aup"] if r["jobs"] > 1]
        for r in parallel:
            add(
                f"full conformance run at {net['rtt_ms']} ms RTT with --jobs {r['jobs']} <= {WAN_S:g} s, "
                "same verdicts as sequential",
                r["seconds"],
                r["seconds"] <= WAN_S and r["same_verdicts_as_sequential"],
                "s",
            )
    paging = result.get("cursor")
    if paging:
        ratio = paging["cursor"]["last_over_first"]
        add(
            f"cursor paging stays flat over {paging['users']} users: last page <= {CURSOR_FLAT:g}x the first",
            ratio,
            ratio <= CURSOR_FLAT,
            "x first",
        )
    if stores := result.get("stores"):
        for key, load in (("two_over_one", "one tenant"), ("two_over_one_tenants", f"{stores['tenants']} tenants")):
            add(
                f"two aup serve processes on one PostgreSQL >= {STORES_SCALING:g}x the write throughput of one "
                f"({load})",
                stores[key],
                stores[key] >= STORES_SCALING,
                "x",
            )
        if worst := stores.get("isolation", {}).get("postgresql"):
            add(
                f"on PostgreSQL, one worst-case PATCH ({worst['operations']} ops, {worst['emails']} emails) delays "
                f"another tenant's one-line PATCH < {ISOLATION_MS:g} ms",
                worst["delay_ms"],
                worst["delay_ms"] < ISOLATION_MS,
                "ms",
            )
    if loaded := result.get("load"):
        add(
            f"aup load's CPU per request <= {LOAD_COST:g}x Locust's plain FastHttpUser sending the same request kinds",
            loaded["cost_over_plain"],
            loaded["cost_over_plain"] <= LOAD_COST,
            "x",
        )
    groups = result.get("large_groups")
    if groups:
        top = str(max(groups["sizes"]))
        for op in ("PATCH add one member", "GET excludedAttributes=members"):
            ms = groups["median_ms"][top][op]
            add(f"{op} on a {top}-member group < {GROUP_MS:g} ms", ms, ms < GROUP_MS, "ms")
            ratio = groups["ratio"][op]
            add(f"{op} flat in group size (largest/smallest <= {SCALE_RATIO})", ratio, ratio <= SCALE_RATIO, "ratio")
    rss = result.get("rss")
    if rss:
        add(
            f"aup serve peak RSS at {rss['users']} users <= {RSS_MB:g} MB",
            rss["peak_rss_mb"],
            rss["peak_rss_mb"] <= RSS_MB,
            "MB",
        )
    if iso := result.get("isolation"):
        add(
            f"one worst-case PATCH ({iso['operations']} ops, {iso['emails']} emails) delays another tenant's "
            f"one-line PATCH < {ISOLATION_MS:g} ms",
            iso["delay_ms"],
            iso["delay_ms"] < ISOLATION_MS,
            "ms",
        )
    if mem := result.get("memory"):
        add(
            f"aup serve peak RSS under {mem['clients']} concurrent worst-case reads ({mem['users']} users, "
            f"{mem['groups']} groups of {mem['members_per_group']} members) <= {MEMORY_MB:g} MB",
            mem["peak_rss_mb"],
            mem["peak_rss_mb"] <= MEMORY_MB,
            "MB",
        )
    peer = result.get("peer") or {}
    if peer.get("entra_cycle"):
        ratio = peer["entra_cycle"]["ratio"]
        add("Entra cycle per-request latency no worse than scim2-server", ratio, ratio >= 1.0, "peer/aup")
    for size, ops in (peer.get("large_groups_ratio") or {}).items():
        for op, ratio in ops.items():
            add(f"{op} ({size} members) no worse than scim2-server", ratio, ratio >= 1.0, "peer/aup")
    return rows


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return [*lines, ""]


def markdown(result: dict[str, Any]) -> str:
    """Every figure of a result as markdown tables, then the targets."""
    out = [f"Bench `{result['mode']}` run of {result['date']}: `{result['command']}`", ""]
    m = result["machine"]
    out += [f"Machine: {m['cpus']} CPUs, {m['memory_mb']} MB, Python {m['python']}, load {m['load_average']}", ""]
    if floor := result.get("floor"):
        out += _table(
            ["floor", "req/s"],
            [
                ["in process (WSGITransport)", f"{floor['in_process_rps']:.0f}"],
                ["loopback (waitress)", f"{floor['loopback_rps']:.0f}"],
            ],
        )
    if syncs := result.get("sync"):
        out += _table(
            ["sync (in process)", "users/groups", "requests", "wall s", "ops/s", "x floor", "failures"],
            [
                [
                    r["idp"],
                    f"{r['users']}/{r['groups']}",
                    str(r["requests"]),
                    f"{r['wall_s']:.1f}",
                    f"{r['ops_per_s']:.0f}",
                    f"{r['floor_ratio']:.2f}",
                    str(r["failures"]),
                ]
                for r in syncs
            ],
        )
    if scale := result.get("scale"):
        sizes = [str(s) for s in scale["sizes"]]
        out += _table(
            ["median ms", *(f"{s} users" for s in sizes), "ratio"],
            [
                [op, *(f"{by[s]:.2f}" for s in sizes), f"{scale['ratio'][op]:.2f}"]
                for op, by in scale["median_ms"].items()
            ],
        )
    if groups := result.get("large_groups"):
        sizes = [str(s) for s in groups["sizes"]]
        ops = list(groups["ratio"])
        out += _table(
            ["median ms", *(f"{s} members" for s in sizes), "ratio"],
            [[op, *(f"{groups['median_ms'][s][op]:.2f}" for s in sizes), f"{groups['ratio'][op]:.2f}"] for op in ops],
        )
    if rss := result.get("rss"):
        out += [f"Peak RSS of `aup serve` with {rss['users']} users: {rss['peak_rss_mb']:.1f} MB", ""]
    if iso := result.get("isolation"):
        out += [isolation.describe(iso), ""]
    if mem := result.get("memory"):
        out += [memory.describe(mem), ""]
    out += _peer_tables(result.get("peer") or {})
    if net := result.get("wan"):
        rows = [
            [f"aup conformance --jobs {r['jobs']}", str(r["checks"]), str(r["requests"]), f"{r['seconds']:.1f}"]
            for r in net["aup"]
        ]
        peer_run = net["scim2_tester"]
        if peer_run.get("status") == "measured":
            rows.append(
                ["scim2-tester", str(peer_run["checks"]), str(peer_run["requests"]), f"{peer_run['seconds']:.1f}"]
            )
        out += _table([f"WAN, {net['rtt_ms']} ms round trip", "checks", "requests", "wall s"], rows)
    if paging := result.get("cursor"):
        out += [cursor.describe(paging), ""]
    if stores := result.get("stores"):
        out += [shared_store.describe(stores), ""]
    if loaded := result.get("load"):
        out += [load.describe(loaded), ""]
    if target_rows := result.get("targets"):
        out += _table(
            ["target", "measured", "met"],
            [[r["target"], f"{r['measured']} {r['unit']}", "yes" if r["met"] else "NO"] for r in target_rows],
        )
    return "\n".join(out)


def _peer_tables(peer: dict[str, Any]) -> list[str]:
    if peer.get("status") != "measured":
        return [f"Peer {peer.get('name', 'scim2-server')}: {peer.get('status', 'not run')}", ""]
    out: list[str] = []
    if cycle := peer.get("entra_cycle"):
        rows = [
            [
                name,
                str(cycle[name]["requests"]),
                f"{cycle[name]['wall_s']:.1f}",
                f"{cycle[name]['ms_per_request']:.2f}",
                str(cycle[name]["failures"]),
            ]
            for name in ("aup", peer["name"])
        ]
        out += [
            f"Entra initial cycle, {cycle['users']} users, {cycle['groups']} groups, loopback, {cycle['dialect']}:",
            "",
        ]
        out += _table(["server", "requests", "wall s", "ms/request", "failures"], rows)
    if groups := peer.get("large_groups_ms"):
        rows = []
        for size, ops in groups["aup"].items():
            for op, ms in ops.items():
                theirs = groups[peer["name"]][size][op]
                rows.append([f"{op}, {size} members", f"{ms:.2f}", f"{theirs:.2f}", f"{theirs / ms:.1f}"])
        out += _table(["over loopback", "aup ms", f"{peer['name']} ms", "ratio"], rows)
    return out
