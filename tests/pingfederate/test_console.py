"""PingFederate's console against the embedded reference server (and a planted 429): its settings, its lookups,
its paging of /Groups, retries, resets and the state it keeps (docs/pingfederate-idp.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store
from emulators.core.clock import FakeClock
from emulators.core.console import ConsoleSetup
from emulators.core.directory import AppAssignments, Directory, Group, Status, User
from emulators.core.errors import ConfigurationError
from emulators.core.expected import differences
from emulators.core.linkstore import LinkStore
from emulators.pingfederate import SPEC, PingFederateConsole, PingFederateSettings, SyncState
from scimcore.client import IN_PROCESS_SCIM_URL, BearerAuth, Wiretap, make_http
from scimcore.faults import Fault, FaultTransport, Match, Rule, Script


class Server:
    def __init__(self) -> None:
        self.store = open_store(ServerConfig())
        self.app = create_app(store=self.store)
        self.token = issue_token(self.store, "pf")
        self.admin = make_http(self.app, BearerAuth(self.token), base_url=IN_PROCESS_SCIM_URL)

    def users(self) -> list[dict[str, Any]]:
        return list(self.admin.get("/Users", params={"count": 1000}).json().get("Resources", []))

    def groups(self) -> list[dict[str, Any]]:
        return list(self.admin.get("/Groups", params={"count": 1000}).json().get("Resources", []))


@pytest.fixture
def server() -> Iterator[Server]:
    made = Server()
    yield made
    made.admin.close()
    made.store.close()


def people(*, groups: int = 1) -> Directory:
    users = {
        name: User(name, {"login": f"{name}@example.test", "email": f"{name}.mail@example.test",
                          "firstName": name.title(), "lastName": "Lee", "displayName": f"{name.title()} Lee"})
        for name in ("ann", "ben", "cat")
    }  # fmt: skip
    made = {f"g{i}": Group(f"g{i}", f"Team {i}", members=["ann", "ben"]) for i in range(groups)}
    return Directory(users, made, AppAssignments(users=list(users), push_groups=dict.fromkeys(made, True)))


def console(
    server: Server,
    directory: Directory,
    *,
    profile: str | None = None,
    settings: dict[str, Any] | None = None,
    links: LinkStore | None = None,
    transport: httpx.BaseTransport | None = None,
) -> tuple[PingFederateConsole, Wiretap]:
    chosen = SPEC.profile(profile)
    tap = Wiretap("pingfederate")
    target: Any = transport if transport is not None else server.app
    http = make_http(target, BearerAuth(server.token), hooks=tap.hooks, base_url=IN_PROCESS_SCIM_URL,
                     headers=chosen.headers)  # fmt: skip
    setup = ConsoleSetup(directory, http, chosen, FakeClock(), links=links, settings=settings or {})
    made = SPEC.console(setup)
    assert isinstance(made, PingFederateConsole)
    return made, tap


def wire(tap: Wiretap, start: int = 0) -> list[str]:
    return [f"{e.method} {e.url.split('/v2', 1)[1]}" for e in tap.exchanges[start:]]


def holds(server: Server, pf: PingFederateConsole) -> None:
    assert pf.unresolved_failures() == []
    assert differences(pf.expected_state(), server.users(), server.groups()) == []


# -- settings ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"remove_user_action": "erase"}, "choose disable or delete"),
        ({"unique_user_identifier": "mail"}, "choose userName or workEmail"),
        ({"filter_expression": 'userName eq "x"'}, "must hold %s"),
        ({"provision_disabled_users": True, "remove_user_action": "delete"}, "needs remove_user_action disable"),
        ({"scope": "all"}, "unknown PingFederate setting 'scope'"),
    ],
)
def test_a_bad_setting_is_refused_before_anything_is_sent(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        PingFederateSettings.from_mapping(settings)


def test_another_idps_profile_is_refused(server: Server) -> None:
    okta = __import__("emulators.okta", fromlist=["OKTA_OIN"]).OKTA_OIN
    http = make_http(server.app, BearerAuth(server.token), base_url=IN_PROCESS_SCIM_URL)
    with pytest.raises(TypeError, match="PingFederate's console needs one of PingFederate's profiles"):
        PingFederateConsole(ConsoleSetup(people(), http, okta, FakeClock()))


# -- the wire ----------------------------------------------------------------------------------------------------


def test_the_first_cycle_looks_up_then_creates_and_writes_users_without_patch(server: Server) -> None:
    pf, tap = console(server, people())
    pf.sync()
    holds(server, pf)
    assert wire(tap)[:2] == [
        "GET /Users?filter=userName%20eq%20%22ann%40example.test%22",
        "POST /Users",
    ]
    assert wire(tap)[-2:] == ["GET /Groups?startIndex=1&count=100", "POST /Groups"]
    post = tap.exchanges[1]
    assert post.request_header("Content-Type") == "application/scim+json"
    assert post.request_header("User-Agent") == "PingFederate SCIM Provisioner"
    assert post.request_body == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "ann@example.test",
        "name": {"givenName": "Ann", "familyName": "Lee"},
        "displayName": "Ann Lee",
        "emails": [{"type": "work", "value": "ann.mail@example.test"}],
        "active": True,
    }
    pf.update_user("ann", {"lastName": "Ng"})
    pf.deactivate("ben")
    mark = len(tap.exchanges)
    pf.sync()
    holds(server, pf)
    sent = wire(tap, mark)
    assert [line.split(" ")[0] for line in sent] == ["PUT", "PUT", "PATCH"], sent
    disable = tap.exchanges[mark + 1].request_body
    assert disable["active"] is False and disable["id"] == pf.links.scim_id("user", "ben")
    ops = tap.exchanges[mark + 2].request_body["Operations"]
    assert ops == [{"op": "remove", "path": f'members[value eq "{pf.links.scim_id("user", "ben")}"]'}]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"unique_user_identifier": "workEmail"}, 'emails eq "ann.mail@example.test"'),
        ({"filter_expression": 'userName sw "%s"'}, 'userName sw "ann@example.test"'),
    ],
)
def test_the_lookup_follows_the_unique_identifier_and_the_filter_expression(
    server: Server, settings: dict[str, Any], expected: str
) -> None:
    pf, tap = console(server, people(), settings=settings)
    pf.sync()
    assert tap.exchanges[0].method == "GET"
    assert httpx.URL(tap.exchanges[0].url).params["filter"] == expected


def test_a_group_is_found_on_a_later_page_and_its_members_overwritten(server: Server) -> None:
    group_schema, user_schema = (
        "urn:ietf:params:scim:schemas:core:2.0:Group",
        "urn:ietf:params:scim:schemas:core:2.0:User",
    )
    for i in range(230):
        server.admin.post("/Groups", json={"schemas": [group_schema], "displayName": f"other {i:03}"})
    stray = server.admin.post("/Users", json={"schemas": [user_schema], "userName": "stray@example.test"}).json()
    body = {"schemas": [group_schema], "displayName": "Team 0", "members": [{"value": stray["id"]}]}
    existing = server.admin.post("/Groups", json=body).json()
    pf, tap = console(server, people())
    pf.sync()
    pages = [line for line in wire(tap) if line.startswith("GET /Groups")]
    assert pages == [
        "GET /Groups?startIndex=1&count=100",
        "GET /Groups?startIndex=101&count=100",
        "GET /Groups?startIndex=201&count=100",
    ]
    assert pf.links.scim_id("group", "g0") == existing["id"]
    holds(server, pf)  # the stray member is gone: the datastore's members are set
    assert "POST /Groups" not in wire(tap)


def test_the_put_dialect_replaces_the_whole_group(server: Server) -> None:
    pf, tap = console(server, people(), profile="put")
    pf.sync()
    pf.add_member("g0", "cat")
    pf.rename_group("g0", "Team Zero")
    mark = len(tap.exchanges)
    pf.sync()
    holds(server, pf)
    assert wire(tap, mark) == [f"PUT /Groups/{pf.links.scim_id('group', 'g0')}"]
    body = tap.exchanges[mark].request_body
    assert body["displayName"] == "Team Zero" and len(body["members"]) == 3


def test_delete_action_deletes_and_a_returning_user_is_created_again(server: Server) -> None:
    pf, tap = console(server, people(), settings={"remove_user_action": "delete"})
    pf.sync()
    first = pf.links.scim_id("user", "cat")
    pf.unassign_user("cat")
    pf.sync()
    holds(server, pf)
    assert f"DELETE /Users/{first}" in wire(tap)
    assert pf.links.scim_id("user", "cat") is None
    pf.assign_user("cat")
    pf.sync()
    holds(server, pf)
    assert pf.links.scim_id("user", "cat") not in (None, first)


def test_disabled_users_are_provisioned_only_when_the_connection_says_so(server: Server) -> None:
    directory = people()
    directory.users["cat"].status = Status.SUSPENDED
    pf, _ = console(server, directory)
    pf.sync()
    holds(server, pf)
    assert "cat@example.test" not in {u["userName"] for u in server.users()}
    pf2, _ = console(server, directory, settings={"provision_disabled_users": True})
    pf2.sync()
    holds(server, pf2)
    assert {u["userName"]: u["active"] for u in server.users()}["cat@example.test"] is False


def test_a_user_deleted_from_the_datastore_is_deprovisioned(server: Server) -> None:
    directory = people()
    pf, _ = console(server, directory)
    pf.sync()
    del directory.users["cat"]
    directory.app.users.remove("cat")
    pf.sync()
    assert {u["userName"]: u["active"] for u in server.users()}["cat@example.test"] is False


# -- failures, retries and the state -----------------------------------------------------------------------------


def test_a_429_is_waited_out_and_a_refused_write_is_sent_again_next_cycle(server: Server) -> None:
    plan = Script(
        [
            Rule(Fault.rate_limited(retry_after=2), Match("POST", r"/Users$")),
            Rule(Fault.server_error(500), Match("PUT", r"/Users/")),  # the first PUT is the second cycle's
        ]
    )
    transport = FaultTransport(httpx.WSGITransport(app=server.app), plan)
    pf, tap = console(server, people(), transport=transport)
    pf.sync()
    holds(server, pf)
    assert pf.clock.now() >= 1_700_000_000.0 + 60 + 2, "the cycle waited the Retry-After"

    pf.update_user("ann", {"lastName": "Changed"})
    pf.sync()
    assert [f.split(":")[0] for f in pf.unresolved_failures()] == ["update ann@example.test"]
    mark = len(tap.exchanges)
    pf.sync()  # the state did not move: the change goes again
    holds(server, pf)
    assert [line.split(" ")[0] for line in wire(tap, mark)] == ["PUT"]


def test_the_state_is_kept_beside_the_links_and_force_sync_writes_everything_again(
    server: Server, tmp_path: Path
) -> None:
    links_path = tmp_path / "people.pingfederate-links.json"
    pf, _ = console(server, people(), links=LinkStore(links_path))
    pf.sync()
    state_path = tmp_path / "people.pingfederate-state.json"
    saved = json.loads(state_path.read_text(encoding="utf-8"))
    assert saved["version"] == 1 and sorted(saved["users"]) == ["ann", "ben", "cat"]

    again, tap = console(server, people(), links=LinkStore(links_path))  # a later run
    again.sync()
    assert tap.exchanges == [], "nothing changed since the saved state"
    again.rewrite()
    methods = [line.split(" ")[0] for line in wire(tap)]
    assert methods == ["PUT", "PUT", "PUT", "PATCH"], methods
    holds(server, again)


def test_a_lost_state_still_disables_from_the_servers_copy(server: Server, tmp_path: Path) -> None:
    links_path = tmp_path / "people.pingfederate-links.json"
    directory = people()
    pf, _ = console(server, directory, links=LinkStore(links_path))
    pf.sync()
    (tmp_path / "people.pingfederate-state.json").unlink()
    server.admin.patch(f"/Users/{pf.links.scim_id('user', 'ben')}", json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "nickName", "value": "benny"}]})  # fmt: skip
    directory.app.users.remove("ben")
    later, tap = console(server, directory, links=LinkStore(links_path))
    later.sync()
    ben = pf.links.scim_id("user", "ben")
    assert [line for line in wire(tap) if ben in line] == [f"GET /Users/{ben}", f"PUT /Users/{ben}"]
    assert sum(line.startswith("PUT /Users/") for line in wire(tap)) == 3, "the others are written again in full"
    doc = server.admin.get(f"/Users/{ben}").json()
    assert doc["active"] is False and doc["nickName"] == "benny", "written back as the server had it, disabled"


def test_a_damaged_state_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "people.pingfederate-state.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="cannot read PingFederate's sync state"):
        SyncState(path)
    path.write_text('{"version": 9}', encoding="utf-8")
    with pytest.raises(ConfigurationError, match="is not a version 1 PingFederate sync state"):
        SyncState(path)


def test_mapping_rules_replace_defaults_and_bad_ones_are_refused(server: Server) -> None:
    http = make_http(server.app, BearerAuth(server.token), base_url=IN_PROCESS_SCIM_URL)
    profile = SPEC.profile()
    rules = [("externalId", "employeeNumber"), ("displayName", "firstName")]
    directory = people()
    directory.users["ann"].profile["employeeNumber"] = "E1"
    pf = PingFederateConsole(ConsoleSetup(directory, http, profile, FakeClock(), rules=rules))
    pf.sync()
    holds(server, pf)
    ann = next(u for u in server.users() if u["userName"] == "ann@example.test")
    assert ann["externalId"] == "E1" and ann["displayName"] == "Ann"
    with pytest.raises(ConfigurationError, match="is a \\(SCIM path, attribute\\) pair"):
        PingFederateConsole(ConsoleSetup(people(), http, profile, FakeClock(), rules=["userName"]))
    with pytest.raises(ConfigurationError, match="unknown directory attribute\\(s\\): employeeNumbr"):
        PingFederateConsole(ConsoleSetup(people(), http, profile, FakeClock(), rules=[("externalId", "employeeNumbr")]))


def test_a_user_deleted_on_the_server_is_created_again_at_the_next_cycle(server: Server) -> None:
    pf, _ = console(server, people())
    pf.sync()
    first = pf.links.scim_id("user", "ann")
    assert server.admin.delete(f"/Users/{first}").status_code == 204  # the service provider's admin deletes ann
    pf.update_user("ann", {"lastName": "Changed"})
    pf.sync()
    assert pf.unresolved_failures() == [
        "update ann@example.test: HTTP 404, gone from the server; the next cycle creates it again"
    ]
    pf.sync()
    holds(server, pf)
    assert pf.links.scim_id("user", "ann") not in (None, first)


def test_groups_that_cannot_be_listed_are_not_created_blind(server: Server) -> None:
    plan = Script([Rule(Fault.server_error(503), Match("GET", r"/Groups\?"))])
    pf, tap = console(server, people(), transport=FaultTransport(httpx.WSGITransport(app=server.app), plan))
    pf.sync()
    assert [f.split(":")[0] for f in pf.unresolved_failures()] == ["list groups"]
    assert "POST /Groups" not in wire(tap), "a group it could not look for is not created (it might exist)"
    pf.sync()
    holds(server, pf)
