"""The load run's report: per request kind and overall, latency percentiles, throughput, errors and the 429s
the IdPs waited out; per tenant the same and its verdict; and the exit code of the run.

Exit codes (aup/commands/exits.py): 0 only when the run started, every tenant a user took was judged, and
every judged tenant's server state equals its directory with nothing left failed; 1 when a tenant's state
diverges or the IdP was left with failed sends (the server misbehaved); 2 when the run could not be made or
judged (no worker came, a tenant could not be provisioned or read back, a verdict never arrived).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aup.commands.exits import OK, TARGET_FAILED, USAGE

PERCENTILES = (0.5, 0.95, 0.99)


@dataclass(frozen=True)
class KindFigures:
    """One request kind's (or the total's) figures, as Locust's stats entry holds them."""

    method: str
    name: str
    requests: int
    failures: int
    rate_limited: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def kind_rows(entries: Iterable[Any], errors: Mapping[Any, Any]) -> list[KindFigures]:
    """Rows from Locust ``StatsEntry`` objects; ``errors`` (Locust's ``StatsError`` by key) give the 429s."""
    limited: dict[tuple[str, str], int] = {}
    for error in errors.values():
        # the exception locally; its repr() once a worker's stats reached the master
        text = error.error if isinstance(error.error, str) else repr(error.error)
        if text.startswith("RateLimited("):
            key = (error.method, error.name)
            limited[key] = limited.get(key, 0) + error.occurrences
    rows = []
    for entry in entries:
        if entry.num_requests == 0 and entry.num_failures == 0:
            continue
        pct = [float(entry.get_response_time_percentile(p) or 0) for p in PERCENTILES]
        rate = limited.get((entry.method, entry.name), 0)
        if entry.name == "Aggregated":
            rate = sum(limited.values())
        rows.append(
            KindFigures(
                entry.method or "",
                entry.name,
                entry.num_requests,
                entry.num_failures - rate,
                rate,
                round(float(entry.total_rps), 1),  # over the span from the first request to the last
                *pct,
            )
        )
    return rows


def exit_code(
    started: bool, claimed: Sequence[int], verdicts: Mapping[int, Mapping[str, Any]], step_errors: int = 0
) -> int:
    if not started or not claimed:
        return USAGE
    if any(index not in verdicts or verdicts[index].get("error") for index in claimed):
        return USAGE
    if step_errors or any(v.get("divergences") or v.get("unresolved_count") for v in verdicts.values()):
        return TARGET_FAILED
    return OK


def step_errors(exceptions: Mapping[Any, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Locust's record of exceptions raised in the users' steps: each distinct one, first line, how often."""
    found = [{"count": int(e["count"]), "message": str(e["msg"]).strip().splitlines()[0]} for e in exceptions.values()]
    return sorted(found, key=lambda e: -e["count"])


def build(
    *,
    plan: Mapping[str, Any],
    seconds: float,
    rows: Sequence[KindFigures],
    claimed: Sequence[int],
    verdicts: Mapping[int, Mapping[str, Any]],
    unplaced: int,
    started: bool,
    workers: int | None,
    errors: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The report as JSON-ready data (``--report FILE``)."""
    tenants = []
    for index in claimed:
        verdict = dict(verdicts.get(index) or {"index": index, "error": "no verdict arrived (the user was killed)"})
        verdict.setdefault("tenant", plan["tenants"][index].get("name") or plan["tenants"][index]["url"])
        tenants.append(verdict)
    code = exit_code(started, claimed, verdicts, sum(int(e["count"]) for e in errors))
    diverged = [t for t in tenants if t.get("divergences") or t.get("unresolved_count")]
    unjudged = [t for t in tenants if t.get("error")]
    return {
        "scenario": plan["scenario"],
        "run_id": plan["run_id"],
        "directory": {"users": plan["users"], "groups": plan["groups"], "seed": plan["seed"]},
        "seconds": round(seconds, 2),
        "workers": workers,
        "started": started,
        "requests": [row.__dict__ for row in rows],
        "tenants": tenants,
        "unplaced_users": unplaced,
        "step_errors": list(errors),
        "verdict": {
            "tenants": len(tenants),
            "converged": len(tenants) - len(diverged) - len(unjudged),
            "diverged": len(diverged),
            "unjudged": len(unjudged),
            "exit_code": code,
        },
    }


def render(report: Mapping[str, Any]) -> list[str]:
    """The console summary: the request table, then a line per tenant, then the verdict."""
    lines = [
        f"aup load: scenario {report['scenario']}, {report['seconds']} s, "
        f"{report['directory']['users']} users and {report['directory']['groups']} groups per tenant",
        f"{'request':<28} {'reqs':>7} {'fail':>5} {'429':>5} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7}",
    ]
    for row in report["requests"]:
        name = f"{row['method']} {row['name']}".strip()
        lines.append(
            f"{name[:28]:<28} {row['requests']:>7} {row['failures']:>5} {row['rate_limited']:>5} {row['rps']:>7}"
            f" {row['p50_ms']:>7.0f} {row['p95_ms']:>7.0f} {row['p99_ms']:>7.0f}"
        )
    for tenant in report["tenants"]:
        figures = tenant.get("figures") or {}
        shown = f"{tenant.get('idp', '?')} {tenant['tenant']}: "
        if tenant.get("error"):
            lines.append(shown + f"NOT JUDGED: {tenant['error']}")
            continue
        head = (
            f"{figures.get('requests', 0)} requests, p99 {figures.get('p99_ms')} ms, "
            f"{figures.get('rate_limited_429', 0)} 429s waited out; "
        )
        if tenant.get("divergences") or tenant.get("unresolved_count"):
            failed = tenant.get("unresolved_count", 0)
            lines.append(shown + head + f"DIVERGED in {tenant.get('divergences', 0)} place(s), {failed} failed send(s)")
            lines.extend(f"    {problem}" for problem in [*tenant.get("shown", ()), *tenant.get("unresolved", ())])
        else:
            lines.append(shown + head + f"converged ({tenant['users']} users, {tenant['groups']} groups)")
    verdict = report["verdict"]
    for error in report.get("step_errors", ()):
        lines.append(f"step error ({error['count']}x): {error['message']}")
    if report["unplaced_users"]:
        lines.append(f"{report['unplaced_users']} Locust user(s) found no tenant left: give more tenants")
    if not report["started"]:
        lines.append("the load never started")
    lines.append(
        f"verdict: {verdict['converged']} of {verdict['tenants']} tenant(s) converged, {verdict['diverged']} diverged, "
        f"{verdict['unjudged']} not judged"
    )
    return lines
