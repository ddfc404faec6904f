"""The ``aup`` command: serve the reference SCIM server and manage its tokens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from aup.commands.conformance import conformance
from aup.commands.diff import diff
from aup.commands.directory import directory
from aup.commands.entra import entra_sync
from aup.commands.exits import UsageProblem
from aup.commands.export import export
from aup.commands.load import load
from aup.commands.record import record
from aup.commands.replay import replay
from aup.commands.sync import sync
from aup_server.app import create_app
from aup_server.auth import DEFAULT_TENANT, check_tenant, issue_token
from aup_server.config import ServerConfig, load_extension_file, load_settings_file
from aup_server.store import Store, open_store, shown_db

DEFAULT_DB = "aup.db"


def _tenant(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    values = value if isinstance(value, tuple) else (value,)
    try:
        for item in values:
            check_tenant(item)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def _open_store(db: str, config: ServerConfig | None = None) -> Store:
    """The store ``config`` names (``db`` with default settings when None); a failure is one line, exit 2."""
    try:
        return open_store(config or ServerConfig(db=db))
    except Exception as exc:  # sqlite3.Error, RuntimeError from a newer schema, OSError
        raise UsageProblem(f"cannot open database {shown_db(db)}: {exc}") from None


@contextmanager
def _store(db: str) -> Iterator[Store]:
    """The server's database for one CLI command, closed afterwards; ValueError becomes a one-line error."""
    store = _open_store(db)
    try:
        yield store
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    finally:
        store.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aup-harness")
def main() -> None:
    """aup: an IdP emulator and SCIM 2.0 conformance harness with a reference SCIM server."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option(
    "--db",
    default=DEFAULT_DB,
    show_default=True,
    help="SQLite file (':memory:' keeps nothing), or a postgresql:// URL to share one database among processes.",
)
@click.option(
    "--tenant",
    "tenants",
    multiple=True,
    default=(DEFAULT_TENANT,),
    show_default=True,
    callback=_tenant,
    help="Tenant to make sure has a token (repeatable); served at /scim/<tenant>/v2.",
)
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="Worker threads.")
@click.option(
    "--extension",
    "extensions",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML/JSON file of extension schemas (RFC 7643 §7) for custom attributes (repeatable).",
)
@click.option("--nested-groups/--flat-groups", default=False, show_default=True, help="Allow groups as members.")
@click.option(
    "--rate-limit",
    type=click.IntRange(min=1),
    default=None,
    help="Requests per minute per token; more get 429 with Retry-After (off by default).",
)
@click.option(
    "--rate-burst",
    type=click.IntRange(min=1),
    default=None,
    help="Requests a token may send at once before --rate-limit paces it (default: the rate, at most 20).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML or JSON file of server settings (ServerConfig names: max_resource_bytes, max_list_members, "
    "max_count, …; README 'Limits'); the flags given win over it.",
)
@click.option(
    "--oauth-client",
    "oauth_clients",
    multiple=True,
    metavar="ID:SECRET[@TENANT]",
    help="Enable POST /oauth/token (OAuth 2.0 client credentials, RFC 6749 §4.4) for this client (repeatable); "
    "the tokens it issues last an hour and serve the client's tenant.",
)
@click.option(
    "--posix/--no-posix",
    default=None,
    help="Turn POSIX identities (uid/gid, SSH keys; docs/posix.md) on or off for the --tenant tenants and keep "
    "that setting. Unset: unchanged (new tenants start with it on).",
)
def serve(
    host: str,
    port: int,
    db: str,
    tenants: tuple[str, ...],
    threads: int,
    extensions: tuple[Path, ...],
    nested_groups: bool,
    rate_limit: int | None,
    rate_burst: int | None,
    config_path: Path | None,
    oauth_clients: tuple[str, ...],
    posix: bool | None,
) -> None:
    """Run the reference SCIM 2.0 server until Ctrl-C or SIGTERM."""
    from aup.serve import run_server  # noqa: PLC0415 - waitress is imported only when serving

    ctx = click.get_current_context()
    try:
        settings = load_settings_file(config_path) if config_path is not None else {}
        items = [item for path in extensions for item in load_extension_file(path)]
        flags = {
            "db": ("db", db),
            "allow_nested_groups": ("nested_groups", nested_groups),
            "rate_limit_per_minute": ("rate_limit", rate_limit),
            "rate_limit_burst": ("rate_burst", rate_burst),
        }
        for name, (param, value) in flags.items():
            if name not in settings or ctx.get_parameter_source(param) is not click.core.ParameterSource.DEFAULT:
                settings[name] = value  # a flag given wins; a default yields to the file
        settings["extensions"] = [*settings.get("extensions", ()), *items]
        settings["oauth_clients"] = [*settings.get("oauth_clients", ()), *oauth_clients]
        config = ServerConfig.from_mapping(settings)
    except (ValueError, OSError, TypeError) as exc:
        raise UsageProblem(str(exc)) from None
    db = config.db
    store = _open_store(db, config)
    app = create_app(config, store=store)
    if posix is not None:
        for tenant in tenants:
            try:
                allocated = app.extensions["aup"].service.posix.set_enabled(store, tenant, posix)
            except ValueError as exc:
                store.close()
                raise UsageProblem(f"tenant {tenant}: {exc}") from None
            state = f"on ({allocated} ids allocated)" if posix else "off (ids are kept)"
            click.echo(f"POSIX identities for {tenant}: {state}")
    fresh = {}
    for tenant in tenants:
        if not any(t.revoked is None for t in store.list_tokens(tenant)):
            fresh[tenant] = issue_token(store, f"initial-{len(store.list_tokens(tenant)) + 1}", tenant)

    def ready(bound_host: str, bound_port: int) -> None:
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        for tenant in tenants:
            path = "/scim/v2" if tenant == DEFAULT_TENANT else f"/scim/{tenant}/v2"
            click.echo(f"SCIM base URL ({tenant}): http://{shown}:{bound_port}{path}")
            if tenant in fresh:
                click.echo(f"New bearer token for {tenant} (shown once, store it now): {fresh[tenant]}")
        if config.oauth_clients:
            click.echo(f"OAuth token URL (client credentials): http://{shown}:{bound_port}/oauth/token")
        click.echo(f"aup serving on http://{shown}:{bound_port} (db {shown_db(db)}); Ctrl-C stops", nl=True)

    try:
        run_server(app, host, port, threads, ready)
    except OSError as exc:
        raise UsageProblem(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    finally:
        store.close()
    click.echo("aup stopped")


@main.group()
def token() -> None:
    """Manage named bearer tokens (stored only as SHA-256 digests)."""


_db_option = click.option(
    "--db", default=DEFAULT_DB, show_default=True, help="The server's database: SQLite file or postgresql:// URL."
)
_tenant_option = click.option("--tenant", default=DEFAULT_TENANT, show_default=True, callback=_tenant)


@token.command("create")
@click.argument("name")
@_tenant_option
@_db_option
def token_create(name: str, tenant: str, db: str) -> None:
    """Create token NAME for a tenant and print it once."""
    with _store(db) as store:
        click.echo(issue_token(store, name, tenant))


@token.command("list")
@click.option("--tenant", default=None, help="Only this tenant's tokens.")
@_db_option
def token_list(tenant: str | None, db: str) -> None:
    """List tokens: tenant, name, created, and revoked (secrets are never shown again)."""
    with _store(db) as store:
        records = store.list_tokens(tenant)
    if not records:
        click.echo("no tokens")
        return
    for rec in records:
        state = f"revoked {rec.revoked}" if rec.revoked else "active"
        click.echo(f"{rec.tenant}\t{rec.name}\tcreated {rec.created}\t{state}")


@token.command("revoke")
@click.argument("name")
@_tenant_option
@_db_option
def token_revoke(name: str, tenant: str, db: str) -> None:
    """Revoke token NAME of a tenant; requests with it get 401 at once."""
    with _store(db) as store:
        if not store.revoke_token(name, tenant):
            raise UsageProblem(f"no active token named {name!r} for tenant {tenant!r}")
    click.echo(f"revoked {tenant}/{name}")


main.add_command(directory)
main.add_command(sync)
main.add_command(entra_sync)
main.add_command(record)
main.add_command(replay)
main.add_command(diff)
main.add_command(conformance)
main.add_command(export)
main.add_command(load)
