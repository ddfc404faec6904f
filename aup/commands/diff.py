"""``aup diff``: compare two cassettes as IdP traffic (an emulator against a real recording, or two runs)."""

from __future__ import annotations

from pathlib import Path

import click

from aup.commands.replay import load_cassette
from scimcore.fidelity import diff_cassettes


@click.command()
@click.argument("a", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("b", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--ignore",
    "ignore",
    multiple=True,
    help="Do not compare the values of this JSON field, header or query parameter (repeatable), e.g. externalId.",
)
@click.option("--changes-only", is_flag=True, help="Leave out the requests that are the same.")
def diff(a: Path, b: Path, ignore: tuple[str, ...], changes_only: bool) -> None:
    """Align the requests of cassettes A and B and show every difference; exit 1 if there is any.

    Server ids, random GUIDs, timestamps, passwords, URL encodings and JSON key order are normalised away.
    """
    result = diff_cassettes(load_cassette(a), load_cassette(b), ignore)
    click.echo(result.render(str(a), str(b), context=not changes_only))
    if not result.same:
        raise SystemExit(1)
