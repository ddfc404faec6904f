"""``aup sync --idp entra`` and ``aup entra-sync``: one Entra provisioning job, run from the command line.

Each run resumes the job saved next to the directory (``people.entra-job.json``: watermark, what was
sent per object and membership, unmanaged users, escrows, quarantine, the provisioning log, the job's
clock) and its links (``people.entra-links.json``), so successive runs over an edited directory behave as
one Entra job over time. Cycles run back to back: the 40 minutes between them pass on the job's virtual
clock, while waits inside a cycle (HTTP 429) are real. The provisioning log is printed (and written with
``--log``) as it happens; the run ends with a summary and the failures grouped by cause.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import IO, Any

import click
import httpx

from aup.commands.connection import ConnectionOptions, connection_options, preflight
from aup.commands.exits import TargetFailed, UsageProblem
from aup.commands.progress import progress_option, progress_printer
from emulators.core.cycle_clock import SkippingClock
from emulators.core.errors import ConfigurationError
from emulators.core.linkstore import LinkStore
from emulators.core.progress import ProgressCallback
from emulators.entra import (
    DEFAULT_GROUP_MAPPING,
    DEFAULT_USER_MAPPING,
    ENTRA_DEFAULT,
    FLAG,
    PROFILES,
    Code,
    EntraDirectory,
    EntraEmulator,
    LogEntry,
    Outcome,
    ProvisioningLog,
    ScopingFilter,
    load_entra_directory,
    load_mappings,
    split_tenant_url,
)
from emulators.entra.apps import APPS as ENTRA_APPS
from emulators.entra.auth import ClientCredentialsAuth, CredentialsIn, secret_token_auth
from emulators.entra.jobfile import JobRecord, entra_links_path_for, job_path_for, load_job, save_job
from scimcore.client import Wiretap
from scimcore.target import Bearer, ClientCredentials, Target
from scimcore.wire import CassetteWriter

TARGET_ACTIONS = ("create", "update", "delete")
_EXAMPLES = 3  # object names shown per failure cause


@dataclass(frozen=True)
class EntraOptions:
    """Everything an Entra run takes besides the connection; None means "as the directory file says"."""

    cycles: int = 1
    flags: tuple[str, ...] = ()
    dialect: str | None = None
    mapping_path: Path | None = None
    app: str | None = None  # a named app preset (emulators/entra/apps.py); --mapping merges over it
    links_path: Path | None = None
    job_path: Path | None = None
    scope: str | None = None
    scoping_filter: Path | None = None
    skip_out_of_scope_deletions: bool | None = None
    deletion_threshold: int | None = None
    target_actions: str | None = None
    restart: bool = False
    reset: bool = False
    approve_deletions: bool = False
    on_demand: tuple[str, ...] = ()
    test_connection: bool = False
    cassette: Path | None = None
    log_path: Path | None = None
    quiet: bool = False
    verbose: bool = False
    oauth: ClientCredentials | None = None  # as the admin enters them (docs/entra-idp.md §1)


# The options `aup entra-sync` and `aup sync --idp entra` share (sync refuses them for Okta).
ENTRA_OPTIONS = (
    click.option("--cycles", default=1, show_default=True, type=click.IntRange(1), help="Entra: cycles to run."),
    click.option("--flag", "flags", multiple=True, help=f"Entra: feature flag, e.g. {FLAG}."),
    click.option(
        "--job",
        "job_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Entra: job state file [default: <directory>.entra-job.json].",
    ),
    click.option(
        "--scope",
        type=click.Choice(["assigned", "all"]),
        default=None,
        help="Entra: sync assigned users and groups only, or all [default: the directory file's, else assigned].",
    ),
    click.option(
        "--scoping-filter",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Entra: YAML/JSON scoping filter (clause groups; docs/directory.md).",
    ),
    click.option(
        "--skip-out-of-scope-deletions/--no-skip-out-of-scope-deletions",
        default=None,
        help="Entra: leave users that go out of scope untouched (SkipOutOfScopeDeletions).",
    ),
    click.option(
        "--deletion-threshold",
        type=click.IntRange(0),
        default=None,
        metavar="N",
        help="Entra: stage a cycle's disables and deletes over N (accidental deletions; 0 turns it off).",
    ),
    click.option(
        "--target-actions",
        metavar="LIST",
        help="Entra: the target actions left on, comma-separated from create,update,delete.",
    ),
    click.option(
        "--restart",
        is_flag=True,
        help="Entra: restart provisioning (watermark, escrows, quarantine cleared; links kept) before the cycles.",
    ),
    click.option("--reset", is_flag=True, help="Entra: full reset (also forgets links and memberships sent)."),
    click.option("--approve-deletions", is_flag=True, help="Entra: send the deletions staged by the threshold."),
    click.option(
        "--on-demand",
        "on_demand",
        multiple=True,
        metavar="USER",
        help="Entra: provision USER on demand instead of running cycles (repeatable).",
    ),
    click.option("--test-connection", "test_connection", is_flag=True, help="Entra: only test the connection."),
    click.option(
        "--log",
        "log_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Append the provisioning log here as JSON lines, as it happens.",
    ),
)


def entra_options_from(values: dict[str, Any]) -> EntraOptions:
    """EntraOptions from click's parameter values (unknown keys ignored)."""
    known = set(EntraOptions.__dataclass_fields__)
    return EntraOptions(**{key: value for key, value in values.items() if key in known})


def _settings(directory: EntraDirectory, options: EntraOptions) -> tuple[Any, ScopingFilter]:
    """The job's settings: the directory file's ``entra.provisioning`` section, then the flags over it."""
    settings, scoping = directory.job_settings()
    if options.scoping_filter is not None:
        scoping = ScopingFilter.from_data(_read_data(options.scoping_filter))
    changes: dict[str, Any] = {}
    if options.scope is not None:
        changes["scope"] = options.scope
    if options.skip_out_of_scope_deletions is not None:
        changes["skip_out_of_scope_deletions"] = options.skip_out_of_scope_deletions
    if options.deletion_threshold is not None:
        changes["accidental_deletion_threshold"] = options.deletion_threshold or None
    if options.target_actions is not None:
        chosen = {item.strip().lower() for item in options.target_actions.split(",") if item.strip()}
        unknown = sorted(chosen - set(TARGET_ACTIONS))
        if unknown:
            raise UsageProblem(f"--target-actions: {', '.join(unknown)} is not one of {', '.join(TARGET_ACTIONS)}")
        changes |= {action: action in chosen for action in TARGET_ACTIONS}
    return replace(settings, **changes), scoping


def _read_data(path: Path) -> Any:
    import yaml  # noqa: PLC0415 - only scoping-filter files need it here

    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise UsageProblem(f"cannot read {path}: {exc}") from None


class _Printer:
    """Streams log entries (to the terminal and to --log) as they are written, with names instead of ids."""

    def __init__(self, directory: EntraDirectory, options: EntraOptions, echo: Callable[[str], None]) -> None:
        self.directory = directory
        self.options = options
        self.echo = echo
        self.log_file: IO[str] | None = None
        self.entries: list[LogEntry] = []

    def name(self, kind: str, source_id: str) -> str:
        core = self.directory.core
        if kind == "user" and source_id in core.users:
            return core.users[source_id].login
        if kind == "group" and source_id in core.groups:
            return core.groups[source_id].name
        return source_id

    def __call__(self, entry: LogEntry) -> None:
        self.entries.append(entry)
        if self.log_file is not None:
            record = {**asdict(entry), "name": self.name(entry.kind, entry.source_id)}
            self.log_file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.log_file.flush()
        unchanged = entry.code == Code.SYNCHRONIZATION_SKIPPED
        if self.options.quiet or (unchanged and not self.options.verbose):
            return
        target = f" -> {entry.target_id}" if entry.target_id else ""
        code = f" [{entry.code}]" if entry.code else ""
        detail = f": {entry.detail}" if entry.detail else ""
        self.echo(
            f"  cycle {entry.cycle} {entry.kind} {self.name(entry.kind, entry.source_id)}{target}: "
            f"{entry.action} {entry.outcome}{code}{detail}"
        )


def summarize(entries: list[LogEntry], name: Callable[[str, str], str]) -> list[str]:
    """Per kind, what was done; then one line per distinct failure with its count and a few names."""
    lines = []
    for kind in ("user", "group"):
        mine = [e for e in entries if e.kind == kind and e.source_id != "*"]
        if not mine:
            continue
        done = Counter(e.action.value for e in mine if e.outcome is Outcome.SUCCESS)
        skipped = sum(1 for e in mine if e.outcome is Outcome.SKIPPED)
        staged = sum(1 for e in mine if e.outcome is Outcome.STAGED)
        failed = sum(1 for e in mine if e.outcome is Outcome.FAILURE)
        parts = [
            f"{done[a]} {w}"
            for a, w in (("Create", "created"), ("Update", "updated"), ("Disable", "disabled"), ("Delete", "deleted"))
        ]
        parts += [f"{skipped} skipped"] + ([f"{staged} staged"] if staged else []) + [f"{failed} failed"]
        lines.append(f"{kind}s: {', '.join(parts)}")
    causes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for entry in entries:
        if entry.outcome is Outcome.FAILURE:
            causes[(entry.code or "", entry.detail)].append(name(entry.kind, entry.source_id))
    for (code, detail), names in sorted(causes.items(), key=lambda item: -len(item[1])):
        shown = ", ".join(names[:_EXAMPLES]) + (f" and {len(names) - _EXAMPLES} more" if len(names) > _EXAMPLES else "")
        lines.append(f"failed {len(names)}x [{code}] {detail or '(no detail)'} — {shown}")
    return lines


def run_entra(
    directory_path: Path,
    connection: ConnectionOptions,
    options: EntraOptions,
    *,
    echo: Callable[[str], None] = click.echo,
    progress: ProgressCallback | None = None,
) -> list[LogEntry]:
    """Run the job as asked; return this run's log entries. UsageProblem (exit 2) for anything that stops the
    run before it starts; TargetFailed (exit 1) when objects failed, escrows wait or the job is in quarantine."""
    unknown = [flag for flag in options.flags if flag != FLAG]
    if unknown:
        raise UsageProblem(f"unknown Entra feature flag {unknown[0]!r}; the supported flag is {FLAG}")
    if options.restart and options.reset:
        raise UsageProblem("give either --restart or --reset (a full reset also restarts)")
    if options.on_demand and options.test_connection:
        raise UsageProblem("give either --on-demand or --test-connection")
    oauth = options.oauth
    if oauth is not None and connection.credentials_given():
        raise UsageProblem("give either --token (the Secret Token) or OAuth client credentials, not both")
    if oauth is None and not connection.credentials_given():
        raise UsageProblem("give --token (the Secret Token, or set AUP_SCIM_TOKEN) or OAuth client credentials")
    if oauth is not None and connection.auth != "bearer":
        raise UsageProblem("--auth does not apply to OAuth client credentials (Entra sends 'Bearer <access token>')")
    # Entra sends the Secret Token as "Bearer <token>" or an OAuth access token (§1): no other scheme.
    conn = connection.resolve(
        allowed=("bearer",), who="Entra sends 'Bearer <token>' or OAuth client credentials", oauth=oauth
    )
    try:
        directory = load_entra_directory(directory_path)
        app = ENTRA_APPS[options.app] if options.app else None
        users, groups = app.mappings() if app else (DEFAULT_USER_MAPPING, DEFAULT_GROUP_MAPPING)
        if options.mapping_path:
            users, groups = load_mappings(options.mapping_path, users, groups)
        settings, scoping = _settings(directory, options)
        if app is not None:  # the preset knows whether its app is from the gallery (docs/entra-idp.md §4)
            settings = replace(settings, gallery_app=app.gallery_app)
        if conn.app is None:  # a live target gets real concurrent PATCHes (docs/entra-idp.md §3.5)
            settings = replace(settings, concurrency="threads")
        job_path = options.job_path or job_path_for(directory_path)
        record = load_job(job_path)
        links = LinkStore(options.links_path or entra_links_path_for(directory_path), save_every=50)
        on_demand = [directory.core.find_user(text).id for text in options.on_demand]
    except ConfigurationError as exc:
        raise UsageProblem(str(exc)) from None
    base, flagged = split_tenant_url(conn.base_url)
    if record.target is not None and record.target != base and not options.reset:
        raise UsageProblem(
            f"the Entra job in {job_path} provisions {record.target}, not {base}: "
            "give --reset to start a new job against this target, or another --job file"
        )
    if options.dialect is not None:
        profile = PROFILES[options.dialect]
    else:
        profile = PROFILES[FLAG] if FLAG in options.flags else (flagged or ENTRA_DEFAULT)
    clock = SkippingClock(record.clock_offset)
    token_http: httpx.Client | None = None
    auth: httpx.Auth
    before_cycle = None
    target = replace(conn, base_url=base)
    if oauth is not None:
        token_http = target.token_http()
        oauth_auth = ClientCredentialsAuth.of(oauth, token_http, now=clock.now)
        auth, before_cycle = oauth_auth, oauth_auth.ensure_token
    else:
        auth = secret_token_auth(conn.credentials.token if isinstance(conn.credentials, Bearer) else "")
    try:
        _preflight(target, auth)
    except BaseException:
        if token_http is not None:
            token_http.close()
        raise
    printer = _Printer(directory, options, echo)
    log = ProvisioningLog(entries=list(record.log), listeners=[printer])
    writer = CassetteWriter(options.cassette) if options.cassette else None
    hooks = Wiretap(profile.source, sink=writer.write).hooks if writer is not None else None
    http = target.http(auth, hooks=hooks, headers=profile.headers)

    def close() -> None:
        http.close()
        for closable in (token_http, writer, printer.log_file):
            if closable is not None:
                closable.close()

    try:
        emulator = EntraEmulator(
            directory,
            http,
            profile,
            settings=settings,
            user_mapping=users,
            group_mapping=groups,
            scoping=scoping,
            links=links,
            clock=clock,
            log=log,
            before_cycle=before_cycle,
            progress=progress,
            state=JobRecord().state if options.reset else record.state,
        )
        if options.log_path is not None:
            printer.log_file = options.log_path.open("a", encoding="utf-8")
    except (ConfigurationError, OSError) as exc:
        close()
        raise UsageProblem(str(exc)) from None
    try:
        if options.reset or options.restart:
            emulator.restart(full=options.reset)
            full = " with a full reset (links and memberships sent forgotten)" if options.reset else " (links kept)"
            echo(f"provisioning restarted{full}")
        if options.approve_deletions:
            emulator.approve_staged_deletions()
        _act(emulator, options, echo, on_demand)
    except ConfigurationError as exc:
        raise UsageProblem(str(exc)) from None
    finally:
        # Saved whatever happened, Ctrl-C included: the next run resumes from what was really sent.
        try:
            links.save()
            record.state, record.clock_offset, record.target, record.log = (
                emulator.state,
                clock.skipped,
                base,
                log.entries,
            )
            save_job(job_path, record, clock.now())
        except OSError as exc:
            echo(f"cannot save the Entra job to {job_path}: {exc}")
        finally:
            close()
    _conclude(emulator, printer, echo)
    return printer.entries


def _preflight(target: Target, auth: httpx.Auth) -> None:
    try:
        preflight(target, auth)
    except ConfigurationError as exc:  # the OAuth token endpoint refused or is not one
        raise UsageProblem(str(exc)) from None


def _act(emulator: EntraEmulator, options: EntraOptions, echo: Callable[[str], None], on_demand: list[str]) -> None:
    if options.test_connection:
        test = emulator.test_connection()
        if not test.ok:
            raise TargetFailed(f"test connection failed: {test.detail}")
        echo("test connection succeeded")
        return
    if on_demand:
        for user_id in on_demand:
            emulator.provision_on_demand(user_id)
        return
    reports = emulator.run_cycles(options.cycles)
    for report in reports:
        echo(f"cycle {report.number} ({report.kind}): {len(report.entries)} log entries")


def _conclude(emulator: EntraEmulator, printer: _Printer, echo: Callable[[str], None]) -> None:
    """The summary, then exit 1 when the target left anything undone."""
    for line in summarize(printer.entries, printer.name):
        echo(line)
    state = emulator.state
    failures = sum(1 for entry in printer.entries if entry.outcome is Outcome.FAILURE)
    problems = []
    if state.quarantine is not None:
        detail = f" ({state.quarantine.detail})" if state.quarantine.detail else ""
        problems.append(f"the job is in quarantine: {state.quarantine.reason}{detail}")
        echo(f"job in quarantine: {state.quarantine.reason}{detail}")
    if state.disabled:
        problems.append("the job is disabled; the next run starts it again")  # docs/entra-idp.md §7
        echo("job disabled")
    if state.escrows:
        problems.append(f"{len(state.escrows)} object(s) in escrow, retried by a later run")
    if failures:
        problems.append(f"{failures} failure(s) in the provisioning log")
    if problems:
        raise TargetFailed("; ".join(problems))


def _app_choice(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A named app preset, or a one-line usage error listing them (exit 2)."""
    if value is not None and value not in ENTRA_APPS:
        raise UsageProblem(f"--app {value!r} is not a known app; choose from {', '.join(sorted(ENTRA_APPS))}")
    return value


# Shared by `aup sync` (Okta and Entra: emulators/okta/apps.py holds the same names) and `aup entra-sync`.
app_option = click.option(
    "--app",
    metavar="NAME",
    callback=_app_choice,
    help=f"Attribute-mapping preset of a known app ({', '.join(sorted(ENTRA_APPS))}); --mapping merges over it.",
)


def entra_command_options(fn: Any) -> Any:
    """The Entra options, the OAuth options and --dialect, in help order."""
    for option in reversed(ENTRA_OPTIONS):
        fn = option(fn)
    return fn


def oauth_from(
    token_url: str | None,
    client_id: str | None,
    client_secret: str | None,
    scopes: tuple[str, ...],
    credentials_in: CredentialsIn,
) -> ClientCredentials | None:
    if token_url is None:
        if client_id or client_secret or scopes:
            raise UsageProblem("--client-id, --client-secret and --oauth-scope need --token-url")
        return None
    if not client_id or not client_secret:
        raise UsageProblem("--token-url needs --client-id and --client-secret")
    return ClientCredentials(token_url, client_id, client_secret, scopes, credentials_in)


OAUTH_OPTIONS = (
    click.option("--token-url", help="Entra: OAuth 2.0 token endpoint (client credentials grant)."),
    click.option("--client-id", help="Entra: OAuth client id."),
    click.option(
        "--client-secret", envvar="AUP_CLIENT_SECRET", help="Entra: OAuth client secret (env AUP_CLIENT_SECRET)."
    ),
    click.option("--oauth-scope", "oauth_scopes", multiple=True, help="Entra: OAuth scope (repeatable)."),
    click.option(
        "--credentials-in",
        type=click.Choice(["basic", "post", "both"]),
        default="basic",
        show_default=True,
        help="Entra: where the client secret goes in the token request.",
    ),
)


def oauth_command_options(fn: Any) -> Any:
    for option in reversed(OAUTH_OPTIONS):
        fn = option(fn)
    return fn


@click.command("entra-sync")
@click.option(
    "--directory", "directory_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@connection_options(target_help="Tenant URL; append ?aadOptscim062020 to select that dialect.")
@click.option("--dialect", type=click.Choice(sorted(PROFILES)), help="Entra wire dialect [default: from the URL].")
@click.option("--mapping", "mapping_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@app_option
@click.option(
    "--links",
    "links_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="[default: <directory>.entra-links.json]",
)
@click.option("--cassette", type=click.Path(dir_okay=False, path_type=Path), help="Append every exchange (redacted).")
@entra_command_options
@oauth_command_options
@click.option("-q", "--quiet", is_flag=True, help="Only the summary and the failures.")
@click.option("-v", "--verbose", is_flag=True, help="Also the objects skipped as unchanged.")
@progress_option
def entra_sync(
    directory_path: Path,
    connection: ConnectionOptions,
    token_url: str | None,
    client_id: str | None,
    client_secret: str | None,
    oauth_scopes: tuple[str, ...],
    credentials_in: CredentialsIn,
    progress: bool | None,
    **values: Any,
) -> None:
    """Run Microsoft Entra ID provisioning cycles against a SCIM server (the job resumes between runs)."""
    oauth = oauth_from(token_url, client_id, client_secret, oauth_scopes, credentials_in)
    options = replace(entra_options_from(values), oauth=oauth)
    run_entra(directory_path, connection, options, progress=progress_printer(progress))
