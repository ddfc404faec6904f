"""A replayed cassette of a full emulator session leaves a real ``aup serve`` process in the recorded state."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store
from emulators.core.clock import FakeClock
from emulators.entra import ENTRA_DEFAULT, EntraEmulator
from emulators.okta import OKTA_OIN, OktaEmulator, OktaSettings
from scimcore.client import IN_PROCESS_SCIM_URL, BearerAuth, Wiretap, make_http
from scimcore.wire import CassetteWriter, read_cassette
from tests.golden.flows import ANN, BEN, E_ANN, E_BEN, E_CAT, E_TEAM, TEAM, entra_people, okta_people
from tests.integration.conftest import Served

BASE_URL = IN_PROCESS_SCIM_URL
PASSWORD = "Okta-Pw-5521"


def okta_session(http: httpx.Client) -> None:
    okta = OktaEmulator(okta_people(), http, OKTA_OIN, settings=OktaSettings(sync_password=True), clock=FakeClock())
    okta.assign_user(ANN)
    okta.assign_user(BEN)
    okta.sync_password(ANN, PASSWORD)
    okta.push_group(TEAM)
    okta.update_profile(ANN, {"title": "Lead", "displayName": "Ann L."})
    okta.remove_group_member(TEAM, BEN)
    okta.rename_group(TEAM, "Team Navy")
    okta.deactivate_user(BEN)


def entra_session(http: httpx.Client) -> None:
    entra = EntraEmulator(entra_people(), http, ENTRA_DEFAULT, clock=FakeClock())
    entra.start()
    entra.update_user(E_ANN, {"jobTitle": "Lead"})
    entra.remove_group_member(E_TEAM, E_BEN)
    entra.run_cycle()
    entra.soft_delete_user(E_CAT)
    entra.run_cycle()


@contextmanager
def recorded_server(cassette: Path, headers: tuple[tuple[str, str], ...] | None) -> Iterator[httpx.Client]:
    """An embedded server whose every exchange goes, redacted, to the cassette; yields a client of it."""
    store = open_store(ServerConfig())
    writer = CassetteWriter(cassette, append=False)
    tap = Wiretap("session", sink=writer.write)
    http = make_http(
        create_app(store=store),
        BearerAuth(issue_token(store, "rec")),
        hooks=tap.hooks,
        base_url=BASE_URL,
        headers=headers,
    )
    try:
        yield http
    finally:
        http.close()
        writer.close()
        store.close()


def server_state(http: httpx.Client) -> dict[str, Any]:
    """Every user and group as the server returns it, with server-assigned ids and meta replaced by names."""
    http.headers["Accept"] = "application/scim+json"
    users = http.get("/Users", params={"count": 1000}).json()["Resources"]
    groups = http.get("/Groups", params={"count": 1000}).json()["Resources"]
    names = {u["id"]: u["userName"] for u in users} | {g["id"]: g["displayName"] for g in groups}

    def clean(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: clean(v, k) for k, v in value.items() if k not in ("id", "meta", "$ref")}
        if isinstance(value, list):
            return sorted((clean(item) for item in value), key=repr)
        return names.get(value, value) if key == "value" else value

    return {"users": sorted(map(clean, users), key=repr), "groups": sorted(map(clean, groups), key=repr)}


@pytest.mark.network
@pytest.mark.parametrize(
    ("session", "headers"), [(okta_session, None), (entra_session, ENTRA_DEFAULT.headers)], ids=["okta", "entra"]
)
def test_replaying_a_full_emulator_session_leaves_the_served_target_in_the_recorded_state(
    served: Served, tmp_path: Path, session: Callable[[httpx.Client], None], headers: Any
) -> None:
    cassette = tmp_path / "session.jsonl"
    with recorded_server(cassette, headers) as recorded:
        session(recorded)
        expected = server_state(recorded)
    assert PASSWORD not in cassette.read_text()
    assert expected["users"] and expected["groups"]
    assert len(read_cassette(cassette)) > 10

    done = subprocess.run(
        [sys.executable, "-m", "aup", "replay", str(cassette), "--target", served.base_url, "--token", served.token],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 different" in done.stdout

    with httpx.Client(base_url=served.base_url, headers={"Authorization": f"Bearer {served.token}"}) as target:
        assert server_state(target) == expected
