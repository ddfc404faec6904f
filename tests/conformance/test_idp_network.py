"""The okta, entra and sync suites over real sockets: an ``aup serve`` process on a loopback port, with the
IdPs' exact header sets (Okta's Keep-Alive and gzip,deflate, Entra's bare set) on the wire."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance import Status, Target, run, select
from scimcore.target import Bearer
from tests.conformance.breakers_idp import NEEDS_THROTTLING
from tests.integration.conftest import start_server, stop_server, wait_for


@pytest.mark.network
def test_the_idp_suites_pass_against_a_served_reference_server(tmp_path: Path) -> None:
    proc = start_server(tmp_path / "aup.db")
    try:
        base = wait_for(proc, r"SCIM base URL \(default\): (\S+)").group(1)
        token = wait_for(proc, r"New bearer token for default .*: (\S+)").group(1)
        wait_for(proc, r"aup serving on")
        assert base.startswith("http://127.0.0.1:")
        # the throttling checks only SKIP against a server without a rate limit (test_idp_suites.py judges them)
        outcome = run(select(["okta", "entra", "sync"], exclude=["throttling"]), Target(base, Bearer(token)))
    finally:
        code = stop_server(proc)
    assert code == 0, f"server exited with {code}"
    assert len(outcome.results) > 30 and not {r.check.id for r in outcome.results} & NEEDS_THROTTLING
    bad = [f"{r.check.id}: {r.status} {r.reason} | {r.actual}" for r in outcome.results if r.status is not Status.PASS]
    assert not bad, "\n".join(bad)
    assert not outcome.notes, outcome.notes
