"""``aup sync``: drive an emulated IdP against a SCIM server, as a whole sync or one admin action at a time.

``aup sync --directory people.yaml --target URL --token T`` tests the connection, provisions every
assigned user and pushes the pushed groups. Subcommands perform one admin action each
(``aup sync ... assign-user ann@example.com``) and save the changed directory back to its file.
Links and failed tasks live next to the directory, so a later run resumes or retries.
"""

from __future__ import annotations

import functools
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import click

from aup.commands.connection import ConnectionOptions, connection_options, preflight
from aup.commands.console import ConsoleJob, open_job, parse_changes, parse_settings, perform, send
from aup.commands.entra import (
    app_option,
    entra_command_options,
    entra_options_from,
    oauth_command_options,
    oauth_from,
    run_entra,
)
from aup.commands.exits import TargetFailed, UsageProblem
from aup.commands.progress import progress_option, progress_printer
from emulators.core.directory import Directory, load_directory, save_directory
from emulators.core.errors import ConfigurationError
from emulators.core.linkstore import LinkStore, links_path_for
from emulators.core.mapping import load_mapping
from emulators.entra import PROFILES as ENTRA_PROFILES
from emulators.okta import OKTA_DEFAULT_MAPPING, PROFILES, OktaEmulator, OktaSettings, Task, TaskLog, TaskStatus
from emulators.okta.apps import app_mapping
from emulators.registry import idps
from scimcore.client import Wiretap
from scimcore.target import Target
from scimcore.wire import CassetteWriter

_EXAMPLES = 3  # task titles shown per failure cause
# What each kind of Okta task did to the app, for the summary line of a run.
_DONE = {
    "provision_user": "user(s) provisioned",
    "push_profile": "profile(s) pushed",
    "deprovision_user": "user(s) deactivated",
    "activate_user": "user(s) reactivated",
    "sync_password": "password(s) pushed",
    "create_push_group": "group(s) created",
    "link_push_group": "group(s) linked",
    "push_membership": "membership change(s)",
    "push_now": "group(s) pushed whole",
    "rename_group": "group(s) renamed",
    "delete_push_group": "group(s) deleted",
}
# Options only one IdP reads: given for the other, they are refused, never ignored. Every other IdP is driven
# through its admin console (aup/commands/console.py), which reads neither these nor _OKTA_AND_ENTRA.
_OKTA_AND_ENTRA = ("mapping", "app", "log_path", "verbose")
_OKTA_ONLY = ("profile", "tasks_path", "import_groups", "rename_groups", "sync_password", "save")
_NOT_OKTA = ("dialect",)  # Entra's dialect, or another IdP's profile; Okta's is --profile
_CONSOLE_ONLY = ("settings",)  # the console IdPs' settings (emulators/core/console.py)

_ENTRA_ONLY = (
    "cycles",
    "flags",
    "job_path",
    "scope",
    "scoping_filter",
    "skip_out_of_scope_deletions",
    "deletion_threshold",
    "target_actions",
    "restart",
    "reset",
    "approve_deletions",
    "on_demand",
    "test_connection",
    "token_url",
    "client_id",
    "client_secret",
    "oauth_scopes",
    "credentials_in",
)
# who reads an option, for the refusal of one given to another IdP
_OWNERS = (
    (_OKTA_ONLY, "Okta's"),
    (_ENTRA_ONLY, "Entra's"),
    (_NOT_OKTA, "for the other IdPs"),
    (_CONSOLE_ONLY, "for IdPs driven by their admin console"),
)


@dataclass
class _Run:
    emulator: OktaEmulator
    directory: Directory
    directory_path: Path
    tasks_path: Path
    save: bool
    verbose: bool
    quiet: bool
    log_path: Path | None = None
    connection: Target | None = None
    connected: bool = False

    def connect(self) -> None:
        """The pre-flight, once, after every local input was checked and before the first request."""
        if self.connection is not None and not self.connected:
            preflight(self.connection)
            self.connected = True


@dataclass
class _Setup:
    """The group's options; the Okta job is built only when an action needs it, so ``ACTION --help`` works
    without a directory or a target."""

    ctx: click.Context
    idp: str
    directory_path: Path | None
    connection: ConnectionOptions
    values: dict[str, Any]
    progress: bool | None
    run: _Run | None = field(default=None)

    def directory_file(self) -> Path:
        if self.directory_path is None:
            raise UsageProblem("--directory is required: the IdP directory file (see 'aup directory generate')")
        return self.directory_path

    def okta(self, *, offline: bool = False) -> _Run:
        """The Okta job; ``offline`` actions (listing tasks) skip the connection and its pre-flight."""
        if self.run is None:
            self.run = _okta_run(self, offline=offline)
        return self.run


def _given(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source not in (click.core.ParameterSource.DEFAULT,)


class IdpChoice(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2; 8.1 is allowed too
    """An IdP of the registry (emulators/registry.py), read when the option is parsed, so an IdP registered
    by a plugin or a test is a valid ``--idp`` as soon as it is registered."""

    name = "idp"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(idps().names()) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if value not in idps():
            self.fail(f"{value!r} is not a registered IdP; choose from {', '.join(idps().names())}", param, ctx)
        return str(value)


def _refuse_other_idps_options(ctx: click.Context, idp: str) -> None:
    """Options only Okta or only Entra reads are refused for any other IdP, never ignored."""
    foreign = {
        "okta": _ENTRA_ONLY + _NOT_OKTA + _CONSOLE_ONLY,
        "entra": _OKTA_ONLY + _CONSOLE_ONLY,
    }.get(idp, _OKTA_ONLY + _ENTRA_ONLY + _OKTA_AND_ENTRA)
    for name in foreign:
        if _given(ctx, name):
            param = next(p for p in ctx.command.params if p.name == name)
            flag = param.opts[0] if param.opts else name
            owner = next((label for names, label in _OWNERS if name in names), "Okta's and Entra's")
            raise UsageProblem(f"{flag} is {owner}; it does nothing with --idp {idp}")
    if idp == "entra" and ctx.params.get("dialect") not in (None, *ENTRA_PROFILES):
        raise UsageProblem(f"--dialect {ctx.params['dialect']!r}: Entra's are {', '.join(sorted(ENTRA_PROFILES))}")


@click.group(invoke_without_command=True)
@click.option("--idp", type=IdpChoice(), default="okta", show_default=True, help="IdP to emulate.")
@click.option(
    "--profile",
    type=click.Choice(sorted(PROFILES)),
    default="oin",
    show_default=True,
    help="Okta app flavour: OIN, AIW, or OIN listing members in the group POST.",
)
@click.option(
    "--dialect",
    metavar="NAME",
    help=f"Wire dialect: Entra's ({'|'.join(sorted(ENTRA_PROFILES))}) [default: from the URL], or another "
    "registered IdP's profile (PingFederate: patch|put) [default: its own].",
)
@click.option(
    "--setting",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="A setting of an IdP driven by its admin console, e.g. remove_user_action=delete for PingFederate "
    "(repeatable; true and false are booleans).",
)
@click.option(
    "--directory",
    "directory_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The IdP directory file (required).",
)
@connection_options()
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Custom mapping YAML.")
@app_option
@click.option(
    "--links",
    type=click.Path(dir_okay=False, path_type=Path),
    help="[default: <directory>.links.json for Okta, <directory>.<idp>-links.json for the others]",
)
@click.option(
    "--tasks",
    "tasks_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Okta: failed tasks [default: <directory>.tasks.json]",
)
@click.option(
    "--cassette", type=click.Path(dir_okay=False, path_type=Path), help="Append every exchange (redacted) here."
)
@click.option("--import-groups/--no-import-groups", default=False, show_default=True, help="Okta: import groups too.")
@click.option("--rename-groups/--no-rename-groups", default=True, show_default=True, help="Okta: push renames.")
@click.option("--sync-password/--no-sync-password", default=False, show_default=True, help="Okta: push passwords.")
@click.option("--save/--no-save", default=True, show_default=True, help="Okta: write directory changes back.")
@entra_command_options
@oauth_command_options
@click.option("-q", "--quiet", is_flag=True, help="Only the summary and the failures.")
@click.option("-v", "--verbose", is_flag=True, help="List every task (Okta) or every log entry (Entra).")
@progress_option
@click.pass_context
def sync(
    ctx: click.Context,
    /,
    idp: str,
    directory_path: Path | None,
    connection: ConnectionOptions,
    progress: bool | None,
    **values: Any,
) -> None:
    """Sync a directory to a SCIM server as the IdP would; a subcommand performs one admin action.

    Okta is event-driven: each subcommand is one admin action. Entra works in provisioning cycles: edit
    the directory file and run again; the job (what was sent, watermark, escrow, quarantine, log) resumes.
    Any other registered IdP provisions the directory file through its admin console; its subcommands are
    the console's actions (assign, update, deactivate, reactivate, group push, members, rename, force-sync).
    """
    _refuse_other_idps_options(ctx, idp)
    setup = _Setup(ctx, idp, directory_path, connection, values, progress)
    ctx.obj = setup
    if ctx.invoked_subcommand is not None:
        if idp == "entra" and ctx.invoked_subcommand != "test-connection":
            raise UsageProblem(
                "single admin actions are Okta's; with --idp entra, edit the directory file and run cycles "
                "(or --on-demand USER)"
            )
        return
    if idp == "entra":
        _entra(setup)
        return
    if idp != "okta":
        _console_sync(setup)
        return
    run = setup.okta()
    run.connect()
    _perform(run, run.emulator.sync_all, changes_directory=False)


def _entra(setup: _Setup, **overrides: Any) -> None:
    oauth = oauth_from(
        setup.values["token_url"],
        setup.values["client_id"],
        setup.values["client_secret"],
        setup.values["oauth_scopes"],
        setup.values["credentials_in"],
    )
    # sync's --mapping and --links are Entra's mapping_path and links_path: passed on, never dropped
    values = setup.values
    paths = {"mapping_path": values["mapping"], "links_path": values["links"]}
    options = replace(entra_options_from(values), oauth=oauth, **paths, **overrides)
    run_entra(setup.directory_file(), setup.connection, options, progress=progress_printer(setup.progress))


def _console_job(setup: _Setup) -> ConsoleJob:
    """Any other registered IdP: its admin console on the directory file (aup/commands/console.py)."""
    opts = setup.values
    return open_job(
        setup.ctx,
        setup.idp,
        setup.directory_file(),
        setup.connection,
        links_path=opts["links"],
        cassette=opts["cassette"],
        profile=opts["dialect"],
        settings=parse_settings(opts["settings"]),
    )


def _console_sync(setup: _Setup) -> None:
    job = _console_job(setup)
    send(job, job.console.provision_all, quiet=bool(setup.values["quiet"]))


def _okta_run(setup: _Setup, *, offline: bool) -> _Run:
    opts = setup.values
    directory_path = setup.directory_file()
    conn = None if offline else setup.connection.resolve()
    try:
        directory = load_directory(directory_path)
        base = app_mapping(opts["app"]) if opts["app"] else OKTA_DEFAULT_MAPPING  # --app, then --mapping over it
        mapping = load_mapping(opts["mapping"], base) if opts["mapping"] else base
        links = LinkStore(opts["links"] or links_path_for(directory_path), save_every=50)
        tasks_path = opts["tasks_path"] or directory_path.with_name(f"{directory_path.stem}.tasks.json")
        tasks = TaskLog.load(tasks_path)
    except ConfigurationError as exc:
        raise UsageProblem(str(exc)) from None
    profile = PROFILES[opts["profile"]]
    settings = OktaSettings(
        import_groups=opts["import_groups"], rename_groups=opts["rename_groups"], sync_password=opts["sync_password"]
    )
    http = None
    if conn is not None:
        hooks = None
        if opts["cassette"]:
            writer = CassetteWriter(opts["cassette"])
            setup.ctx.call_on_close(writer.close)
            hooks = Wiretap(profile.source, sink=writer.write).hooks
        http = conn.http(hooks=hooks)
        setup.ctx.call_on_close(http.close)
    try:
        emulator = OktaEmulator(
            directory,
            http,  # type: ignore[arg-type]  # offline actions send nothing
            profile,
            settings=settings,
            mapping=mapping,
            links=links,
            tasks=tasks,
            progress=progress_printer(setup.progress),
        )
    except ConfigurationError as exc:
        raise UsageProblem(str(exc)) from None
    verbose, quiet = bool(opts["verbose"]), bool(opts["quiet"])
    return _Run(emulator, directory, directory_path, tasks_path, opts["save"], verbose, quiet, opts["log_path"], conn)


def _perform(run: _Run, action: Callable[[], list[Task]], *, changes_directory: bool) -> None:
    """Run one action, save the state files, print the tasks; failures end with a one-line error (exit 1)."""
    first = len(run.emulator.tasks.tasks)
    try:
        done = action()
    except ConfigurationError as exc:
        raise UsageProblem(str(exc)) from None
    finally:
        # Saved whatever happened, Ctrl-C included: links and failed tasks are what a later run resumes from.
        try:
            run.emulator.links.save()
            TaskLog(run.emulator.tasks.failed(), run.emulator.tasks.app_groups).save(run.tasks_path)
            if run.log_path is not None:
                with run.log_path.open("a", encoding="utf-8") as log:
                    for task in run.emulator.tasks.tasks[first:]:
                        log.write(json.dumps(task.to_data(), ensure_ascii=False) + "\n")
        except OSError as exc:
            raise UsageProblem(f"cannot save the sync state: {exc}") from None
    try:
        if changes_directory and run.save:
            save_directory(run.directory, run.directory_path)
    except OSError as exc:
        raise UsageProblem(f"cannot save the directory: {exc}") from None
    failed = [task for task in done if task.status is TaskStatus.FAILED]
    for task in done:
        if not run.quiet and (run.verbose or task in failed):
            click.echo(f"{task.status.value:6} #{task.id} {task.title}" + (f": {task.error}" if task.error else ""))
    if not done:
        click.echo("nothing sent (Okta sends no request for this)")
    else:
        click.echo(f"{len(done)} task(s): {len(done) - len(failed)} done, {len(failed)} failed")
        kinds = Counter(task.action for task in done if task.status is TaskStatus.DONE and task.action in _DONE)
        if kinds:
            click.echo(
                "done: " + ", ".join(f"{kinds[action]} {what}" for action, what in _DONE.items() if kinds[action])
            )
    causes: dict[str, list[str]] = defaultdict(list)
    for task in failed:
        causes[task.error].append(task.title)
    if len(failed) > 1:
        for error, titles in sorted(causes.items(), key=lambda item: -len(item[1])):
            more = f" and {len(titles) - _EXAMPLES} more" if len(titles) > _EXAMPLES else ""
            click.echo(f"failed {len(titles)}x: {error} — {'; '.join(titles[:_EXAMPLES])}{more}")
    if failed:
        raise TargetFailed(f"{len(failed)} task(s) failed; list them with 'tasks', retry them with 'retry'")


def _pass_run(*, offline: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Hand an action the Okta job, built (and pre-flighted, unless ``offline``) only once the action runs."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(setup: _Setup, /, *args: Any, **kwargs: Any) -> Any:
            if setup.idp not in ("okta", "entra"):  # the action of the IdP's console of the same meaning
                action = click.get_current_context().info_name or fn.__name__
                perform(_console_job(setup), action, kwargs, quiet=bool(setup.values["quiet"]))
                return None
            run = setup.okta(offline=offline)
            # USER and GROUP arguments are checked against the directory before anything is sent
            if "user" in kwargs:
                _user(run, kwargs["user"])
            if "group" in kwargs:
                _group(run, kwargs["group"])
            if not offline:
                run.connect()
            return fn(run, *args, **kwargs)

        return click.pass_obj(wrapper)

    return decorate


def _user_action(name: str, method: str, summary: str) -> None:
    @sync.command(name, help=f"{summary} USER is a login or an Okta user id.")
    @click.argument("user")
    @_pass_run()
    def command(run: _Run, user: str) -> None:
        _perform(run, lambda: getattr(run.emulator, method)(_user(run, user)), changes_directory=True)


def _group_action(name: str, method: str, summary: str) -> None:
    @sync.command(name, help=f"{summary} GROUP is a group name or an Okta group id.")
    @click.argument("group")
    @_pass_run()
    def command(run: _Run, group: str) -> None:
        _perform(run, lambda: getattr(run.emulator, method)(_group(run, group)), changes_directory=True)


def _user(run: _Run, text: str) -> str:
    try:
        return run.directory.find_user(text).id
    except ConfigurationError as exc:
        raise UsageProblem(str(exc)) from None


def _group(run: _Run, text: str) -> str:
    try:
        return run.directory.find_group(text).id
    except ConfigurationError as exc:
        raise UsageProblem(str(exc)) from None


for _name, _method, _summary in (
    ("assign-user", "assign_user", "Assign the app to USER (provisions it)."),
    ("unassign-user", "unassign_user", "Remove USER's direct assignment (deactivates it if nothing else assigns it)."),
    ("provision-user", "provision_user", "Provision an assigned USER that is not in the app yet."),
    ("deactivate-user", "deactivate_user", "Deactivate USER in the IdP."),
    ("reactivate-user", "reactivate_user", "Reactivate a deactivated USER."),
    ("suspend-user", "suspend_user", "Suspend USER (Okta sends nothing)."),
    ("unsuspend-user", "unsuspend_user", "Unsuspend USER (Okta sends nothing)."),
    ("delete-user", "delete_user", "Delete USER (deactivated first; no DELETE is sent)."),
    ("sync-password", "sync_password", "Push a random password for USER (needs --sync-password)."),
):
    _user_action(_name, _method, _summary)

for _name, _method, _summary in (
    ("assign-group", "assign_group", "Assign the app to GROUP: every member is provisioned."),
    ("unassign-group", "unassign_group", "Remove GROUP's assignment: members left unassigned are deactivated."),
    ("push-now", "push_now", "Overwrite GROUP's members in the app with the IdP's list."),
    ("deactivate-push", "deactivate_push", "Pause pushing GROUP."),
    ("activate-push", "activate_push", "Resume pushing GROUP (pushes its members at once)."),
):
    _group_action(_name, _method, _summary)


@sync.command("test-connection")
@click.pass_obj
def test_connection(setup: _Setup) -> None:
    """Test the API credentials as the IdP's admin console does."""
    if setup.idp == "entra":
        _entra(setup, test_connection=True)
        return
    if setup.idp != "okta":
        job = _console_job(setup)  # its pre-flight is the test: one discovery request, checked
        click.echo(f"{job.spec.label}: the connection test passed")
        return
    run = setup.okta()
    run.connect()
    _perform(run, run.emulator.test_connection, changes_directory=False)


@sync.command("force-sync")
@_pass_run()
def force_sync(run: _Run) -> None:
    """Re-push the profile of every provisioned user (never changes active)."""
    _perform(run, run.emulator.force_sync, changes_directory=False)


@sync.command("import")
@click.option(
    "--match",
    type=click.Choice(["username", "email"]),
    default="username",
    show_default=True,
    help="User Creation & Matching: an exact match is the same username, or the same primary email.",
)
@click.option("--partial-matches", is_flag=True, help="Also match on first and last name alone (a partial match).")
@click.option(
    "--confirm",
    type=click.Choice(["none", "exact", "all"]),
    default="none",
    show_default=True,
    help="Confirm (link) the exact matches, or exact and partial ones; unconfirmed users stay unlinked.",
)
@_pass_run()
def import_users(run: _Run, match: str, partial_matches: bool, confirm: str) -> None:
    """Import users (and groups with --import-groups) from the app, match them to Okta users and confirm."""
    emulator = run.emulator
    emulator.settings = replace(emulator.settings, import_match=match, allow_partial_matches=partial_matches)

    def step() -> list[Task]:
        result = emulator.import_users()
        if confirm != "none":
            emulator.confirm_import(partial=confirm == "all")
        counts = result.counts()
        click.echo(
            f"{result.scanned} users scanned, {len(result.users)} active imported, {len(result.groups)} groups; "
            f"{counts['exact']} exact, {counts['partial']} partial, {counts['none']} unmatched; "
            f"{counts['confirmed']} confirmed"
        )
        return [task for task in (result.task,) if task is not None]

    _perform(run, step, changes_directory=False)


@sync.command("update-user")
@click.argument("user")
@click.option("--set", "assignments", multiple=True, metavar="ATTR=VALUE", help="Set a profile attribute (repeatable).")
@click.option("--unset", "removals", multiple=True, metavar="ATTR", help="Remove a profile attribute (repeatable).")
@_pass_run()
def update_user(run: _Run, user: str, assignments: tuple[str, ...], removals: tuple[str, ...]) -> None:
    """Change USER's profile; a change to a mapped attribute is pushed."""
    changes = parse_changes(assignments, removals)
    _perform(run, lambda: run.emulator.update_profile(_user(run, user), changes), changes_directory=True)


@sync.command("add-member")
@click.argument("group")
@click.argument("user")
@_pass_run()
def add_member(run: _Run, group: str, user: str) -> None:
    """Add USER to GROUP (provisions or pushes as the group requires)."""
    _perform(run, lambda: run.emulator.add_group_member(_group(run, group), _user(run, user)), changes_directory=True)


@sync.command("remove-member")
@click.argument("group")
@click.argument("user")
@_pass_run()
def remove_member(run: _Run, group: str, user: str) -> None:
    """Remove USER from GROUP."""
    action = lambda: run.emulator.remove_group_member(_group(run, group), _user(run, user))  # noqa: E731
    _perform(run, action, changes_directory=True)


@sync.command("push-group")
@click.argument("group")
@click.option("--link-to", metavar="SCIM_ID", help="Link to this existing app group instead of creating one.")
@_pass_run()
def push_group(run: _Run, group: str, link_to: str | None) -> None:
    """Push GROUP: create it in the app (or link it), then keep its members in sync."""
    _perform(run, lambda: run.emulator.push_group(_group(run, group), link_to=link_to), changes_directory=True)


@sync.command("rename-group")
@click.argument("group")
@click.argument("new_name")
@_pass_run()
def rename_group(run: _Run, group: str, new_name: str) -> None:
    """Rename GROUP in the IdP (renamed in the app when --rename-groups)."""
    _perform(run, lambda: run.emulator.rename_group(_group(run, group), new_name), changes_directory=True)


@sync.command("unlink-group")
@click.argument("group")
@click.option("--delete/--leave", required=True, help="Delete the group in the app, or leave it there.")
@_pass_run()
def unlink_group(run: _Run, group: str, delete: bool) -> None:
    """Stop pushing GROUP."""
    _perform(run, lambda: run.emulator.unlink_group(_group(run, group), delete=delete), changes_directory=True)


@sync.command("tasks")
@_pass_run(offline=True)
def list_tasks(run: _Run) -> None:
    """List the failed tasks kept from earlier runs."""
    failed = run.emulator.tasks.failed()
    for task in failed:
        click.echo(f"#{task.id} {task.title} (attempts {task.attempts}): {task.error}")
    click.echo(f"{len(failed)} failed task(s)")


@sync.command("retry")
@click.argument("task_ids", nargs=-1, type=int)
@_pass_run()
def retry(run: _Run, task_ids: tuple[int, ...]) -> None:
    """Retry failed tasks (all of them, or the TASK_IDS given)."""
    try:
        chosen = [run.emulator.tasks.get(task_id) for task_id in task_ids] or run.emulator.tasks.failed()
    except KeyError as exc:
        raise UsageProblem(str(exc.args[0])) from None
    _perform(run, lambda: [run.emulator.retry(task.id) for task in chosen], changes_directory=False)
