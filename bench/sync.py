"""Figure 2: Okta full provisioning and the Entra initial cycle, as SCIM operations per second and wall time.

Each run starts from an empty durable store (a SQLite file, as ``aup serve`` keeps it) and a freshly
generated directory; the IdP emulators talk to it through the same ``make_http`` client they use in
the CLI. Requests are counted at the transport, so the rate is of real SCIM operations.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from aup.embedded import embedded_server
from bench.common import CountingTransport
from bench.population import bench_directory, for_entra, for_okta
from emulators.core.console import ConsoleSetup
from emulators.core.cycle_clock import SkippingClock
from emulators.entra import ENTRA_DEFAULT, FLAG, EntraEmulator, profile_named
from emulators.entra.log import Outcome
from emulators.entra.profile import EntraProfile
from emulators.okta import OKTA_OIN, OktaEmulator, TaskStatus
from emulators.registry import IdpSpec, idps
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.target import Bearer, Target

IN_PROCESS_BASE = IN_PROCESS_SCIM_URL


@dataclass(frozen=True)
class SyncRun:
    """One sync: how many SCIM requests it sent, how long it took, and how many objects failed."""

    requests: int
    wall_s: float
    failures: int

    @property
    def ops_per_s(self) -> float:
        return self.requests / self.wall_s if self.wall_s > 0 else 0.0


Transport = Callable[[], tuple[httpx.BaseTransport, str, str]]


def okta_sync(users: int, groups: int, transport: httpx.BaseTransport, base_url: str, token: str) -> SyncRun:
    """Okta OIN full provisioning (docs/okta-idp.md §4, §7): every user assigned, every group pushed."""
    directory = for_okta(bench_directory(users, groups))
    counter = CountingTransport(transport)
    with Target(base_url, Bearer(token), app=counter).http() as http:
        emulator = OktaEmulator(directory, http, OKTA_OIN)
        start = time.perf_counter()
        tasks = emulator.sync_all()
        wall = time.perf_counter() - start
    return SyncRun(counter.count, wall, sum(task.status is TaskStatus.FAILED for task in tasks))


def entra_sync(
    users: int,
    groups: int,
    transport: httpx.BaseTransport,
    base_url: str,
    token: str,
    profile: EntraProfile = ENTRA_DEFAULT,
) -> SyncRun:
    """Entra's initial cycle (docs/entra-idp.md §8): users, managers, groups, then one PATCH per member."""
    directory = for_entra(bench_directory(users, groups))
    counter = CountingTransport(transport)
    with Target(base_url, Bearer(token), app=counter).http(headers=profile.headers) as http:
        emulator = EntraEmulator(directory, http, profile, clock=SkippingClock())
        start = time.perf_counter()
        (report,) = emulator.run_cycles(1)
        wall = time.perf_counter() - start
    return SyncRun(counter.count, wall, sum(entry.outcome is Outcome.FAILURE for entry in report.entries))


def rfc_entra_profile() -> EntraProfile:
    """Entra as any RFC 7644 server accepts it, for runs against a peer.

    ``aadOptscim062020`` gives RFC-shaped PATCH ops (docs/entra-idp.md §5); Entra's group schema
    id is left out of group creates because it is not a URN and scim2-server refuses it with 400.
    """
    return replace(profile_named(FLAG), group_schemas=(urns.GROUP,))


def console_sync(
    spec: IdpSpec, users: int, groups: int, transport: httpx.BaseTransport, base_url: str, token: str
) -> SyncRun:
    """Any other registered IdP: every user assigned, every group connected, then its console's ``provision_all``."""
    directory = bench_directory(users, groups)
    directory.app.users, directory.app.groups = list(directory.users), []
    profile = spec.profile()
    counter = CountingTransport(transport)
    with Target(base_url, Bearer(token), app=counter).http(headers=profile.headers) as http:
        console = spec.console(ConsoleSetup(directory, http, profile, SkippingClock()))
        start = time.perf_counter()
        for group_id in directory.groups:
            console.connect_group(group_id)
        console.provision_all()
        wall = time.perf_counter() - start
    return SyncRun(counter.count, wall, len(console.unresolved_failures()))


def in_process(idp: str, users: int, groups: int, workdir: Path | None = None) -> SyncRun:
    """One sync of a registered IdP against the embedded server on a fresh SQLite file, through
    ``httpx.WSGITransport``: Okta's full provisioning, Entra's initial cycle, any other IdP's console."""
    spec = idps().get(idp)
    with (
        tempfile.TemporaryDirectory(dir=workdir) as tmp,
        embedded_server(db=str(Path(tmp) / "sync.db"), name="bench") as server,
    ):
        transport = httpx.WSGITransport(app=server.app)
        if idp == "okta":
            return okta_sync(users, groups, transport, IN_PROCESS_BASE, server.token)
        if idp == "entra":
            return entra_sync(users, groups, transport, IN_PROCESS_BASE, server.token)
        return console_sync(spec, users, groups, transport, IN_PROCESS_BASE, server.token)
