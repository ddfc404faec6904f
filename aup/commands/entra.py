"""``aup sync --idp entra``: run Entra provisioning cycles from a directory file against a SCIM server.

``run_entra_sync`` is what ``aup sync`` dispatches to; ``entra_sync`` is the same as a standalone
click command. Cycles run back to back: the 40 minutes between them pass on a virtual clock, while
waits inside a cycle (HTTP 429) are real. Links are kept next to the directory, so a later run
behaves like Entra after a restart (links kept, every object re-evaluated).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import click
import httpx

from aup.commands.progress import progress_option, progress_printer
from emulators.core.cycle_clock import SkippingClock
from emulators.core.errors import ConfigurationError
from emulators.core.linkstore import LinkStore, links_path_for
from emulators.core.progress import ProgressCallback
from emulators.entra import (
    DEFAULT_GROUP_MAPPING,
    DEFAULT_USER_MAPPING,
    ENTRA_DEFAULT,
    FLAG,
    CycleReport,
    EntraEmulator,
    EntraSettings,
    load_entra_directory,
    load_mappings,
    profile_named,
)
from emulators.entra.auth import ClientCredentialsAuth, CredentialsIn, make_entra_http, secret_token_auth


@dataclass(frozen=True)
class OAuthOptions:
    """OAuth 2.0 client credentials as the admin enters them (reference/entra.md §1)."""

    token_url: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...] = ()
    credentials_in: CredentialsIn = "basic"


def run_entra_sync(
    directory_path: Path,
    target: str,
    token: str | None,
    cycles: int = 1,
    flags: Sequence[str] = (),
    *,
    oauth: OAuthOptions | None = None,
    mapping_path: Path | None = None,
    links_path: Path | None = None,
    scope: str = "assigned",
    echo: Callable[[str], None] = click.echo,
    progress: ProgressCallback | None = None,
) -> list[CycleReport]:
    """Start provisioning and run ``cycles`` cycles; print each cycle's provisioning log.

    ``progress`` receives count, rate and ETA reports for each stage of every cycle.

    Raises ``click.ClickException`` (one line) for bad input; failures of single objects are
    logged, not raised, as in Entra's provisioning log.
    """
    unknown = [flag for flag in flags if flag != FLAG]
    if unknown:
        raise click.ClickException(f"unknown Entra feature flag {unknown[0]!r}; the supported flag is {FLAG}")
    if cycles < 1:
        raise click.ClickException("--cycles must be at least 1")
    if oauth is None and not token:
        raise click.ClickException("give --token (the Secret Token) or OAuth client credentials")
    clock = SkippingClock()
    try:
        directory = load_entra_directory(directory_path)
        users, groups = load_mappings(mapping_path) if mapping_path else (DEFAULT_USER_MAPPING, DEFAULT_GROUP_MAPPING)
        links = LinkStore(links_path or links_path_for(directory_path), save_every=50)
        settings = EntraSettings(scope=scope)  # type: ignore[arg-type]
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    token_http: httpx.Client | None = None
    auth: httpx.Auth
    before_cycle = None
    if oauth is not None:
        token_http = httpx.Client(timeout=ENTRA_DEFAULT.response_timeout)
        oauth_auth = ClientCredentialsAuth(
            token_http,
            oauth.token_url,
            oauth.client_id,
            oauth.client_secret,
            scopes=oauth.scopes,
            credentials_in=oauth.credentials_in,
            now=clock.now,
        )
        auth, before_cycle = oauth_auth, oauth_auth.ensure_token
    else:
        auth = secret_token_auth(token or "")
    http, flagged = make_entra_http(target, auth, ENTRA_DEFAULT)
    profile = profile_named(FLAG) if FLAG in flags else (flagged or ENTRA_DEFAULT)
    try:
        emulator = EntraEmulator(
            directory,
            http,
            profile,
            settings=settings,
            user_mapping=users,
            group_mapping=groups,
            links=links,
            clock=clock,
            before_cycle=before_cycle,
            progress=progress,
        )
        reports = emulator.run_cycles(cycles)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        links.save()
        http.close()
        if token_http is not None:
            token_http.close()
    for report in reports:
        echo(f"cycle {report.number} ({report.kind}): {len(report.entries)} log entries")
        for entry in report.entries:
            echo(f"  {entry}")
    if emulator.quarantine is not None:
        echo(f"job in quarantine: {emulator.quarantine.reason} {emulator.quarantine.detail}".rstrip())
    return reports


@click.command("entra-sync")
@click.option(
    "--directory", "directory_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--target", required=True, help="Tenant URL; append ?aadOptscim062020 to select that dialect.")
@click.option("--token", envvar="AUP_SCIM_TOKEN", help="Secret Token (env AUP_SCIM_TOKEN); Entra adds 'Bearer '.")
@click.option("--cycles", default=1, show_default=True, type=int, help="Provisioning cycles to run.")
@click.option("--flag", "flags", multiple=True, help=f"Feature flag, e.g. {FLAG}.")
@click.option("--mapping", "mapping_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--links", "links_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--scope", type=click.Choice(["assigned", "all"]), default="assigned", show_default=True)
@click.option("--token-url", help="OAuth 2.0 token endpoint (client credentials).")
@click.option("--client-id")
@click.option("--client-secret", envvar="AUP_CLIENT_SECRET")
@click.option("--oauth-scope", "oauth_scopes", multiple=True)
@click.option("--credentials-in", type=click.Choice(["basic", "post", "both"]), default="basic", show_default=True)
@progress_option
def entra_sync(
    directory_path: Path,
    target: str,
    token: str | None,
    cycles: int,
    flags: tuple[str, ...],
    mapping_path: Path | None,
    links_path: Path | None,
    scope: str,
    token_url: str | None,
    client_id: str | None,
    client_secret: str | None,
    oauth_scopes: tuple[str, ...],
    credentials_in: CredentialsIn,
    progress: bool | None,
) -> None:
    """Run Microsoft Entra ID provisioning cycles against a SCIM server."""
    oauth = None
    if token_url:
        if not client_id or not client_secret:
            raise click.ClickException("--token-url needs --client-id and --client-secret")
        oauth = OAuthOptions(token_url, client_id, client_secret, oauth_scopes, credentials_in)
    run_entra_sync(
        directory_path,
        target,
        token,
        cycles,
        flags,
        oauth=oauth,
        mapping_path=mapping_path,
        links_path=links_path,
        scope=scope,
        progress=progress_printer(progress),
    )
