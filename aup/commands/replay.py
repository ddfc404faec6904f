"""``aup replay``: send a cassette's requests to a SCIM server again and report where its answers differ."""

from __future__ import annotations

import sqlite3
from contextlib import ExitStack
from pathlib import Path

import click

from aup.commands.connection import ConnectionOptions, connection_options, preflight
from aup.commands.exits import UsageProblem
from aup.embedded import embedded_server
from aup_server.config import ServerConfig, load_extension_file
from scimcore.replay import Replayer, ReplayError
from scimcore.target import Bearer, Target
from scimcore.wire import CassetteError, Exchange, read_cassette


def load_cassette(path: Path) -> list[Exchange]:
    try:
        return read_cassette(path)
    except (CassetteError, OSError, UnicodeDecodeError) as exc:
        raise UsageProblem(f"cannot read cassette {path}: {exc}") from None


@click.command()
@click.argument("cassette", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@connection_options(target_help="SCIM base URL to replay against, e.g. http://127.0.0.1:8080/scim/v2.")
@click.option("--embedded", is_flag=True, help="Replay in process against a fresh reference server instead.")
@click.option("--db", default=":memory:", show_default=True, help="With --embedded: the server's SQLite file.")
@click.option(
    "--extension",
    "extensions",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With --embedded: extension schema file, as for 'aup serve' (repeatable).",
)
@click.option("--values", is_flag=True, help="Also compare values (not only status and shape); ids, times ignored.")
@click.option("-v", "--verbose", is_flag=True, help="List every exchange, not only those that differ.")
def replay(
    cassette: Path,
    connection: ConnectionOptions,
    embedded: bool,
    db: str,
    extensions: tuple[Path, ...],
    values: bool,
    verbose: bool,
) -> None:
    """Replay CASSETTE in order, mapping recorded ids to the target's; exit 1 if any response differs."""
    if embedded == connection.given:
        raise UsageProblem("give either --target URL (with --token) or --embedded")
    exchanges = load_cassette(cassette)
    with ExitStack() as stack:
        if embedded:
            try:
                items = [item for path in extensions for item in load_extension_file(path)]
                config = ServerConfig.from_mapping({"db": db, "extensions": items})
                server = stack.enter_context(embedded_server(config, db=db, name="replay"))
            except (ValueError, OSError, sqlite3.Error) as exc:
                raise UsageProblem(str(exc)) from None
            http = Target(server.base_url, Bearer(server.token), app=server.app).http()
        else:
            target = connection.resolve()
            preflight(target)
            http = target.http()
        stack.callback(http.close)
        http.headers.clear()  # send exactly the recorded headers, not httpx's defaults
        try:
            report = Replayer(http, values=values).replay(exchanges)
        except ReplayError as exc:
            raise UsageProblem(f"replay stopped, the target did not answer: {exc}") from None
    click.echo(report.render(verbose=verbose))
    if not report.ok:
        raise SystemExit(1)
