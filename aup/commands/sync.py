"""``aup sync``: drive an emulated IdP against a SCIM server, as a whole sync or one admin action at a time.

``aup sync --directory people.yaml --target URL --token T`` tests the connection, provisions every
assigned user and pushes the pushed groups. Subcommands perform one admin action each
(``aup sync ... assign-user ann@example.com``) and save the changed directory back to its file.
Links and failed tasks live next to the directory, so a later run resumes or retries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import httpx

from aup.commands.entra import run_entra_sync
from aup.commands.progress import progress_option, progress_printer
from emulators.core.directory import Directory, load_directory, save_directory
from emulators.core.errors import ConfigurationError
from emulators.core.linkstore import LinkStore, links_path_for
from emulators.core.mapping import load_mapping
from emulators.okta import OKTA_DEFAULT_MAPPING, PROFILES, OktaEmulator, OktaSettings, Task, TaskLog, TaskStatus
from scimcore.client import BearerAuth, HeaderTokenAuth, Wiretap, basic_auth, make_http
from scimcore.wire import CassetteWriter


@dataclass
class _Run:
    emulator: OktaEmulator
    directory: Directory
    directory_path: Path
    tasks_path: Path
    save: bool
    verbose: bool


def _auth(kind: str, token: str | None) -> httpx.Auth | None:
    if kind == "none":
        return None
    if not token:
        raise click.UsageError("--token is required (or set AUP_SCIM_TOKEN); use --auth none for an open server")
    if kind == "header":
        return HeaderTokenAuth(token)
    if kind == "basic":
        user, sep, password = token.partition(":")
        if not sep:
            raise click.BadParameter("with --auth basic, --token must be USER:PASSWORD", param_hint="--token")
        return basic_auth(user, password)
    return BearerAuth(token)


@click.group(invoke_without_command=True)
@click.option("--idp", type=click.Choice(["okta", "entra"]), default="okta", show_default=True, help="IdP to emulate.")
@click.option("--cycles", default=1, show_default=True, type=click.IntRange(1), help="Entra: provisioning cycles.")
@click.option("--flag", "flags", multiple=True, help="Entra: feature flag, e.g. aadOptscim062020.")
@click.option(
    "--profile",
    type=click.Choice(sorted(PROFILES)),
    default="oin",
    show_default=True,
    help="Okta app flavour: OIN, AIW, or OIN listing members in the group POST.",
)
@click.option(
    "--directory", "directory_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--target", required=True, help="SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2")
@click.option("--token", envvar="AUP_SCIM_TOKEN", help="Credential (env AUP_SCIM_TOKEN); USER:PASSWORD for basic.")
@click.option(
    "--auth",
    type=click.Choice(["bearer", "header", "basic", "none"]),
    default="bearer",
    show_default=True,
    help="bearer adds 'Bearer '; header sends the token verbatim.",
)
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Custom mapping YAML.")
@click.option("--links", type=click.Path(dir_okay=False, path_type=Path), help="[default: <directory>.links.json]")
@click.option(
    "--tasks", "tasks_path", type=click.Path(dir_okay=False, path_type=Path), help="[default: <directory>.tasks.json]"
)
@click.option(
    "--cassette", type=click.Path(dir_okay=False, path_type=Path), help="Append every exchange (redacted) here."
)
@click.option("--import-groups/--no-import-groups", default=False, show_default=True)
@click.option("--rename-groups/--no-rename-groups", default=True, show_default=True)
@click.option("--sync-password/--no-sync-password", default=False, show_default=True)
@click.option("--save/--no-save", default=True, show_default=True, help="Write directory changes back to its file.")
@click.option("-v", "--verbose", is_flag=True, help="List every task, not only failed ones.")
@progress_option
@click.pass_context
def sync(
    ctx: click.Context,
    /,
    idp: str,
    profile: str,
    directory_path: Path,
    target: str,
    token: str | None,
    auth: str,
    progress: bool | None,
    **opts: Any,
) -> None:
    """Sync a directory to a SCIM server as the IdP would; a subcommand performs one admin action."""
    show_progress = progress_printer(progress)
    if idp == "entra":
        # Entra works in provisioning cycles, not admin actions (reference/entra.md §8).
        if ctx.invoked_subcommand is not None:
            raise click.UsageError("single admin actions are Okta's; with --idp entra, run cycles (--cycles N)")
        run_entra_sync(
            directory_path,
            target,
            token,
            opts["cycles"],
            opts["flags"],
            mapping_path=opts["mapping"],
            links_path=opts["links"],
            progress=show_progress,
        )
        return
    try:
        directory = load_directory(directory_path)
        mapping = load_mapping(opts["mapping"], OKTA_DEFAULT_MAPPING) if opts["mapping"] else OKTA_DEFAULT_MAPPING
        links = LinkStore(opts["links"] or links_path_for(directory_path), save_every=50)
        tasks_path = opts["tasks_path"] or directory_path.with_name(f"{directory_path.stem}.tasks.json")
        tasks = TaskLog.load(tasks_path)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    hooks = None
    if opts["cassette"]:
        writer = CassetteWriter(opts["cassette"])
        ctx.call_on_close(writer.close)
        hooks = Wiretap(PROFILES[profile].source, sink=writer.write).hooks
    http = make_http(target, _auth(auth, token), hooks=hooks)
    ctx.call_on_close(http.close)
    settings = OktaSettings(
        import_groups=opts["import_groups"], rename_groups=opts["rename_groups"], sync_password=opts["sync_password"]
    )
    try:
        emulator = OktaEmulator(
            directory,
            http,
            PROFILES[profile],
            settings=settings,
            mapping=mapping,
            links=links,
            tasks=tasks,
            progress=show_progress,
        )
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    ctx.obj = _Run(emulator, directory, directory_path, tasks_path, opts["save"], opts["verbose"])
    if ctx.invoked_subcommand is None:
        _perform(ctx.obj, emulator.sync_all, changes_directory=False)


def _perform(run: _Run, action: Callable[[], list[Task]], *, changes_directory: bool) -> None:
    """Run one action, save the state files, print the tasks; failures end with a one-line error."""
    try:
        done = action()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        run.emulator.links.save()
        TaskLog(run.emulator.tasks.failed()).save(run.tasks_path)
        if changes_directory and run.save:
            save_directory(run.directory, run.directory_path)
    except OSError as exc:
        raise click.ClickException(f"cannot save the sync state: {exc}") from None
    failed = [task for task in done if task.status is TaskStatus.FAILED]
    for task in done:
        if run.verbose or task in failed:
            click.echo(f"{task.status.value:6} #{task.id} {task.title}" + (f": {task.error}" if task.error else ""))
    if not done:
        click.echo("nothing sent (Okta sends no request for this)")
    else:
        click.echo(f"{len(done)} task(s): {len(done) - len(failed)} done, {len(failed)} failed")
    if failed:
        raise click.ClickException(f"{len(failed)} task(s) failed; list them with 'tasks', retry them with 'retry'")


def _user_action(name: str, method: str, summary: str) -> None:
    @sync.command(name, help=f"{summary} USER is a login or an Okta user id.")
    @click.argument("user")
    @click.pass_obj
    def command(run: _Run, user: str) -> None:
        _perform(run, lambda: getattr(run.emulator, method)(_user(run, user)), changes_directory=True)


def _group_action(name: str, method: str, summary: str) -> None:
    @sync.command(name, help=f"{summary} GROUP is a group name or an Okta group id.")
    @click.argument("group")
    @click.pass_obj
    def command(run: _Run, group: str) -> None:
        _perform(run, lambda: getattr(run.emulator, method)(_group(run, group)), changes_directory=True)


def _user(run: _Run, text: str) -> str:
    try:
        return run.directory.find_user(text).id
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None


def _group(run: _Run, text: str) -> str:
    try:
        return run.directory.find_group(text).id
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None


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
def test_connection(run: _Run) -> None:
    """Test the API credentials as the IdP's admin console does."""
    _perform(run, run.emulator.test_connection, changes_directory=False)


@sync.command("force-sync")
@click.pass_obj
def force_sync(run: _Run) -> None:
    """Re-push the profile of every provisioned user (never changes active)."""
    _perform(run, run.emulator.force_sync, changes_directory=False)


@sync.command("import")
@click.pass_obj
def import_users(run: _Run) -> None:
    """Import users (and groups with --import-groups) from the app; prints what was read."""
    result = run.emulator.import_users()
    click.echo(f"{result.scanned} users scanned, {len(result.users)} active imported, {len(result.groups)} groups")
    _perform(run, lambda: [task for task in (result.task,) if task is not None], changes_directory=False)


@sync.command("update-user")
@click.argument("user")
@click.option("--set", "assignments", multiple=True, metavar="ATTR=VALUE", help="Set a profile attribute (repeatable).")
@click.option("--unset", "removals", multiple=True, metavar="ATTR", help="Remove a profile attribute (repeatable).")
@click.pass_obj
def update_user(run: _Run, user: str, assignments: tuple[str, ...], removals: tuple[str, ...]) -> None:
    """Change USER's profile; a change to a mapped attribute is pushed."""
    changes: dict[str, Any] = dict.fromkeys(removals)
    for item in assignments:
        attr, sep, value = item.partition("=")
        if not sep or not attr:
            raise click.BadParameter(f"{item!r} is not ATTR=VALUE", param_hint="--set")
        changes[attr] = value
    if not changes:
        raise click.UsageError("give at least one --set ATTR=VALUE or --unset ATTR")
    _perform(run, lambda: run.emulator.update_profile(_user(run, user), changes), changes_directory=True)


@sync.command("add-member")
@click.argument("group")
@click.argument("user")
@click.pass_obj
def add_member(run: _Run, group: str, user: str) -> None:
    """Add USER to GROUP (provisions or pushes as the group requires)."""
    _perform(run, lambda: run.emulator.add_group_member(_group(run, group), _user(run, user)), changes_directory=True)


@sync.command("remove-member")
@click.argument("group")
@click.argument("user")
@click.pass_obj
def remove_member(run: _Run, group: str, user: str) -> None:
    """Remove USER from GROUP."""
    action = lambda: run.emulator.remove_group_member(_group(run, group), _user(run, user))  # noqa: E731
    _perform(run, action, changes_directory=True)


@sync.command("push-group")
@click.argument("group")
@click.option("--link-to", metavar="SCIM_ID", help="Link to this existing app group instead of creating one.")
@click.pass_obj
def push_group(run: _Run, group: str, link_to: str | None) -> None:
    """Push GROUP: create it in the app (or link it), then keep its members in sync."""
    _perform(run, lambda: run.emulator.push_group(_group(run, group), link_to=link_to), changes_directory=True)


@sync.command("rename-group")
@click.argument("group")
@click.argument("new_name")
@click.pass_obj
def rename_group(run: _Run, group: str, new_name: str) -> None:
    """Rename GROUP in the IdP (renamed in the app when --rename-groups)."""
    _perform(run, lambda: run.emulator.rename_group(_group(run, group), new_name), changes_directory=True)


@sync.command("unlink-group")
@click.argument("group")
@click.option("--delete/--leave", required=True, help="Delete the group in the app, or leave it there.")
@click.pass_obj
def unlink_group(run: _Run, group: str, delete: bool) -> None:
    """Stop pushing GROUP."""
    _perform(run, lambda: run.emulator.unlink_group(_group(run, group), delete=delete), changes_directory=True)


@sync.command("tasks")
@click.pass_obj
def list_tasks(run: _Run) -> None:
    """List the failed tasks kept from earlier runs."""
    failed = run.emulator.tasks.failed()
    for task in failed:
        click.echo(f"#{task.id} {task.title} (attempts {task.attempts}): {task.error}")
    click.echo(f"{len(failed)} failed task(s)")


@sync.command("retry")
@click.argument("task_ids", nargs=-1, type=int)
@click.pass_obj
def retry(run: _Run, task_ids: tuple[int, ...]) -> None:
    """Retry failed tasks (all of them, or the TASK_IDS given)."""
    try:
        chosen = [run.emulator.tasks.get(task_id) for task_id in task_ids] or run.emulator.tasks.failed()
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from None
    _perform(run, lambda: [run.emulator.retry(task.id) for task in chosen], changes_directory=False)
