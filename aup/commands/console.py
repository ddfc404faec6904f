"""``aup sync --idp NAME`` for every IdP of the registry that has no CLI of its own (emulators/registry.py).

Its admin console (emulators/core/console.py) does the work: without a subcommand it provisions the
directory file as it stands; a subcommand is one admin action (the console verb of the same meaning),
saved to the directory file, then sent. What the IdP provisioned is kept in ``<directory>.<name>-links.json``,
so the next run updates, deactivates and reactivates instead of creating again, as the real IdP would.
Exit 1 when the server refused a change (run again to send it), 2 when the run could not be made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from aup.commands.connection import ConnectionOptions, preflight
from aup.commands.exits import TargetFailed, UsageProblem
from emulators.core.console import AdminConsole, ConsoleSetup
from emulators.core.cycle_clock import SkippingClock
from emulators.core.directory import Directory, load_directory, save_directory
from emulators.core.errors import ConfigurationError
from emulators.core.linkstore import LinkStore, links_path_for
from emulators.registry import IdpSpec, idps
from scimcore.client import Wiretap
from scimcore.wire import CassetteWriter

_SHOWN = 3  # failures listed under the summary


def parse_changes(assignments: tuple[str, ...], removals: tuple[str, ...]) -> dict[str, Any]:
    """``--set ATTR=VALUE`` and ``--unset ATTR`` as profile changes (None empties an attribute)."""
    changes: dict[str, Any] = dict.fromkeys(removals)
    for item in assignments:
        attr, sep, value = item.partition("=")
        if not sep or not attr:
            raise click.BadParameter(f"{item!r} is not ATTR=VALUE", param_hint="--set")
        changes[attr] = value
    if not changes:
        raise click.UsageError("give at least one --set ATTR=VALUE or --unset ATTR")
    return changes


def parse_settings(items: tuple[str, ...]) -> dict[str, Any]:
    """``--setting KEY=VALUE`` as the console's settings; ``true``/``false`` are booleans, digits integers."""
    settings: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--setting")
        settings[key] = {"true": True, "false": False}.get(value, int(value) if value.isdigit() else value)
    return settings


@dataclass
class ConsoleJob:
    spec: IdpSpec
    console: AdminConsole
    tap: Wiretap
    directory: Directory
    directory_path: Path
    links: LinkStore

    def user(self, text: str) -> str:
        try:
            return self.directory.find_user(text).id
        except ConfigurationError as exc:
            raise UsageProblem(str(exc)) from None

    def group(self, text: str) -> str:
        try:
            return self.directory.find_group(text).id
        except ConfigurationError as exc:
            raise UsageProblem(str(exc)) from None


def open_job(
    ctx: click.Context,
    idp: str,
    directory_path: Path,
    connection: ConnectionOptions,
    *,
    links_path: Path | None,
    cassette: Path | None,
    profile: str | None = None,
    settings: Mapping[str, Any] | None = None,
) -> ConsoleJob:
    """The IdP's console on the directory file, its links and a client of the pre-flighted target, in the
    IdP's ``profile`` (its default when None) with the admin's ``settings``."""
    spec = idps().get(idp)
    target = connection.resolve()
    try:
        chosen = spec.profile(profile)
        directory = load_directory(directory_path)
        links = LinkStore(links_path or links_path_for(directory_path, spec.name), save_every=50)
    except ConfigurationError as exc:
        raise UsageProblem(str(exc)) from None
    sink = None
    if cassette is not None:
        writer = CassetteWriter(cassette)
        ctx.call_on_close(writer.close)
        sink = writer.write
    tap = Wiretap(chosen.source, sink=sink)
    preflight(target)
    http = target.http(hooks=tap.hooks, headers=chosen.headers)
    ctx.call_on_close(http.close)
    try:
        setup = ConsoleSetup(directory, http, chosen, SkippingClock(), links=links, settings=dict(settings or {}))
        console = spec.console(setup)
    except ConfigurationError as exc:
        raise UsageProblem(str(exc)) from None
    return ConsoleJob(spec, console, tap, directory, directory_path, links)


def send(job: ConsoleJob, step: Callable[[], None], *, quiet: bool) -> None:
    """Run ``step`` (an action then a sync, or the whole provisioning), save the links whatever happens,
    print what was sent; a change the server refused ends with exit 1."""
    try:
        step()
    except ConfigurationError as exc:
        raise UsageProblem(str(exc)) from None
    finally:
        try:
            job.links.save()
        except OSError as exc:
            raise UsageProblem(f"cannot save the sync state: {exc}") from None
    failures = job.console.unresolved_failures()
    methods = Counter(exchange.method for exchange in job.tap.exchanges)
    sent = ", ".join(f"{count} {method}" for method, count in sorted(methods.items())) or "nothing"
    click.echo(f"{job.spec.label}: {len(job.tap.exchanges)} request(s) sent ({sent}); {len(failures)} failure(s)")
    if not quiet:
        for failure in failures[:_SHOWN]:
            click.echo(f"failed: {failure}")
    if failures:
        raise TargetFailed(f"{job.spec.label} could not send {len(failures)} change(s); run again to retry")


# subcommand -> (console verb, the subcommand's arguments it takes, in order)
ACTIONS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "assign-user": ("assign_user", ("user",)),
    "unassign-user": ("unassign_user", ("user",)),
    "deactivate-user": ("deactivate", ("user",)),
    "reactivate-user": ("reactivate", ("user",)),
    "update-user": ("update_user", ("user", "changes")),
    "push-group": ("connect_group", ("group",)),
    "unlink-group": ("disconnect_group", ("group",)),
    "add-member": ("add_member", ("group", "user")),
    "remove-member": ("remove_member", ("group", "user")),
    "rename-group": ("rename_group", ("group", "new_name")),
    "force-sync": ("rewrite", ()),
}


def perform(job: ConsoleJob, action: str, arguments: Mapping[str, Any], *, quiet: bool) -> None:
    """One admin action: the directory file is saved with it (the IdP is the source of truth), then it is sent."""
    if action not in ACTIONS:
        available = ", ".join(sorted(ACTIONS))
        raise UsageProblem(f"{action} is Okta's; with --idp {job.spec.name} the admin actions are {available}")
    if arguments.get("link_to"):
        raise UsageProblem(f"--link-to is Okta's; it does nothing with --idp {job.spec.name}")
    if action == "unlink-group" and not arguments.get("delete"):
        raise UsageProblem(f"with --idp {job.spec.name}, unlinking a group deletes it: give --delete")
    if action == "update-user":
        arguments = {**arguments, "changes": parse_changes(arguments["assignments"], arguments["removals"])}
    verb, wanted = ACTIONS[action]
    resolve = {"user": job.user, "group": job.group}
    values = [resolve[name](arguments[name]) if name in resolve else arguments[name] for name in wanted]

    def step() -> None:
        if verb == "rewrite":
            job.console.rewrite()
            return
        getattr(job.console, verb)(*values)
        try:
            save_directory(job.directory, job.directory_path)
        except OSError as exc:
            raise UsageProblem(f"cannot save the directory: {exc}") from None
        job.console.sync()

    send(job, step, quiet=quiet)
