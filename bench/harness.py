"""``python -m bench``: run the figures, print them as markdown, write them as JSON.

Figures, not pass/fail: the exit code is 0 whether or not the targets hold (the JSON says which);
only a harness failure (a server that does not start, a request that errors) exits non-zero.
"""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from bench import cursor, figures, isolation, load, memory, peer, shared_store, wan
from bench.common import machine
from bench.plan import FULL, QUICK, Plan, sizes, sync_sizes
from bench.report import markdown, targets

FIGURES = ("floor", "sync", "scale", "served", "peer", "isolation", "memory", "wan", "cursor", "stores", "load")


def run(plan: Plan, *, only: tuple[str, ...] = FIGURES, with_peer: bool, echo: figures.Echo) -> dict[str, Any]:
    """Every figure of ``plan`` in ``only``; scale and large groups always run together (they share stores)."""
    result: dict[str, Any] = {
        "bench": "aup",
        "schema": 1,
        "mode": plan.mode,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench", *map(shlex.quote, sys.argv[1:])]),
        "machine": machine(),
        "plan": {key: value for key, value in plan.__dict__.items() if key != "mode"},
    }
    peer_data: dict[str, Any] = {"name": peer.PEER, "version": peer.version()}
    if not with_peer or "peer" not in only:
        peer_data["status"] = "skipped"
    elif peer.executable() is None:
        peer_data["status"] = "not installed (run `tox -e bench`)"
        with_peer = False
    else:
        peer_data["status"] = "measured"
    with tempfile.TemporaryDirectory(prefix="aup-bench-") as tmp:
        workdir = Path(tmp)
        if "floor" in only:
            result["floor"] = figures.floor_figure(plan, echo)
        if "sync" in only:
            result["sync"] = figures.sync_figure(plan, workdir, echo)
        if "scale" in only or "served" in only:
            scale_data, group_data, db, host = figures.in_process_figures(plan, workdir, echo)
            result["scale"], result["large_groups"] = scale_data, group_data
            if "served" in only:
                result["rss"], served_peer = figures.served_figures(plan, db, host, with_peer, echo)
                peer_data.update(served_peer)
        if with_peer and "peer" in only:
            peer_data["entra_cycle"] = figures.peer_cycle_figure(plan, workdir, echo)
        if "isolation" in only:
            result["isolation"] = isolation.measure(
                workdir, operations=plan.isolation_operations, emails=plan.isolation_emails
            )
            echo(isolation.describe(result["isolation"]))
        if "memory" in only:
            # The largest scale size and group size: 100k users and 50k-member groups in the full run.
            result["memory"] = memory.measure(
                workdir, users=max(plan.scale_sizes), members=min(max(plan.group_sizes), max(plan.scale_sizes))
            )
            echo(memory.describe(result["memory"]))
        if "wan" in only:
            result["wan"] = wan.measure(workdir)
            echo(wan.describe(result["wan"]))
        if "cursor" in only:
            result["cursor"] = cursor.measure(
                workdir, users=plan.cursor_users, page=plan.cursor_page, creates=plan.cursor_creates
            )
            echo(cursor.describe(result["cursor"]))
        if "stores" in only:
            result["stores"] = shared_store.measure(
                workdir,
                users=plan.stores_users,
                seconds=plan.stores_seconds,
                isolation_operations=plan.isolation_operations,
                isolation_emails=plan.isolation_emails,
            )
            echo(shared_store.describe(result["stores"]))
        if "load" in only:
            result["load"] = load.measure(workdir, tenants=plan.load_tenants, seconds=plan.load_seconds, users=40)
            echo(load.describe(result["load"]))
    result["peer"] = peer_data
    result["targets"] = targets(result)
    return result


def _plan(quick: bool, overrides: dict[str, Any]) -> Plan:
    plan = QUICK if quick else FULL
    changes: dict[str, Any] = {}
    try:
        for key, parse in (
            ("sync", sync_sizes),
            ("scale_sizes", sizes),
            ("group_sizes", sizes),
            ("peer_sync", sync_sizes),
            ("stores_users", sizes),
        ):
            if overrides.get(key):
                parsed = parse(overrides[key])
                changes[key] = parsed[0] if key == "peer_sync" else parsed
        for key in (
            "sync_repeats",
            "floor_requests",
            "scale_rounds",
            "scale_per_round",
            "group_rounds",
            "group_per_round",
            "peer_repeats",
            "peer_group_rounds",
            "rss_requests",
            "isolation_operations",
            "isolation_emails",
            "cursor_users",
            "cursor_page",
            "cursor_creates",
            "stores_seconds",
            "load_tenants",
            "load_seconds",
        ):
            if overrides.get(key) is not None:
                changes[key] = overrides[key]
        if changes:
            plan = replace(plan, mode="custom", **changes)
        plan.check()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    return plan


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--quick", is_flag=True, help="A small run (about a minute) instead of the full one (about eight).")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("bench-results.json"), show_default=True
)
@click.option(
    "--markdown", "markdown_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the tables here."
)
@click.option(
    "--peer/--no-peer", "with_peer", default=True, show_default=True, help="Measure scim2-server when installed."
)
@click.option("--only", type=click.Choice(FIGURES), multiple=True, help="Run only these figures (repeatable).")
@click.option("--sync", help="USERS:GROUPS sizes of the syncs, e.g. 1000:100,10000:500.")
@click.option("--scale-sizes", help="Directory sizes of the scale curve, e.g. 1000,10000,100000.")
@click.option("--group-sizes", help="Member counts of the large groups, e.g. 1000,20000,50000.")
@click.option("--peer-sync", help="USERS:GROUPS of the Entra cycle run against the peer.")
@click.option("--sync-repeats", type=int)
@click.option("--floor-requests", type=int)
@click.option("--scale-rounds", type=int)
@click.option("--scale-per-round", type=int)
@click.option("--group-rounds", type=int)
@click.option("--group-per-round", type=int)
@click.option("--peer-repeats", type=int)
@click.option("--peer-group-rounds", type=int)
@click.option("--rss-requests", type=int)
@click.option("--isolation-operations", type=int, help="Operations of figure 7's worst-case PATCH (1000).")
@click.option("--isolation-emails", type=int, help="Emails of the user figure 7's worst-case PATCH filters (1000).")
@click.option("--cursor-users", type=int, help="Users the paging figure reads back by cursor and by index (100000).")
@click.option("--cursor-page", type=int, help="Users a page in the paging figure (1000).")
@click.option("--cursor-creates", type=int, help="Users created by /Bulk and one by one (1000).")
@click.option("--stores-users", help="Directory sizes of the stores figure, e.g. 10000,100000.")
@click.option("--stores-seconds", type=float, help="Seconds of each load of the stores figure (10).")
@click.option("--load-tenants", type=int, help="Tenants syncing at once in the aup load figure (50).")
@click.option("--load-seconds", type=float, help="Seconds of each aup load run (15).")
def main(
    quick: bool, out: Path, markdown_path: Path | None, with_peer: bool, only: tuple[str, ...], **overrides: Any
) -> None:
    """Measure aup's performance figures (issue #10) and compare them with the floor and a peer."""
    plan = _plan(quick, overrides)
    echo = lambda line: click.echo(f"# {line}", err=True)  # noqa: E731 - progress on stderr, tables on stdout
    try:
        result = run(plan, only=only or FIGURES, with_peer=with_peer, echo=echo)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    text = markdown(result)
    if markdown_path is not None:
        markdown_path.write_text(text + "\n", encoding="utf-8")
    click.echo(text)
    click.echo(f"figures written to {out}", err=True)
