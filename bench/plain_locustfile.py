"""Locust's plain ``FastHttpUser`` sending the request kinds ``aup load`` sent, in the same proportions: the
baseline of the load generator's cost per request (bench/load.py).

Read from the environment: ``AUP_BENCH_TENANTS`` (JSON list of ``{"url", "token"}``, one per user) and
``AUP_BENCH_MIX`` (JSON object: "METHOD route" -> requests of that kind in the ``aup load`` run).
"""

from __future__ import annotations

# ruff: noqa: S311 - random request choices and names, not secrets
import itertools
import json
import os
import random
from typing import Any

from locust import FastHttpUser, constant, task

TENANTS: list[dict[str, str]] = json.loads(os.environ.get("AUP_BENCH_TENANTS", "[]"))
MIX: dict[str, int] = json.loads(os.environ.get("AUP_BENCH_MIX", "{}"))
_numbers = itertools.count()
SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class PlainTenant(FastHttpUser):
    host = "http://127.0.0.1"
    wait_time = constant(0)

    def on_start(self) -> None:
        tenant = TENANTS[next(_numbers) % len(TENANTS)]
        self.base = tenant["url"].rstrip("/")
        self.headers = {"Authorization": f"Bearer {tenant['token']}", "Content-Type": SCIM, "Accept": SCIM}
        self.users: list[str] = []
        self.names: list[str] = []
        self.group_id = self._post(
            "/Groups", {"schemas": [GROUP], "displayName": f"plain-{random.random()}"}, "/Groups"
        )
        for _ in range(3):
            self._create_user()
        kinds = [kind for kind in MIX if kind in HANDLERS]
        self.kinds, self.weights = kinds, [MIX[kind] for kind in kinds]

    def _post(self, path: str, body: dict[str, Any], name: str) -> str:
        with self.client.post(self.base + path, json=body, headers=self.headers, name=name, catch_response=True) as r:
            return str((r.json() or {}).get("id", ""))

    def _create_user(self) -> None:
        name = f"plain-{random.getrandbits(64):x}@load.example.test"
        body = {"schemas": [USER], "userName": name, "name": {"givenName": "Ada", "familyName": "Lee"}, "active": True}
        self.users.append(self._post("/Users", body, "/Users"))
        self.names.append(name)

    @task
    def one(self) -> None:
        HANDLERS[random.choices(self.kinds, self.weights)[0]](self)


def _get_filter_users(user: PlainTenant) -> None:
    flt = f'userName eq "{random.choice(user.names)}"'
    user.client.get(user.base + "/Users", params={"filter": flt}, headers=user.headers, name="/Users?filter")


def _get_filter_groups(user: PlainTenant) -> None:
    flt = 'displayName eq "nobody"'
    user.client.get(user.base + "/Groups", params={"filter": flt}, headers=user.headers, name="/Groups?filter")


def _get_list(user: PlainTenant) -> None:
    user.client.get(
        user.base + "/Users", params={"startIndex": 1, "count": 100}, headers=user.headers, name="/Users?list"
    )


def _get_user(user: PlainTenant) -> None:
    user.client.get(f"{user.base}/Users/{random.choice(user.users)}", headers=user.headers, name="/Users/{id}")


def _get_group(user: PlainTenant) -> None:
    user.client.get(f"{user.base}/Groups/{user.group_id}", headers=user.headers, name="/Groups/{id}")


def _put_user(user: PlainTenant) -> None:
    index = random.randrange(len(user.users))
    body = {"schemas": [USER], "userName": user.names[index], "name": {"givenName": "Ada", "familyName": "Ng"}}
    user.client.put(f"{user.base}/Users/{user.users[index]}", json=body, headers=user.headers, name="/Users/{id}")


def _patch_user(user: PlainTenant) -> None:
    body = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": str(random.random())}]}
    user.client.patch(
        f"{user.base}/Users/{random.choice(user.users)}", json=body, headers=user.headers, name="/Users/{id}"
    )


def _patch_group(user: PlainTenant) -> None:
    body = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": random.choice(user.users)}]}],
    }
    user.client.patch(f"{user.base}/Groups/{user.group_id}", json=body, headers=user.headers, name="/Groups/{id}")


def _post_group(user: PlainTenant) -> None:
    user._post("/Groups", {"schemas": [GROUP], "displayName": f"plain-{random.random()}"}, "/Groups")


HANDLERS = {
    "POST /Users": PlainTenant._create_user,
    "GET /Users?filter": _get_filter_users,
    "GET /Groups?filter": _get_filter_groups,
    "GET /Users?list": _get_list,
    "GET /Users/{id}": _get_user,
    "GET /Groups/{id}": _get_group,
    "PUT /Users/{id}": _put_user,
    "PATCH /Users/{id}": _patch_user,
    "PATCH /Groups/{id}": _patch_group,
    "POST /Groups": _post_group,
}
