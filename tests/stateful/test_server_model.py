"""The server against a plain model: any sequence of IdP-shaped writes leaves exactly the modelled state.

Every acknowledged write must show up, every rejected one must change nothing (no partial state).
"""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL
from tests.conftest import fresh_db

NAMES = st.sampled_from(["ann", "Ann", "bob", "BOB", "carol", "dave", "eve", "zoë", "Zoë"])
GROUP_NAMES = st.sampled_from(["eng", "ENG", "ops", "sales"])


def patch_body(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [urns.PATCH_OP], "Operations": list(ops)}


class ServerModel(RuleBasedStateMachine):
    users = Bundle("users")
    groups = Bundle("groups")

    def __init__(self) -> None:
        super().__init__()
        self.store = open_store(ServerConfig(db=fresh_db()))
        secret = issue_token(self.store, "model")
        self.client = httpx.Client(
            transport=httpx.WSGITransport(app=create_app(store=self.store)),
            base_url=IN_PROCESS_SCIM_URL,
            headers={"Authorization": f"Bearer {secret}"},
        )
        self.user_names: dict[str, str] = {}  # id -> userName as sent
        self.active: dict[str, bool] = {}
        self.group_names: dict[str, str] = {}
        self.members: dict[str, set[str]] = {}

    def teardown(self) -> None:
        self.client.close()
        self.store.close()

    @rule(target=users, name=NAMES)
    def create_user(self, name: str) -> str:
        resp = self.client.post("/Users", json={"schemas": [urns.USER], "userName": name, "active": True})
        taken = any(existing.casefold() == name.casefold() for existing in self.user_names.values())
        if taken:
            assert resp.status_code == 409, resp.text
            return ""
        assert resp.status_code == 201, resp.text
        uid: str = resp.json()["id"]
        self.user_names[uid] = name
        self.active[uid] = True
        return uid

    @rule(target=groups, name=GROUP_NAMES)
    def create_group(self, name: str) -> str:
        resp = self.client.post("/Groups", json={"schemas": [urns.GROUP], "displayName": name, "members": []})
        if any(existing.casefold() == name.casefold() for existing in self.group_names.values()):
            assert resp.status_code == 409, resp.text
            return ""
        assert resp.status_code == 201, resp.text
        gid: str = resp.json()["id"]
        self.group_names[gid] = name
        self.members[gid] = set()
        return gid

    @rule(gid=groups, uids=st.lists(users, max_size=3))
    def okta_add_members(self, gid: str, uids: list[str]) -> None:
        if gid not in self.members:
            return
        body = patch_body({"op": "add", "path": "members", "value": [{"value": u} for u in uids]})
        resp = self.client.patch(f"/Groups/{gid}", json=body)
        if any(u not in self.user_names for u in uids):
            assert resp.status_code == 400, resp.text  # whole PATCH refused, nothing applied
            return
        assert resp.status_code == 204, resp.text
        self.members[gid] |= set(uids)

    @rule(gid=groups, uid=users)
    def okta_remove_member(self, gid: str, uid: str) -> None:
        if gid not in self.members or not uid:
            return
        resp = self.client.patch(
            f"/Groups/{gid}", json=patch_body({"op": "remove", "path": f'members[value eq "{uid}"]'})
        )
        assert resp.status_code == 204, resp.text
        self.members[gid].discard(uid)

    @rule(gid=groups, uid=users)
    def entra_remove_member(self, gid: str, uid: str) -> None:
        if gid not in self.members or not uid:
            return
        body = patch_body({"op": "Remove", "path": "members", "value": [{"value": uid}]})
        assert self.client.patch(f"/Groups/{gid}", json=body).status_code == 204
        self.members[gid].discard(uid)

    @rule(gid=groups, uids=st.lists(users, max_size=3))
    def push_now(self, gid: str, uids: list[str]) -> None:
        if gid not in self.members or any(u not in self.user_names for u in uids):
            return
        body = patch_body({"op": "replace", "path": "members", "value": [{"value": u} for u in uids]})
        assert self.client.patch(f"/Groups/{gid}", json=body).status_code == 204
        self.members[gid] = set(uids)

    @rule(uid=users, active=st.sampled_from([True, False, "True", "False"]))
    def set_active(self, uid: str, active: bool | str) -> None:
        if uid not in self.user_names:
            return
        value = {"active": active} if isinstance(active, bool) else active
        op = (
            {"op": "replace", "value": value}
            if isinstance(active, bool)
            else {"op": "Replace", "path": "active", "value": value}
        )
        assert self.client.patch(f"/Users/{uid}", json=patch_body(op)).status_code == 200
        self.active[uid] = active in (True, "True")

    @rule(uid=consumes(users))
    def delete_user(self, uid: str) -> None:
        if uid not in self.user_names:
            return
        assert self.client.delete(f"/Users/{uid}").status_code == 204
        del self.user_names[uid]
        del self.active[uid]
        for members in self.members.values():
            members.discard(uid)

    @invariant()
    def server_matches_model(self) -> None:
        users = self.client.get("/Users", params={"count": 1000}).json()
        assert {r["id"]: r["userName"] for r in users["Resources"]} == self.user_names
        assert {r["id"]: r["active"] for r in users["Resources"]} == self.active
        groups = self.client.get("/Groups", params={"count": 1000}).json()
        assert {r["id"]: r["displayName"] for r in groups["Resources"]} == self.group_names
        assert {r["id"]: {m["value"] for m in r["members"]} for r in groups["Resources"]} == self.members
        for uid, name in self.user_names.items():
            found = self.client.get("/Users", params={"filter": f'userName eq "{name.upper()}"'}).json()
            assert [r["id"] for r in found["Resources"]] == [uid]


ServerModel.TestCase.settings = settings(
    max_examples=25, stateful_step_count=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_server_matches_model = ServerModel.TestCase
