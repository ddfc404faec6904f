"""Cursor walks over a directory that changes between pages (RFC 9865; issue #26).

Whatever creates, deletes and renames happen between page reads, a walk meets every resource that existed and
matched for the whole walk exactly once, and never meets any resource twice. The cursor holds a position, not a
snapshot, so this holds with no per-walk state on the server.
"""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL
from tests.conftest import fresh_db

TITLES = ["a", "b", "c"]  # few values: sorted walks lean on the creation-order tie-break
MODES: dict[str, dict[str, str]] = {
    "plain": {},
    "filtered": {"filter": 'title ne "c"'},
    "sorted": {"sortBy": "title"},
    "sorted-descending": {"sortBy": "title", "sortOrder": "descending"},
    "filtered-sorted": {"filter": 'title ne "a"', "sortBy": "title", "sortOrder": "descending"},
}


class CursorWalk(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = open_store(ServerConfig(db=fresh_db()))
        secret = issue_token(self.store, "walk")
        self.client = httpx.Client(
            transport=httpx.WSGITransport(app=create_app(store=self.store)),
            base_url=IN_PROCESS_SCIM_URL,
            headers={"Authorization": f"Bearer {secret}"},
        )
        self.titles: dict[str, str] = {}  # live id -> title (never changed, so membership in a query is fixed)
        self.serial = 0
        self.walk: dict[str, Any] | None = None

    def teardown(self) -> None:
        self.client.close()
        self.store.close()

    def _matches(self, mode: str, title: str) -> bool:
        text = MODES[mode].get("filter", "")
        return f'"{title}"' not in text  # the filters are all 'title ne "x"'

    @rule(title=st.sampled_from(TITLES))
    def create(self, title: str) -> None:
        self.serial += 1
        body = {"schemas": [urns.USER], "userName": f"user{self.serial}", "title": title}
        made = self.client.post("/Users", json=body)
        assert made.status_code == 201, made.text
        self.titles[made.json()["id"]] = title

    @precondition(lambda self: self.titles)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(list(self.titles)))
        assert self.client.delete(f"/Users/{rid}").status_code == 204
        del self.titles[rid]

    @precondition(lambda self: self.titles)
    @rule(data=st.data())
    def rename(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(list(self.titles)))
        self.serial += 1
        ops = {
            "schemas": [urns.PATCH_OP],
            "Operations": [{"op": "replace", "path": "userName", "value": f"r{self.serial}"}],
        }
        assert self.client.patch(f"/Users/{rid}", json=ops).status_code == 200

    @precondition(lambda self: self.walk is None)
    @rule(mode=st.sampled_from(sorted(MODES)), count=st.integers(1, 4))
    def start_walk(self, mode: str, count: int) -> None:
        self.walk = {"mode": mode, "count": count, "cursor": "", "seen": [], "whole": set(self.titles)}
        self.read_page()

    @precondition(lambda self: self.walk is not None)
    @rule()
    def read_page(self) -> None:
        walk = self.walk
        assert walk is not None
        params = {**MODES[walk["mode"]], "count": str(walk["count"]), "cursor": walk["cursor"]}
        answer = self.client.get("/Users", params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["Resources"]) <= walk["count"]  # RFC 9865 §2: never more than count
        walk["seen"] += [res["id"] for res in page["Resources"]]
        walk["whole"] &= set(self.titles)  # still here: existed for the whole walk so far
        if "nextCursor" in page:
            walk["cursor"] = page["nextCursor"]
            return
        self._finish(walk)

    def _finish(self, walk: dict[str, Any]) -> None:
        seen: list[str] = walk["seen"]
        assert len(seen) == len(set(seen)), "a resource was met twice"
        expected = {rid for rid in walk["whole"] if self._matches(walk["mode"], self.titles[rid])}
        missing = expected - set(seen)
        assert not missing, f"{len(missing)} resources that existed for the whole walk were skipped"
        self.walk = None

    @invariant()
    def pages_are_in_order(self) -> None:
        if self.walk is None or not self.walk["seen"]:
            return
        assert len(self.walk["seen"]) == len(set(self.walk["seen"]))


CursorWalk.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestCursorWalk = CursorWalk.TestCase
