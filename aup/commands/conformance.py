"""``aup conformance``: run the graded checks against a SCIM server (the embedded one by default) and report."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import click

from aup.commands.connection import ConnectionOptions, connection_options, preflight
from aup.commands.entra import oauth_from
from aup.commands.exits import UsageProblem
from aup.embedded import embedded_server
from conformance import Target, run, select
from conformance.baseline import BaselineError, compare, load, rerun_ids
from conformance.model import SUITES, Check, Result
from conformance.report import render_console, render_html, render_junit, render_progress, to_json
from conformance.runner import DEFAULT_JOBS, Run, TargetUnreachable
from scimcore.target import Bearer, ClientCredentials, TokenEndpointError

STDOUT = Path("-")
Render = Callable[..., str]  # a report renderer: (run, *, strict) -> text


def _split(values: tuple[str, ...]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


@contextmanager
def _target(connection: ConnectionOptions, oauth: ClientCredentials | None) -> Iterator[Target]:
    if not connection.given:
        if connection.credentials_given() or oauth is not None:
            raise UsageProblem(
                "--token, --auth-header and --token-url need --target (the embedded server makes its own token)"
            )
        with embedded_server(name="conformance") as server:
            yield Target(
                server.base_url, Bearer(server.token), app=server.app, label="the embedded aup server (in process)"
            )
        return
    if oauth is not None and connection.credentials_given():
        raise UsageProblem("give either --token/--auth-header or --token-url with --client-id, not both")
    target = connection.resolve(oauth=oauth)
    try:
        preflight(target)  # a wrong URL, token or a login page stops here, in one line, before 150 checks
    except TokenEndpointError as exc:
        raise UsageProblem(f"the OAuth token endpoint failed: {exc}") from None
    yield target


def _progress(enabled: bool) -> Callable[[int, int, Result], None] | None:
    stream = sys.stderr

    def show(done: int, total: int, result: Result) -> None:
        line = render_progress(done, total, result)
        stream.write("\r" + line.ljust(90)[:90])
        if done == total:
            stream.write("\r" + " " * 90 + "\r")
        stream.flush()

    return show if enabled else None


def _outputs(json_path: Path | None, junit_path: Path | None, html_path: Path | None) -> list[tuple[Path, Render]]:
    """The reports to write, checked before the run: at most one to standard output (``-``), and every other
    one's folder made now, so a bad path costs nothing instead of a whole run."""
    renderers: tuple[tuple[Path | None, Render], ...] = (
        (json_path, to_json),
        (junit_path, render_junit),
        (html_path, render_html),
    )
    chosen = [(path, render) for path, render in renderers if path is not None]
    if sum(1 for path, _ in chosen if path == STDOUT) > 1:
        raise UsageProblem("only one of --json, --junit and --html can be - (standard output)")
    for path, _ in chosen:
        if path == STDOUT:
            continue
        if path.is_dir():
            raise UsageProblem(f"cannot write {path}: it is a folder")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageProblem(f"cannot create the folder of {path}: {exc.strerror or exc}") from None
    return chosen


def _list(checks: list[Check]) -> None:
    width = max(len(item.id) for item in checks)
    for item in checks:
        tags = ",".join(sorted(item.tags - {item.suite}))
        needs = f"  requires {','.join(sorted(item.requires))}" if item.requires else ""
        click.echo(f"{item.id:<{width}}  {item.level.value:<6} {item.suite:<6} [{tags}]{needs}")
        click.echo(f"{'':<{width}}  {item.title}")
        click.echo(f"{'':<{width}}  {item.ref}")


def _rerun(report: Path) -> list[str]:
    try:
        return rerun_ids(load(report))
    except BaselineError as exc:
        raise UsageProblem(str(exc)) from None


def _with_prerequisites(chosen: list[Check], everything: list[Check]) -> list[Check]:
    """``chosen`` plus the prerequisites its checks need, so a rerun judges a BLOCKED check's cause again."""
    by_id = {item.id: item for item in everything}
    wanted = {item.id for item in chosen}
    stack = list(chosen)
    while stack:
        for need in stack.pop().needs:
            if need in by_id and need not in wanted:
                wanted.add(need)
                stack.append(by_id[need])
    return [item for item in everything if item.id in wanted]


@click.command("conformance")
@connection_options(target_help="SCIM base URL; without it the embedded server is tested.")
@click.option(
    "--token-url", metavar="URL", help="OAuth 2.0 token endpoint: fetch the bearer token by client credentials."
)
@click.option("--client-id", metavar="ID", help="OAuth client id (with --token-url).")
@click.option(
    "--client-secret", envvar="AUP_CLIENT_SECRET", metavar="SECRET", help="OAuth client secret (env AUP_CLIENT_SECRET)."
)
@click.option("--oauth-scope", "scopes", multiple=True, metavar="SCOPE", help="OAuth scope to ask for (repeatable).")
@click.option(
    "--suite",
    "suites",
    multiple=True,
    metavar="LIST",
    help=f"Suites to run, comma-separated: {','.join(SUITES)}, or a registered IdP's own (see --list; default: all).",
)
@click.option("--include", multiple=True, metavar="TAGS", help="Only checks carrying one of these tags (see --list).")
@click.option("--exclude", multiple=True, metavar="TAGS", help="No checks carrying one of these tags.")
@click.option("--check", "ids", multiple=True, metavar="ID", help="Only these check ids (a trailing * is a prefix).")
@click.option(
    "--rerun-failed",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="REPORT.json",
    help="Only the checks that did not pass in that JSON report (and their prerequisites).",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="OLD.json",
    help="Compare with that JSON report: exit 1 only on new failures, 2 if a check that passed is now unjudged.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=DEFAULT_JOBS,
    show_default=True,
    help="Checks in flight at once (1 runs them one after another).",
)
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the JSON report (- for stdout).")
@click.option("--junit", "junit_path", type=click.Path(path_type=Path), help="Write JUnit XML (- for stdout).")
@click.option("--html", "html_path", type=click.Path(path_type=Path), help="Write an HTML report (- for stdout).")
@click.option("--strict", is_flag=True, help="A SHOULD that fails makes the run fail too.")
@click.option("--keep", is_flag=True, help="Leave the data the checks created (for debugging).")
@click.option("--list", "list_only", is_flag=True, help="List the selected checks (id, level, suite, tags, reference).")
@click.option("--quiet", "-q", is_flag=True, help="Only the failure details, the causes and the summary.")
def conformance(
    connection: ConnectionOptions,
    token_url: str | None,
    client_id: str | None,
    client_secret: str | None,
    scopes: tuple[str, ...],
    suites: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    ids: tuple[str, ...],
    rerun_failed: Path | None,
    baseline: Path | None,
    jobs: int,
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
    one failed; 2 for usage or connection errors, or when checks were left unjudged (INCOMPLETE). With
    --baseline the comparison decides instead: 1 on a new failure, 2 when a check that passed in the
    baseline is now unjudged, else 0 (known failures allowed).
    """
    try:
        chosen = select(_split(suites) or None, include=_split(include), exclude=_split(exclude), ids=ids)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    if rerun_failed is not None:
        again = set(_rerun(rerun_failed))
        if not again:
            click.echo(f"{rerun_failed}: every check passed or was skipped; nothing to rerun")
            return
        chosen = _with_prerequisites([item for item in chosen if item.id in again], select(None))
    if not chosen:
        raise UsageProblem("no check matches the selection (see --list)")
    if list_only:
        _list(chosen)
        return
    known = None
    if baseline is not None:
        try:
            known = load(baseline)
        except BaselineError as exc:
            raise UsageProblem(str(exc)) from None
    outputs = _outputs(json_path, junit_path, html_path)
    oauth = oauth_from(token_url, client_id, client_secret, scopes, "basic")
    console: TextIO = sys.stderr if any(path == STDOUT for path, _ in outputs) else sys.stdout
    with _target(connection, oauth) as target:
        try:
            outcome = run(chosen, target, keep=keep, progress=_progress(sys.stderr.isatty() and not quiet), jobs=jobs)
        except TargetUnreachable as exc:
            raise UsageProblem(str(exc)) from None
        except TokenEndpointError as exc:
            raise UsageProblem(f"the OAuth token endpoint failed: {exc}") from None
    _report(outcome, console, strict=strict, quiet=quiet)
    for path, render in outputs:
        text = render(outcome, strict=strict)
        if path == STDOUT:
            click.echo(text, nl=False)
            continue
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageProblem(f"cannot write {path}: {exc.strerror or exc}") from None
        click.echo(f"wrote {path}", file=console)
    code = outcome.exit_code(strict=strict)
    if known is not None and baseline is not None:
        comparison = compare(known, outcome, strict=strict)
        click.echo("\n".join(comparison.lines(str(baseline))), file=console)
        code = comparison.exit_code()
    sys.exit(code)


def _report(outcome: Run, console: TextIO, *, strict: bool, quiet: bool) -> None:
    text = render_console(outcome, strict=strict, width=shutil.get_terminal_size((160, 24)).columns)
    if quiet:  # the details, causes, notes and verdict: everything but the passing rows of the tables
        kept = []
        for line in text.splitlines():
            row = line.startswith("  ") and line[2:7] in ("PASS ", "skip ", "WARN ", "FAIL ", "BLOCK", "ERROR")
            if not row or "FAIL" in line[2:7]:
                kept.append(line)
        text = "\n".join(kept) + "\n"
    click.echo(text, nl=False, file=console)
