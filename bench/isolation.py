"""Figure 7, isolation: how long one worst-case PATCH delays another tenant's one-line PATCH on ``aup serve``.

The worst case is what the server accepts: ``operations`` operations (``max_patch_operations``), each a
filter of 199 nodes (under ``max_filter_nodes``) evaluated over a user with ``emails`` emails, the body under
``max_body_bytes``. While it runs, another tenant sends one-line PATCHes one after the other; the figure is
their median (and worst) latency minus the median of the same PATCHes sent before, with no load.

The server is killed by pid afterwards, so a worst case that would run for hours costs only the
measurement. Standalone (any checkout, e.g. an older one for a before/after figure):

    python -m bench.isolation --operations 100 --emails 2000 --source DIR
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click
import httpx

from bench.common import expect, median, samples, server_process
from scimcore import urns

COMPARES = 100  # 100 comparisons joined by 99 ``or``: 199 filter nodes
MAX_BODY_BYTES = 4 * 1024 * 1024


def _email(index: int) -> str:
    return f"mail{index:06d}@example.com"


def worst_patch(operations: int, emails: int) -> bytes:
    """``operations`` replaces whose path filter misses on every email but the last (so all are evaluated)."""
    misses = " or ".join(f'value eq "{_email(emails + n)}"' for n in range(COMPARES - 1))
    path = f'emails[{misses} or value eq "{_email(emails - 1)}"].type'
    body = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": path, "value": "work"}] * operations}
    return json.dumps(body, separators=(",", ":")).encode()


def one_line_patch(active: bool) -> dict[str, Any]:
    return {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": active}]}


def _serve(db: str, source: Path | None) -> Any:
    cmd = [sys.executable, "-m", "aup", "serve", "--host", "127.0.0.1", "--port", "0", "--db", db]
    cmd += ["--tenant", "default", "--tenant", "other"]
    return server_process(cmd, r"aup serving on", cwd=source)


def _client(server: Any, tenant: str, timeout: float) -> httpx.Client:
    base = token = ""
    for line in server.output:
        if line.startswith(f"SCIM base URL ({tenant}): "):
            base = line.split(": ", 1)[1].strip()
        if line.startswith(f"New bearer token for {tenant} "):
            token = line.rsplit(": ", 1)[1].strip()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
    return httpx.Client(base_url=base, headers=headers, timeout=timeout)


def measure(
    workdir: Path,
    *,
    operations: int,
    emails: int,
    probes: int = 30,
    timeout_s: float = 120.0,
    source: Path | None = None,
    db: str | None = None,
) -> dict[str, Any]:
    """One-line PATCH latency of tenant ``other`` without and during tenant ``default``'s worst-case PATCH, on
    ``db`` (an empty database, e.g. a ``postgresql://`` URL) or else a new SQLite file in ``workdir``."""
    body = worst_patch(operations, emails)
    if len(body) >= MAX_BODY_BYTES:
        raise ValueError(f"the worst-case PATCH is {len(body)} bytes, over the {MAX_BODY_BYTES}-byte body limit")
    with _serve(db or str(workdir / f"isolation-{operations}-{emails}.db"), source) as server:
        heavy, light = _client(server, "default", timeout_s), _client(server, "other", timeout_s)
        try:
            doc = {"schemas": [urns.USER], "userName": "worst", "emails": [{"value": _email(i)} for i in range(emails)]}
            worst_id = expect(heavy.post("/Users", json=doc), 201).json()["id"]
            probe = {"schemas": [urns.USER], "userName": "probe"}
            probe_id = expect(light.post("/Users", json=probe), 201).json()["id"]

            def one_line(index: int) -> None:
                expect(light.patch(f"/Users/{probe_id}", json=one_line_patch(index % 2 == 0)), 200, 204)

            samples(one_line, 5)  # warm up
            idle = samples(one_line, probes)
            outcome: dict[str, Any] = {}

            def run_worst() -> None:
                start = time.perf_counter()
                try:
                    outcome["status"] = heavy.patch(f"/Users/{worst_id}", content=body).status_code
                except httpx.HTTPError as exc:
                    outcome["status"] = type(exc).__name__
                outcome["seconds"] = time.perf_counter() - start

            worker = threading.Thread(target=run_worst, daemon=True)
            worker.start()
            time.sleep(1.0)  # the body is sent and parsed: the server is evaluating it
            try:
                loaded = samples(one_line, probes)
            except httpx.TimeoutException:
                loaded = [timeout_s]
            still_running = worker.is_alive()
        finally:
            heavy.close()
            light.close()
            os.kill(server.pid, signal.SIGKILL)  # the worst case may have hours left; nothing here is kept
            server.process.wait()
    idle_ms, loaded_ms = median(idle) * 1000, median(loaded) * 1000
    return {
        "operations": operations,
        "filter_nodes": 2 * COMPARES - 1,
        "emails": emails,
        "body_bytes": len(body),
        "idle_median_ms": idle_ms,
        "loaded_median_ms": loaded_ms,
        "loaded_max_ms": max(loaded) * 1000,
        "loaded_ms": [round(x * 1000, 1) for x in loaded],
        # The worst probe: before the fix, the first one waited for the whole worst case.
        "delay_ms": max(loaded) * 1000 - idle_ms,
        "median_delay_ms": loaded_ms - idle_ms,
        "worst_still_running": still_running,
        "worst_outcome": outcome,
    }


def describe(row: dict[str, Any]) -> str:
    state = "still running" if row["worst_still_running"] else f"done in {row['worst_outcome'].get('seconds', 0):.1f} s"
    return (
        f"isolation: {row['operations']} ops x {row['filter_nodes']}-node filter over {row['emails']} emails "
        f"({row['body_bytes'] / 1e6:.1f} MB, {state}): another tenant's one-line PATCH "
        f"{row['idle_median_ms']:.1f} ms idle, {row['loaded_median_ms']:.1f} ms median / "
        f"{row['loaded_max_ms']:.1f} ms max during it (delay {row['delay_ms']:.1f} ms, "
        f"{row['median_delay_ms']:.1f} ms at the median)"
    )


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--operations", type=click.IntRange(1), default=1000, show_default=True)
@click.option("--emails", type=click.IntRange(1), default=1_000, show_default=True)
@click.option("--probes", type=click.IntRange(1), default=30, show_default=True)
@click.option("--timeout", "timeout_s", type=float, default=120.0, show_default=True)
@click.option(
    "--source",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Serve the aup of this checkout (e.g. an older commit) instead of the installed one.",
)
def main(operations: int, emails: int, probes: int, timeout_s: float, source: Path | None) -> None:
    """Measure figure 7 alone and print it as JSON."""
    import tempfile  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="aup-isolation-") as tmp:
        row = measure(
            Path(tmp), operations=operations, emails=emails, probes=probes, timeout_s=timeout_s, source=source
        )
    click.echo(describe(row), err=True)
    click.echo(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
