"""How close the emulators are to what the IdPs were seen to send: the requests the vendors' own documentation
shows (tests/corpus/*.json, each case with its source URL), against the emulator's requests for the same flow on
the reference server, compared after ``aup diff``'s normalisation (server ids numbered, GUIDs, timestamps and
passwords as placeholders). Only the headers the documentation shows are compared. A difference is allowed only
where the case lists it as deliberate, with its reason; the match rate is what the README reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from emulators.core.clock import FakeClock
from emulators.core.directory import AppAssignments, Directory, Group, User
from emulators.entra import ENTRA_DEFAULT, EntraDirectory, EntraEmulator
from emulators.okta import OKTA_OIN, OktaEmulator, OktaSettings
from scimcore.fidelity import FieldDifference, compare_requests, normalise
from scimcore.wire import Exchange
from tests.golden.flows import recorded

CORPUS = Path(__file__).parent
OKTA_USER = "00ujl29u0le5T6Aj10h7"  # the Okta user id of the reference's sample (its externalId)
OKTA_GROUP = "00gTESTSCIMV2"


def _okta_people() -> Directory:
    user = User(OKTA_USER, {"login": "test.user@okta.local", "email": "test.user@okta.local", "firstName": "Test",
                            "lastName": "User", "displayName": "Test User", "locale": "en-US"})  # fmt: skip
    return Directory({OKTA_USER: user}, {OKTA_GROUP: Group(OKTA_GROUP, "Test SCIMv2")})


def _okta(actions: Callable[[OktaEmulator], object], settings: OktaSettings | None = None) -> list[Exchange]:
    with recorded(OKTA_OIN.source, OKTA_OIN.headers) as (http, tap):
        emulator = OktaEmulator(_okta_people(), http, OKTA_OIN, settings=settings, clock=FakeClock())
        actions(emulator)
        return list(tap.exchanges)


def _rename(okta: OktaEmulator) -> None:
    okta.push_group(OKTA_GROUP)
    okta.rename_group(OKTA_GROUP, "Test SCIMv2")  # the documented body carries the name it shows


def _update(okta: OktaEmulator) -> None:
    okta.assign_user(OKTA_USER)
    okta.update_profile(OKTA_USER, {"firstName": "Another"})


def _import(okta: OktaEmulator) -> None:
    okta.import_users()


def _deactivate(okta: OktaEmulator) -> None:
    okta.assign_user(OKTA_USER)
    okta.deactivate_user(OKTA_USER)


def _unlink(okta: OktaEmulator) -> None:
    okta.push_group(OKTA_GROUP)
    okta.unlink_group(OKTA_GROUP, delete=True)


# The SCIM tutorial's user and group (one user for all its examples).
TUTORIAL_USER, TUTORIAL_GROUP = "tut-user", "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"


def _entra_people(*, group: bool, member: bool) -> EntraDirectory:
    user = User(TUTORIAL_USER, {"login": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
                                "email": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com",
                                "firstName": "givenName", "lastName": "familyName",
                                "nickName": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"})  # fmt: skip
    users = {} if group and not member else {TUTORIAL_USER: user}
    groups = {TUTORIAL_GROUP: Group(TUTORIAL_GROUP, "displayName", members=list(users))} if group else {}
    return EntraDirectory(Directory(users, groups, AppAssignments(users=list(users), groups=list(groups))))


def _entra(actions: Callable[[EntraEmulator], object], *, group: bool = False, member: bool = False) -> list[Exchange]:
    with recorded(ENTRA_DEFAULT.source, ENTRA_DEFAULT.headers) as (http, tap):
        emulator = EntraEmulator(_entra_people(group=group, member=member), http, ENTRA_DEFAULT, clock=FakeClock())
        actions(emulator)
        return list(tap.exchanges)


def _entra_update(entra: EntraEmulator) -> None:
    entra.start()
    entra.update_user(TUTORIAL_USER, {"mail": "updatedEmail@microsoft.com", "surname": "updatedFamilyName"})
    entra.run_cycle()


def _entra_disable(entra: EntraEmulator) -> None:
    entra.start()
    entra.unassign_user(TUTORIAL_USER)
    entra.run_cycle()


def _entra_leave(entra: EntraEmulator) -> None:
    entra.start()
    entra.remove_group_member(TUTORIAL_GROUP, TUTORIAL_USER)
    entra.run_cycle()


FLOWS: dict[tuple[str, str], Callable[[], list[Exchange]]] = {
    ("entra", "create-user"): lambda: _entra(lambda e: e.start()),
    ("entra", "update-user-multi-valued"): lambda: _entra(_entra_update),
    ("entra", "disable-user"): lambda: _entra(_entra_disable),
    ("entra", "create-group"): lambda: _entra(lambda e: e.start(), group=True),
    ("entra", "add-members"): lambda: _entra(lambda e: e.start(), group=True, member=True),
    ("entra", "remove-members"): lambda: _entra(_entra_leave, group=True, member=True),
    ("okta", "create-user"): lambda: _okta(lambda o: o.assign_user(OKTA_USER)),
    ("okta", "deactivate-user"): lambda: _okta(_deactivate),
    ("okta", "update-user-put"): lambda: _okta(_update),
    ("okta", "push-group"): lambda: _okta(lambda o: o.push_group(OKTA_GROUP)),
    ("okta", "rename-group"): lambda: _okta(_rename),
    ("okta", "delete-group"): lambda: _okta(_unlink),
    ("okta", "import"): lambda: _okta(_import, OktaSettings(import_groups=True)),
}


def documented_exchanges(requests: list[dict[str, Any]]) -> list[Exchange]:
    """The documentation's requests as exchanges (with the ids its responses show, so ids normalise alike)."""
    out = []
    for item in requests:
        split = urlsplit(item["url"])
        response = item.get("response") or {}
        out.append(
            Exchange(
                method=item["method"],
                url=item["url"] if not split.query else f"{split.path}?{split.query}",
                request_headers=tuple(tuple(pair) for pair in item.get("headers", ())),  # type: ignore[misc]
                request_body=item.get("body"),
                status=int(response.get("status", 200)),
                response_headers=(),
                response_body=response.get("body"),
                started="",
                elapsed_ms=0.0,
            )
        )
    return out


def case_differences(idp: str, case: dict[str, Any]) -> dict[int, list[FieldDifference]]:
    """For each compared documented request, its differences from the emulator's request at the same position
    (headers: only those the documentation shows)."""
    documented = normalise(documented_exchanges(case["requests"]))
    emulated = normalise(FLOWS[(idp, case["name"])]())
    out: dict[int, list[FieldDifference]] = {}
    position = 0
    for index, want in enumerate(documented):  # every documented request aligns in order; some are compared
        # the next request of the same method and resource, in order: the documentation may leave out requests
        # the IdP also sends (Group Push's name lookup, docs/okta-idp.md §7), never reorder them
        found = next(
            (i for i in range(position, len(emulated)) if (emulated[i].method, emulated[i].template)
             == (want.method, want.template)),
            None,
        )  # fmt: skip
        if found is None:
            if index in case["compare"]:
                out[index] = [FieldDifference("request", want.signature, "not sent")]
            continue
        got, position = emulated[found], found + 1
        if index not in case["compare"]:
            continue
        shown = {name for name, _ in want.headers}
        got = type(got)(got.index, got.method, got.template, got.path, got.query,
                        tuple(h for h in got.headers if h[0] in shown), got.body)  # fmt: skip
        out[index] = compare_requests(want, got)
    return out


def _corpora() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for path in sorted(CORPUS.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        cases += [(data["idp"], case) for case in data["cases"]]
    return cases


CASES = _corpora()


def _prefix(where: str, listed: str) -> bool:
    return where == listed or where.startswith(listed + ".")


@pytest.mark.parametrize(("idp", "case"), CASES, ids=[f"{idp}-{case['name']}" for idp, case in CASES])
def test_the_emulator_sends_what_the_documentation_shows(idp: str, case: dict[str, Any]) -> None:
    deliberate: dict[str, dict[str, str]] = case.get("deliberate", {})
    for index, differences in case_differences(idp, case).items():
        listed = deliberate.get(str(index), {})
        unexplained = [d for d in differences if not any(_prefix(d.where, key) for key in listed)]
        assert not unexplained, f"{case['url']}: request {index}: {unexplained}"
        stale = [key for key in listed if not any(_prefix(d.where, key) for d in differences)]
        assert not stale, f"{case['name']}: listed as deliberate but not different any more: {stale}"


def match_rate() -> tuple[int, int]:
    """(requests that match exactly, requests compared), over the whole corpus."""
    matched = total = 0
    for idp, case in CASES:
        for differences in case_differences(idp, case).values():
            total += 1
            matched += not differences
    return matched, total


def test_the_match_rate_is_the_one_the_readme_reports() -> None:
    matched, total = match_rate()
    readme = (CORPUS.parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"{matched} of {total} documented requests" in readme, (matched, total)


def test_every_case_cites_its_public_source_and_has_a_flow() -> None:
    for idp, case in CASES:
        assert case["url"].startswith("https://"), case["name"]
        assert (idp, case["name"]) in FLOWS, case["name"]
