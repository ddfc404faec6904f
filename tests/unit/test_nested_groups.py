"""Nested groups end to end: the directory holds them, Entra sends a child group as one member
(docs/entra-idp.md §3.4), Okta never does (groups are flat in Okta), and AUP's flat-group rule refuses it
(docs/domain.md §1.1) unless the reference server allows nesting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aup.embedded import embedded_server
from aup_server.config import ServerConfig
from emulators.core.clock import FakeClock
from emulators.core.directory import Directory, Group, load_directory, save_directory
from emulators.core.errors import DirectoryError
from emulators.core.expected import differences
from emulators.entra import ENTRA_DEFAULT, ENTRA_SCIM062020, EntraDirectory, EntraEmulator, EntraProfile
from emulators.entra.expected import expected_state
from emulators.entra.log import Outcome
from scimcore.client import BearerAuth, make_http
from tests.unit.entra_setup import GROUP, TUT_USER, EntraFake, make_entra, tut_directory
from tests.unit.okta_setup import make_okta, s20_directory
from tests.unit.scim_fake import error_response

CHILD = "g-child"

FILE = """\
version: 1
users:
  - id: u1
    profile: {login: ann@example.com}
groups:
  - id: g1
    name: parent
    members: [u1]
    member_groups: [g2]   # listed before the child itself
  - id: g2
    name: child
    members: [u1]
"""


def nested_directory() -> EntraDirectory:
    """The directory of Microsoft's SCIM tutorial with a child group nested in the assigned group; both assigned."""
    entra = tut_directory()
    entra.core.groups[CHILD] = Group(CHILD, "child", members=[TUT_USER])
    entra.core.groups[GROUP].member_groups.append(CHILD)
    entra.core.app.groups[:] = [GROUP, CHILD]
    return entra


# -- the directory ---------------------------------------------------------------------------------------------


def test_member_groups_load_before_their_child_is_listed_and_survive_a_yaml_save(tmp_path: Path) -> None:
    path = tmp_path / "people.yaml"
    path.write_text(FILE, encoding="utf-8")
    directory = load_directory(path)
    assert directory.group("g1").member_groups == ["g2"] and directory.group("g2").member_groups == []
    directory.group("g1").description = "renamed"
    save_directory(directory, path)
    text = path.read_text(encoding="utf-8")
    assert "# listed before the child itself" in text  # the admin's comment is kept
    assert load_directory(path).group("g1").member_groups == ["g2"]
    assert text.count("member_groups") == 1  # a flat group gets no empty key


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ("[g9]", "unknown member group id 'g9'"),
        ("[g1]", "cannot be a member of itself"),
        ("[g2, g2]", "lists a member group twice"),
    ],
)
def test_a_bad_member_group_is_refused_at_its_line(tmp_path: Path, members: str, message: str) -> None:
    path = tmp_path / "people.yaml"
    path.write_text(FILE.replace("member_groups: [g2]", f"member_groups: {members}"), encoding="utf-8")
    with pytest.raises(DirectoryError, match=message) as caught:
        load_directory(path)
    assert "people.yaml:9" in str(caught.value)


def test_flat_directories_write_no_member_groups_key() -> None:
    data = Directory(groups={"g": Group("g", "flat")}).to_data()
    assert "member_groups" not in data["groups"][0]


# -- Entra against a fake --------------------------------------------------------------------------------------


def test_entra_sends_the_child_group_as_one_member_after_the_user_members() -> None:
    entra, fake = make_entra(directory=nested_directory())
    entra.start()
    parent, child = entra.links.scim_id("group", GROUP), entra.links.scim_id("group", CHILD)
    patches = [b for r, b in zip(fake.requests, fake.bodies(), strict=True) if r.url.path.endswith(f"/{parent}")]
    assert patches[-1]["Operations"] == [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": child}]}]
    # not flattened: the child's user is a member of the parent only because it is listed there itself
    assert sum(1 for b in patches for op in b["Operations"] if op["path"] == "members") == 2


def test_entra_does_not_send_a_child_group_that_is_not_provisioned() -> None:
    directory = nested_directory()
    directory.core.app.groups.remove(CHILD)
    entra, fake = make_entra(directory=directory)
    entra.start()
    assert entra.links.scim_id("group", CHILD) is None
    assert all(
        r.method != "PATCH" or len(b["Operations"]) == 1 for r, b in zip(fake.requests, fake.bodies(), strict=True)
    )
    assert not entra.state.member_groups_sent.get(entra.links.scim_id("group", GROUP) or "")


def test_unnesting_removes_the_child_in_the_next_cycle_in_each_dialect() -> None:
    for profile in (ENTRA_DEFAULT, ENTRA_SCIM062020):
        entra, fake = make_entra(directory=nested_directory(), profile=profile)
        entra.start()
        child = entra.links.scim_id("group", CHILD)
        entra.remove_member_group(GROUP, CHILD)
        fake.requests.clear()
        entra.run_cycle()
        (body,) = [b for r, b in zip(fake.requests, fake.bodies(), strict=True) if r.method == "PATCH"]
        if profile.member_remove_by_filter:
            assert body["Operations"] == [{"op": "remove", "path": f'members[value eq "{child}"]'}]
        else:
            assert body["Operations"] == [
                {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": child}]}
            ]


class _ChildCreateFailsOnce(EntraFake):
    """The first POST of the child group answers 500; everything else as the fake does."""

    failed = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        creating = request.method == "POST" and request.url.path.endswith("/Groups")
        if creating and not self.failed and json.loads(request.content).get("displayName") == "child":
            self.failed = True
            self.requests.append(request)
            return error_response(500, "boom")
        return super().handle(request)


def test_a_parent_waits_for_its_escrowed_child_group_then_sends_it() -> None:
    """The parent is not watermarked while its child group sits in escrow, so the retry that creates the child
    also sends it as the parent's member, without any change to the parent (docs/entra-idp.md §7, §3.4)."""
    clock = FakeClock()
    entra, fake = make_entra(directory=nested_directory(), fake=_ChildCreateFailsOnce(), clock=clock)
    entra.start()
    assert ("group", CHILD) in entra.state.escrows and entra.links.scim_id("group", CHILD) is None
    assert ("group", GROUP) not in (entra.state.watermark or {}), "the parent waits for its child"
    clock.advance(6 * 3600 + 1)  # the first escrow retry (§7)
    entra.run_cycle()
    parent, child = entra.links.scim_id("group", GROUP), entra.links.scim_id("group", CHILD)
    assert child is not None and ("group", CHILD) not in entra.state.escrows
    assert {"value": child} in [{"value": m["value"]} for m in fake.resources["Groups"][parent].get("members", [])]
    assert ("group", GROUP) in (entra.state.watermark or {})


def test_deleting_a_child_group_drops_it_from_its_parents() -> None:
    entra, _ = make_entra(directory=nested_directory())
    entra.delete_group(CHILD)
    assert entra.directory.core.group(GROUP).member_groups == []


# -- Okta: groups are flat -------------------------------------------------------------------------------------


def test_okta_group_push_never_sends_a_group_as_a_member() -> None:
    """help.okta.com "Manage groups": Okta doesn't support nested groups; Group Push pushes user members only."""
    directory = s20_directory()
    group = next(iter(directory.groups.values()))
    directory.groups["g-nested"] = Group("g-nested", "nested")
    group.member_groups.append("g-nested")
    okta, fake = make_okta(directory)
    for uid in list(directory.users):
        okta.assign_user(uid)
    okta.push_group("g-nested")
    okta.push_group(group.id)
    nested = okta.links.scim_id("group", "g-nested")
    assert nested is not None and all(nested not in json.dumps(body) for body in fake.bodies())


# -- the reference server: flat by default, nested on request ------------------------------------------------


@pytest.fixture(params=[False, True], ids=["flat", "nested"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[bool, EntraEmulator, httpx.Client]]:
    nested: bool = request.param
    with embedded_server(ServerConfig(allow_nested_groups=nested)) as embedded:
        transport = httpx.WSGITransport(app=embedded.app)
        with make_http(transport, BearerAuth(embedded.token), base_url=embedded.base_url) as http:
            profile: EntraProfile = ENTRA_DEFAULT
            yield nested, EntraEmulator(nested_directory(), http, profile, clock=FakeClock()), http


def test_the_flat_rule_end_to_end(server: tuple[bool, EntraEmulator, httpx.Client]) -> None:
    """Flat (AUP's rule): 400 invalidValue, logged and escrowed, the rest applied; nested: applied."""
    nested, entra, http = server
    report = entra.start()
    failures = [e for e in report.entries if e.outcome is Outcome.FAILURE]
    parent = entra.links.scim_id("group", GROUP)
    if nested:
        assert not failures and ("group", GROUP) not in entra.state.escrows
    else:
        (failure,) = failures  # logged like any failed object (docs/entra-idp.md §7) and escrowed
        assert failure.source_id == GROUP and "400" in failure.detail and "flat" in failure.detail
        assert ("group", GROUP) in entra.state.escrows
    users = http.get("/Users").json()["Resources"]
    groups = [http.get(f"/Groups/{g['id']}").json() for g in http.get("/Groups").json()["Resources"]]
    state = expected_state(entra.directory, entra.ctx.users, nested_groups=nested)
    assert differences(state, users, groups) == []
    assert differences(expected_state(entra.directory, entra.ctx.users, nested_groups=not nested), users, groups)
    held = {m["value"] for m in http.get(f"/Groups/{parent}").json()["members"]}
    assert (entra.links.scim_id("group", CHILD) in held) is nested
