"""``aup directory``: make and inspect IdP directory files (YAML or JSON)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from aup.commands.exits import UsageProblem
from emulators.core.directory import load_directory, save_directory
from emulators.core.errors import ConfigurationError
from emulators.core.generator import generate_directory


@click.group()
def directory() -> None:
    """Make and inspect IdP directory files (users, groups, app assignments)."""


@directory.command()
@click.option("--users", "users", default=100, show_default=True, type=click.IntRange(0), help="How many users.")
@click.option("--groups", "groups", default=10, show_default=True, type=click.IntRange(0), help="How many groups.")
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same directory.")
@click.option("--domain", default="example.com", show_default=True, help="Domain of logins and emails.")
@click.option(
    "--case-duplicates",
    type=click.IntRange(0),
    default=None,
    help="Users whose login differs from another's only by case [default: users/50].",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="File to write; .json writes JSON, anything else YAML.",
)
def generate(users: int, groups: int, seed: int, domain: str, case_duplicates: int | None, out: Path) -> None:
    """Generate a realistic directory: unicode names, case-only login twins, one large assigned group."""
    made = generate_directory(users, groups, seed, domain=domain, case_duplicates=case_duplicates)
    try:
        save_directory(made, out)
    except OSError as exc:
        raise UsageProblem(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"wrote {len(made.users)} users and {len(made.groups)} groups to {out}")


@directory.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def summary(file: Path) -> None:
    """Count the users by status, the groups, and what the app is assigned and pushes."""
    try:
        loaded = load_directory(file)
    except ConfigurationError as exc:
        raise UsageProblem(str(exc)) from None
    statuses = Counter(user.status.value for user in loaded.users.values())
    click.echo(f"users: {len(loaded.users)} ({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))})")
    largest = max((len(group.members) for group in loaded.groups.values()), default=0)
    click.echo(f"groups: {len(loaded.groups)}; the largest has {largest} members")
    click.echo(
        f"app: {len(loaded.assigned_users())} users assigned ({len(loaded.app.users)} directly, "
        f"{len(loaded.app.groups)} groups), {len(loaded.app.push_groups)} groups pushed"
    )
