"""``aup load``: IdP-shaped load on Locust from many tenants at once, each tenant's end state verified.

One tenant: ``--target URL --token T``. Many: ``--tenants FILE``, or ``--local-tenants N --db DB`` for an ``aup
serve`` on this machine (tokens for tenants ``load-1`` .. ``load-N`` are issued into its database). Distributed:
``--master`` here and ``aup load --worker --master-host HOST`` on each load machine (docs/load.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from aup.commands.connection import preflight
from aup.commands.exits import OK, UsageProblem
from aup.load.plan import SCENARIOS, LoadPlan, TenantSpec, check_plan, idp_for, read_tenants
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store, shown_db
from emulators.registry import idps
from scimcore.target import Bearer, Target

_SPAN = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?")


def _timespan(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """``30s``, ``2m``, ``1h30m`` or plain seconds, as Locust spells a run time."""
    if value is None:
        return None
    match = _SPAN.fullmatch(value.strip())
    if not value.strip() or match is None:
        raise click.BadParameter(f"{value!r} is not a time span such as 30s, 2m or 1h30m")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise click.BadParameter("the run time must be longer than 0 s")
    return float(total)


def _think(ctx: click.Context, param: click.Parameter, value: str) -> tuple[float, float]:
    low, _, high = value.partition(":")
    try:
        pair = (float(low), float(high or low))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not MIN:MAX seconds") from None
    if pair[0] < 0 or pair[1] < pair[0]:
        raise click.BadParameter(f"{value!r}: need 0 <= MIN <= MAX")
    return pair


def _local_tenants(target: str, db: str, count: int) -> list[tuple[str, str, str]]:
    """Tenants ``load-1`` .. ``load-N`` of the ``aup serve`` whose database is ``db``: (name, url, new token)."""
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageProblem(f"--target {target!r}: give the server's origin, e.g. http://127.0.0.1:8080")
    origin = f"{parts.scheme}://{parts.netloc}"
    if "://" not in db and not Path(db).is_file():  # a new file would hold tokens no server reads
        raise UsageProblem(f"--db {db}: no such database; give the --db the local aup serve runs with")
    try:
        store = open_store(ServerConfig(db=db))
    except Exception as exc:  # sqlite3.Error, a newer schema, a bad URL: one line
        raise UsageProblem(f"cannot open database {shown_db(db)}: {exc}") from None
    try:
        made = []
        for number in range(1, count + 1):
            name = f"load-{number}"
            token = issue_token(store, f"load-{len(store.list_tokens(name)) + 1}", name)
            made.append((name, f"{origin}/scim/{name}/v2", token))
        return made
    finally:
        store.close()


@click.command()
@click.option("--target", help="The tenant's SCIM base URL (with --token); the server's origin with --local-tenants.")
@click.option("--token", help="Bearer token of the one tenant at --target.")
@click.option(
    "--tenants",
    "tenants_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML/JSON file: tenants: [{url, token, idp, name}] (docs/load.md).",
)
@click.option(
    "--local-tenants", type=click.IntRange(1, 10_000), help="Issue tokens for N tenants of a local aup serve."
)
@click.option("--db", default="aup.db", show_default=True, help="The local aup serve's --db (with --local-tenants).")
@click.option(
    "--idp",
    default="mixed",
    show_default=True,
    help="The IdP pushing to each tenant not given one: an IdP name, or mixed (alternating).",
)
@click.option("--scenario", type=click.Choice(list(SCENARIOS)), default="steady", show_default=True)
@click.option("--directory-users", default=40, show_default=True, type=click.IntRange(2, 1_000_000))
@click.option("--directory-groups", default=4, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--seed", default=7, show_default=True, type=int, help="Seeds the directories and the step mix.")
@click.option("--think", default="0.5:2", show_default=True, callback=_think, help="Seconds between steps, MIN:MAX.")
@click.option("-u", "--users", type=click.IntRange(1), help="Locust users, one tenant each (default: every tenant).")
@click.option("-r", "--spawn-rate", default=10.0, show_default=True, type=click.FloatRange(min=0.01))
@click.option("-t", "--run-time", callback=_timespan, help="Stop after e.g. 30s, 5m, 1h30m (headless; required).")
@click.option("--headless/--web", default=True, show_default=True, help="Start at once, or from Locust's web UI.")
@click.option("--web-host", default="127.0.0.1", show_default=True)
@click.option("--web-port", default=8089, show_default=True, type=click.IntRange(0, 65535))
@click.option("--master", "role", flag_value="master", help="Hand tenants to workers and aggregate (distributed).")
@click.option("--worker", "role", flag_value="worker", help="Run users for the master at --master-host.")
@click.option("--master-host", default="127.0.0.1", show_default=True)
@click.option(
    "--master-port",
    default=5557,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="The master's port (0 on the master: any free one).",
)
@click.option("--master-bind-host", default="*", show_default=True, help="Interface the master listens on.")
@click.option("--expect-workers", default=1, show_default=True, type=click.IntRange(1))
@click.option("--expect-workers-max-wait", default=60.0, show_default=True, type=click.FloatRange(min=0))
@click.option(
    "--stop-timeout",
    default=120.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="Seconds users get to finish, send what is pending and verify.",
)
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(min=0.1), help="Seconds per request.")
@click.option("--insecure", is_flag=True, help="Do not verify the target's TLS certificate.")
@click.option("--csv", "csv_prefix", help="Locust's CSV files (stats, failures, history) with this prefix.")
@click.option("--html", type=click.Path(dir_okay=False, path_type=Path), help="Locust's HTML report.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), help="The JSON report.")
@click.option("--quiet", is_flag=True, help="No periodic stats table.")
def load(**options: Any) -> None:
    """IdP-shaped load on Locust: each Locust user is one tenant's Okta or Entra, verified at the end."""
    role = options["role"] or "local"
    try:
        from aup.load import engine  # noqa: PLC0415 - Locust (the load extra) only for this command
    except ImportError as exc:
        raise UsageProblem(f"aup load needs Locust: pip install 'aup-harness[load]' ({exc})") from None
    if role == "worker":
        engine.run(None, _run_options(role, options, 0), options["think"], click.echo)
        raise SystemExit(OK)
    plan = _plan(options)
    for tenant in plan.tenants:
        preflight(Target(tenant.url, Bearer(tenant.token), plan.timeout, not plan.insecure))
    users = options["users"] or len(plan.tenants)
    if users > len(plan.tenants):
        raise UsageProblem(f"--users {users}: only {len(plan.tenants)} tenant(s); each Locust user needs its own")
    if options["headless"] and options["run_time"] is None:
        raise UsageProblem("--run-time is required with --headless (e.g. --run-time 30s)")
    result = engine.run(plan, _run_options(role, options, users), options["think"], click.echo)
    _finish(plan, result, options)


def _run_options(role: str, options: dict[str, Any], users: int) -> Any:
    from aup.load.engine import RunOptions  # noqa: PLC0415

    return RunOptions(
        role=role,
        users=users,
        spawn_rate=options["spawn_rate"],
        run_time=options["run_time"],
        stop_timeout=options["stop_timeout"],
        headless=options["headless"],
        web_host=options["web_host"],
        web_port=options["web_port"],
        master_host=options["master_host"],
        master_port=options["master_port"],
        master_bind_host=options["master_bind_host"],
        expect_workers=options["expect_workers"],
        expect_workers_max_wait=options["expect_workers_max_wait"],
        csv_prefix=options["csv_prefix"],
        html=options["html"],
        quiet=options["quiet"],
    )


def _plan(options: dict[str, Any]) -> LoadPlan:
    choice = options["idp"]
    if choice != "mixed" and choice not in idps():
        raise UsageProblem(f"--idp {choice!r}: choose mixed or one of {', '.join(idps().names())}")
    sources = [bool(options["token"]), options["tenants_file"] is not None, options["local_tenants"] is not None]
    if sum(sources) != 1:
        raise UsageProblem("give exactly one of --token (with --target), --tenants FILE, --local-tenants N")
    try:
        if options["tenants_file"] is not None:
            tenants = read_tenants(options["tenants_file"], choice)
        elif options["target"] is None:
            raise UsageProblem("--target is required with --token and --local-tenants")
        elif options["token"]:
            tenants = [TenantSpec(options["target"], options["token"], idp_for(0, choice))]
        else:
            made = _local_tenants(options["target"], options["db"], options["local_tenants"])
            tenants = [TenantSpec(url, token, idp_for(i, choice), name) for i, (name, url, token) in enumerate(made)]
        plan = LoadPlan(
            tuple(tenants),
            scenario=options["scenario"],
            users=options["directory_users"],
            groups=options["directory_groups"],
            seed=options["seed"],
            timeout=options["timeout"],
            insecure=options["insecure"],
        )
        check_plan(plan)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    return plan


def _finish(plan: LoadPlan, result: Any, options: dict[str, Any]) -> None:
    from aup.load import report  # noqa: PLC0415

    stats = result.environment.stats
    rows = report.kind_rows([*stats.entries.values(), stats.total], stats.errors)
    built = report.build(
        plan=asdict(plan),
        seconds=result.seconds,
        rows=rows,
        claimed=result.state.claimed,
        verdicts=result.state.verdicts,
        unplaced=result.state.unplaced,
        started=result.started,
        workers=result.workers,
        errors=report.step_errors(result.environment.runner.exceptions),
    )
    if options["report_path"] is not None:
        options["report_path"].write_text(json.dumps(built, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for line in report.render(built):
        click.echo(line)
    raise SystemExit(built["verdict"]["exit_code"])
