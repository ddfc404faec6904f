"""``aup load``'s steps stay where the one-way-sync oracle is exact: against a correct server, any sequence of
steps of either IdP ends with the tenant converged and nothing left failed. (A divergence in a load run is then
the server's, never the scenario's.) The driver runs in process here, over the reference app.
"""

from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aup.load.driver import TenantDriver
from aup.load.plan import STEPS, LoadPlan, TenantSpec
from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store
from scimcore.client import IN_PROCESS_SCIM_URL
from tests.conftest import fresh_db

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    idp=st.sampled_from(["okta", "entra"]),
    steps=st.lists(st.sampled_from(STEPS), max_size=12),
    seed=st.integers(0, 50),
)
def test_any_sequence_of_steps_converges_on_a_correct_server(idp: str, steps: list[str], seed: int) -> None:
    store = open_store(ServerConfig(db=fresh_db()))
    app = create_app(store=store)
    plan = LoadPlan((TenantSpec(IN_PROCESS_SCIM_URL, issue_token(store, "load"), idp),), users=12, groups=3, seed=seed)
    driver = TenantDriver(plan, 0, transport=lambda verify, timeout: httpx.WSGITransport(app=app))
    try:
        driver.provision()
        for step in steps:
            driver.step(step)
        verdict = driver.finish()
    finally:
        driver.close()
        store.close()
    assert "error" not in verdict, verdict
    assert verdict["unresolved"] == [], verdict
    assert verdict["divergences"] == 0, verdict["shown"]
    assert verdict["users"] > 0 and verdict["groups"] > 0
