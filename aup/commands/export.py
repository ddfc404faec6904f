"""``aup export posix``: read a SCIM server as nsscache does and write the cluster's cache files (docs/posix.md)."""

from __future__ import annotations

from pathlib import Path

import click

from aup.commands.connection import ConnectionOptions, connection_options, preflight
from aup.commands.exits import TargetFailed, UsageProblem
from emulators.nsscache import (
    AUP_PATHS,
    NsscacheError,
    compare_exports,
    fetch_maps,
    nsscache_client,
    read_export,
    write_export,
)


@click.group()
def export() -> None:
    """Export what a cluster would read from a SCIM server."""


@export.command("posix")
@connection_options(target_help="SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2 (omit to only --check).")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for passwd.cache, group.cache, sshkey.cache and aup-export.json.",
)
@click.option(
    "--check",
    "before",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="An earlier export: report uid/gid changes and reuse against --out (exit 1 on any).",
)
def export_posix(connection: ConnectionOptions, out: Path, before: Path | None) -> None:
    """Page through /Users and /Groups like nsscache's SCIM source and write its files cache.

    With --target, the export is written to --out first; with --check only, two existing exports
    are compared.
    """
    if not connection.given and before is None:
        raise UsageProblem("give --target (and --token) to export, --check to compare, or both")
    if connection.given:
        # nsscache's SCIM source sends a bearer token and nothing else.
        target = connection.resolve(allowed=("bearer",), who="nsscache sends a bearer token")
        preflight(target)
        scim = nsscache_client(target)
        try:
            maps = fetch_maps(scim, AUP_PATHS)
        except NsscacheError as exc:
            raise TargetFailed(f"nothing written: {exc}") from None
        finally:
            scim.http.close()
        try:
            write_export(maps, out, source=target.base_url)
        except OSError as exc:
            raise UsageProblem(f"cannot write {out}: {exc.strerror or exc}") from None
        click.echo(f"wrote {len(maps.passwd)} users, {len(maps.group)} groups, {len(maps.sshkey)} key lines to {out}")
        for warning in maps.warnings:
            click.echo(f"warning: {warning}", err=True)
    if before is None:
        return
    try:
        findings = compare_exports(read_export(before), read_export(out))
    except (ValueError, OSError) as exc:
        raise UsageProblem(str(exc)) from None
    for finding in findings:
        click.echo(str(finding))
    errors = sum(1 for f in findings if f.severity == "error")
    if errors:
        raise TargetFailed(f"{errors} uid/gid error(s) between {before} and {out}")
    click.echo(f"no uid/gid changes between {before} and {out}")
