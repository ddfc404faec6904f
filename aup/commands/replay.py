"""``aup replay``: send a cassette's requests to a SCIM server again and report where its answers differ."""

from __future__ import annotations

import sqlite3
from contextlib import ExitStack
from pathlib import Path

import click

from aup.embedded import embedded_server
from aup_server.config import ServerConfig, load_extension_file
from scimcore.client import BearerAuth, HeaderTokenAuth, make_http
from scimcore.replay import Replayer, ReplayError
from scimcore.wire import CassetteError, Exchange, read_cassette


def load_cassette(path: Path) -> list[Exchange]:
    try:
        return read_cassette(path)
    except (CassetteError, OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read cassette {path}: {exc}") from None


@click.command()
@click.argument("cassette", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--target", help="SCIM base URL to replay against, e.g. http://127.0.0.1:8080/scim/v2.")
@click.option("--token", envvar="AUP_SCIM_TOKEN", help="Credential for --target (env AUP_SCIM_TOKEN).")
@click.option(
    "--auth",
    type=click.Choice(["bearer", "header", "none"]),
    default="bearer",
    show_default=True,
    help="bearer adds 'Bearer '; header sends the token verbatim.",
)
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
    target: str | None,
    token: str | None,
    auth: str,
    embedded: bool,
    db: str,
    extensions: tuple[Path, ...],
    values: bool,
    verbose: bool,
) -> None:
    """Replay CASSETTE in order, mapping recorded ids to the target's; exit 1 if any response differs."""
    if embedded == (target is not None):
        raise click.UsageError("give either --target URL (with --token) or --embedded")
    exchanges = load_cassette(cassette)
    with ExitStack() as stack:
        if embedded:
            try:
                items = [item for path in extensions for item in load_extension_file(path)]
                config = ServerConfig.from_mapping({"db": db, "extensions": items})
                server = stack.enter_context(embedded_server(config, db=db, name="replay"))
            except (ValueError, OSError, sqlite3.Error) as exc:
                raise click.ClickException(str(exc)) from None
            http = make_http(server.app, BearerAuth(server.token), base_url=server.base_url)
        else:
            assert target is not None
            if auth != "none" and not token:
                raise click.UsageError(
                    "--token is required with --target (or set AUP_SCIM_TOKEN); --auth none for none"
                )
            credential = (
                None
                if auth == "none"
                else BearerAuth(token or "")
                if auth == "bearer"
                else HeaderTokenAuth(token or "")
            )
            http = make_http(target.rstrip("/"), credential)
        stack.callback(http.close)
        http.headers.clear()  # send exactly the recorded headers, not httpx's defaults
        try:
            report = Replayer(http, values=values).replay(exchanges)
        except ReplayError as exc:
            raise click.ClickException(f"replay stopped, the target did not answer: {exc}") from None
    click.echo(report.render(verbose=verbose))
    if not report.ok:
        raise SystemExit(1)
