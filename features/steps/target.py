"""The service provider under test, reached over HTTP whatever it is: the embedded server or a SCIM URL.

Scenarios read and edit the service provider through ``ServiceProvider`` (the admin's view), and
hand emulators clients made by ``ScimTarget.client`` from one ``scimcore.target.Target``. Every client goes through a
``scimcore.faults.FaultTransport`` with a script a scenario can add rules to, so the service
provider can be made to answer 429 or 5xx without any server-side switch.
Everything a scenario creates carries the run prefix, so ``cleanup`` finds and removes it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from scimcore import paging, urns
from scimcore.client import ScimClient, eq_filter
from scimcore.faults import FaultTransport, Script
from scimcore.target import Target

PAGE = 100


@dataclass
class ScimTarget:
    """The service provider under test, and the clients handed out so far (closed with ``close``)."""

    target: Target
    _clients: list[httpx.Client] = field(default_factory=list)

    def client(
        self, *, hooks: Any = None, headers: Sequence[tuple[str, str]] | None = None
    ) -> tuple[httpx.Client, Script]:
        """A client of the service provider, and the (initially empty) fault script of its transport."""
        app = self.target.app
        inner: httpx.BaseTransport
        if app is None:
            inner = httpx.HTTPTransport(verify=self.target.verify)
        else:
            inner = app if isinstance(app, httpx.BaseTransport) else httpx.WSGITransport(app=app)
        script = Script([])
        faulty = replace(self.target, app=FaultTransport(inner, script))
        http = faulty.http(hooks=hooks, headers=headers)
        self._clients.append(http)
        return http, script

    def close(self) -> None:
        for http in self._clients:
            http.close()
        self._clients.clear()


class ServiceProvider:
    """The service provider admin's view: read resources back, edit them directly, clean up a run."""

    def __init__(self, http: httpx.Client) -> None:
        self.scim = ScimClient(http, headers=(("Accept", urns.MEDIA_TYPE),))
        self._by_cursor: bool | None = None

    @property
    def by_cursor(self) -> bool:
        """Whether lists are read by cursor: the server advertises it (RFC 9865 §4), asked once."""
        if self._by_cursor is None:
            answer = self.scim.get("/ServiceProviderConfig")
            try:
                self._by_cursor = answer.is_success and paging.cursor_advertised(answer.json())
            except ValueError:  # not JSON: nothing advertised
                self._by_cursor = False
        return self._by_cursor

    def _ok(self, response: httpx.Response) -> Any:
        if not response.is_success:
            request = response.request
            raise AssertionError(
                f"{request.method} {request.url.path} answered {response.status_code}: {response.text}"
            )
        return response.json() if response.content else None

    def _search(self, endpoint: str, attribute: str, operator: str, value: str) -> Iterator[dict[str, Any]]:
        flt = eq_filter(attribute, value).replace(" eq ", f" {operator} ", 1)
        yield from paging.walk(
            lambda query: self._ok(self.scim.get(endpoint, [("filter", flt), *query])),
            by_cursor=self.by_cursor,
            count=PAGE,
        )

    def users(self, prefix: str) -> list[dict[str, Any]]:
        return list(self._search("/Users", "userName", "sw", prefix))

    def groups(self, prefix: str) -> list[dict[str, Any]]:
        return list(self._search("/Groups", "displayName", "sw", prefix))

    def user_named(self, user_name: str) -> dict[str, Any] | None:
        found = list(self._search("/Users", "userName", "eq", user_name))
        assert len(found) <= 1, f"{len(found)} users are named {user_name!r}"
        return found[0] if found else None

    def group_named(self, name: str) -> dict[str, Any] | None:
        found = list(self._search("/Groups", "displayName", "eq", name))
        assert len(found) <= 1, f"{len(found)} groups are named {name!r}"
        return found[0] if found else None

    def user(self, scim_id: str) -> dict[str, Any]:
        return dict(self._ok(self.scim.get(f"/Users/{scim_id}")))

    def user_or_none(self, scim_id: str) -> dict[str, Any] | None:
        response = self.scim.get(f"/Users/{scim_id}")
        return None if response.status_code == 404 else dict(self._ok(response))

    def create_user(self, user_name: str, **attributes: Any) -> dict[str, Any]:
        body = {"schemas": [urns.USER], "userName": user_name, **attributes}
        return dict(self._ok(self.scim.post("/Users", body)))

    def create_group(self, name: str) -> dict[str, Any]:
        return dict(self._ok(self.scim.post("/Groups", {"schemas": [urns.GROUP], "displayName": name})))

    def set_user_value(self, scim_id: str, path: str, value: Any) -> None:
        body = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": path, "value": value}]}
        self._ok(self.scim.patch(f"/Users/{scim_id}", body))

    def add_members(self, group_id: str, scim_ids: Sequence[str]) -> None:
        ops = [{"op": "add", "path": "members", "value": [{"value": sid} for sid in scim_ids]}]
        self._ok(self.scim.patch(f"/Groups/{group_id}", {"schemas": [urns.PATCH_OP], "Operations": ops}))

    def cleanup(self, prefix: str) -> None:
        """Delete every user and group of this run (their names start with ``prefix``)."""
        for group in self.groups(prefix):
            self.scim.delete(f"/Groups/{group['id']}")
        for user in self.users(prefix):
            self.scim.delete(f"/Users/{user['id']}")
