"""``aup conformance``: run the graded checks against a SCIM server (the embedded one by default) and report."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from aup.commands.connection import ConnectionOptions, connection_options, preflight
from aup.commands.exits import UsageProblem
from aup.embedded import embedded_server
from conformance import Target, run, select
from conformance.model import SUITES, Result
from conformance.report import render_console, render_html, render_junit, render_progress, to_json
from conformance.runner import TargetUnreachable
from scimcore.target import Bearer


def _split(values: tuple[str, ...]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


@contextmanager
def _target(connection: ConnectionOptions) -> Iterator[Target]:
    if not connection.given:
        if connection.credentials_given():
            raise UsageProblem("--token and --auth-header need --target (the embedded server makes its own token)")
        with embedded_server(name="conformance") as server:
            yield Target(
                server.base_url, Bearer(server.token), app=server.app, label="the embedded aup server (in process)"
            )
        return
    target = connection.resolve()
    preflight(target)  # a wrong URL, token or a login page stops here, in one line, before 150 checks
    yield target


def _progress(enabled: bool) -> tuple[object, object]:
    stream = sys.stderr

    def show(done: int, total: int, result: Result) -> None:
        line = render_progress(done, total, result)
        stream.write("\r" + line.ljust(90)[:90])
        if done == total:
            stream.write("\r" + " " * 90 + "\r")
        stream.flush()

    return (show if enabled else None), stream


@click.command("conformance")
@connection_options(target_help="SCIM base URL; without it the embedded server is tested.")
@click.option(
    "--suite",
    "suites",
    multiple=True,
    metavar="LIST",
    help=f"Suites to run, comma-separated: {','.join(SUITES)} (default: all).",
)
@click.option("--include", multiple=True, metavar="TAGS", help="Only checks carrying one of these tags.")
@click.option("--exclude", multiple=True, metavar="TAGS", help="No checks carrying one of these tags.")
@click.option("--check", "ids", multiple=True, metavar="ID", help="Only these check ids (a trailing * is a prefix).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the JSON report.")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), help="Write an HTML report.")
@click.option("--strict", is_flag=True, help="A SHOULD that fails makes the run fail too.")
@click.option("--keep", is_flag=True, help="Leave the data the checks created (for debugging).")
@click.option("--list", "list_only", is_flag=True, help="List the selected checks and exit.")
@click.option("--quiet", "-q", is_flag=True, help="Only the failure details and the summary line.")
def conformance(
    connection: ConnectionOptions,
    suites: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    ids: tuple[str, ...],
    json_path: Path | None,
    junit_path: Path | None,
    html_path: Path | None,
    strict: bool,
    keep: bool,
    list_only: bool,
    quiet: bool,
) -> None:
    """Check a SCIM 2.0 server against RFC 7643/7644 and what Okta and Entra need from it.

    Exit code 0 when every check was judged and no MUST failed (with --strict, no SHOULD either); 1 when
    one failed; 2 for usage or connection errors, or when checks were left unjudged (INCOMPLETE).
    """
    try:
        checks = select(_split(suites) or None, include=_split(include), exclude=_split(exclude), ids=ids)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    if not checks:
        raise UsageProblem("no check matches the selection (see --list)")
    if list_only:
        for item in checks:
            click.echo(f"{item.id:<56} {item.level.value:<6} {item.suite:<6} {item.title}")
        return
    show, _ = _progress(sys.stderr.isatty() and not quiet)
    with _target(connection) as target:
        try:
            outcome = run(checks, target, keep=keep, progress=show)  # type: ignore[arg-type]
        except TargetUnreachable as exc:
            raise UsageProblem(str(exc)) from None
    text = render_console(outcome, strict=strict, width=shutil.get_terminal_size((160, 24)).columns)
    if quiet:
        text = "\n".join(line for line in text.splitlines() if not line.startswith("  ") or "FAIL" in line) + "\n"
    click.echo(text, nl=False)
    for path, render in ((json_path, to_json), (junit_path, render_junit), (html_path, render_html)):
        if path is not None:
            try:
                path.write_text(render(outcome, strict=strict), encoding="utf-8")
            except OSError as exc:
                raise UsageProblem(f"cannot write {path}: {exc.strerror or exc}") from None
            click.echo(f"wrote {path}")
    sys.exit(outcome.exit_code(strict=strict))
