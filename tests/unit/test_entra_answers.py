"""What Entra enforces of the server's answers (docs/entra-idp.md §1, §3.4, §6): an answer it cannot use fails
the object with the logged code and escrows it, as any other failure (§7)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest

from emulators.entra import ENTRA_DEFAULT, EntraEmulator
from tests.unit.entra_setup import GROUP, GUID, TUT_USER, EntraFake, make_entra, tut_directory

Tamper = Callable[[httpx.Request, httpx.Response], httpx.Response]


class TamperedFake(EntraFake):
    """The Entra fake with one fault applied to its answers."""

    def __init__(self, tamper: Tamper) -> None:
        super().__init__()
        self.tamper = tamper

    def handle(self, request: httpx.Request) -> httpx.Response:
        return self.tamper(request, super().handle(request))


def _is_match(request: httpx.Request) -> bool:
    """A matching query (not the random-GUID test query, §2), so the failure is the object's, not the job's."""
    query = request.url.params.get("filter")
    return request.method == "GET" and query is not None and GUID.search(query) is None


def _with_group(fake: EntraFake, **profile_changes: object) -> EntraEmulator:
    directory = tut_directory()
    directory.core.app.groups.append(GROUP)
    entra, _ = make_entra(directory, replace(ENTRA_DEFAULT, **profile_changes), fake=fake)
    return entra


def _failures(entra: EntraEmulator) -> list[tuple[str, str | None]]:
    return [(entry.source_id, entry.code) for entry in entra.log.failures()]


def _members_despite_exclusion(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    if request.method == "GET" and "/Groups/" in request.url.path and response.status_code == 200:
        return httpx.Response(200, json={**response.json(), "members": [{"value": "someone"}]})
    return response


def test_members_in_a_group_read_fail_the_group_with_multiple_entries_and_escrow_it() -> None:
    """§3.4 (documented): a group read carries excludedAttributes=members; members in the answer fail it."""
    entra = _with_group(TamperedFake(_members_despite_exclusion))
    entra.start()
    entra.rename_group(GROUP, "renamed")
    entra.run_cycle()
    assert _failures(entra) == [(GROUP, "SystemForCrossDomainIdentityManagementMultipleEntriesInResponse")]
    assert ("group", GROUP) in entra.state.escrows


def test_an_empty_members_list_is_tolerated_and_the_rule_can_be_switched_off() -> None:
    def empty(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.method == "GET" and "/Groups/" in request.url.path and response.status_code == 200:
            return httpx.Response(200, json={**response.json(), "members": []})
        return response

    for entra in (
        _with_group(TamperedFake(empty)),
        _with_group(TamperedFake(_members_despite_exclusion), members_excluded=False),
    ):
        entra.start()
        entra.rename_group(GROUP, "renamed")
        entra.run_cycle()
        assert _failures(entra) == []


def _members_in_match(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    if _is_match(request) and request.url.path.endswith("/Groups"):
        doc = response.json()
        doc["totalResults"] = 1
        doc["Resources"] = [{"id": "g1", "displayName": "displayName", "members": [{"value": "x"}]}]
        return httpx.Response(200, json=doc)
    return response


def test_members_in_a_group_match_fail_the_group() -> None:
    entra = _with_group(TamperedFake(_members_in_match))
    entra.start()
    assert _failures(entra) == [(GROUP, "SystemForCrossDomainIdentityManagementMultipleEntriesInResponse")]


@pytest.mark.parametrize("media_type", ["text/html", "text/json;charset=UTF-8", None])
def test_an_answer_of_another_media_type_fails_the_object_as_service_incompatible(media_type: str | None) -> None:
    """§1 (documented): servers reply with application/scim+json; other types fail (inferred)."""

    def retype(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.method != "POST":
            return response
        headers = {"Content-Type": media_type} if media_type else {}
        return httpx.Response(response.status_code, content=response.content, headers=headers)

    entra, _ = make_entra(fake=TamperedFake(retype))
    report = entra.start()
    failed = [entry for entry in report.entries if entry.outcome == "Failure"]
    assert {entry.code for entry in failed} == {"SystemForCrossDomainIdentityManagementServiceIncompatible"}
    assert TUT_USER in {entry.source_id for entry in failed}
    assert "Content-Type" in failed[0].detail
    assert ("user", TUT_USER) in entra.state.escrows


@pytest.mark.parametrize("media_type", ["application/scim+json; charset=utf-8", "application/json", "APPLICATION/JSON"])
def test_scim_json_and_plain_json_answers_are_accepted(media_type: str) -> None:
    def retype(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        return httpx.Response(response.status_code, content=response.content, headers={"Content-Type": media_type})

    entra, _ = make_entra(fake=TamperedFake(retype))
    entra.start()
    assert _failures(entra) == []


def test_a_text_html_test_query_answer_quarantines_the_job() -> None:
    """§7: the start-up test calls failing is a global failure."""

    def html(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        return httpx.Response(response.status_code, content=response.content, headers={"Content-Type": "text/html"})

    entra, _ = make_entra(fake=TamperedFake(html))
    report = entra.start()
    assert report.quarantine is not None and report.quarantine.reason == "EncounteredQuarantineException"


@pytest.mark.parametrize("field", ["totalResults", "startIndex", "itemsPerPage"])
def test_a_paging_field_as_a_string_fails_the_matched_object(field: str) -> None:
    """§4 Get User by query: JSON numbers (documented); a string is unreadable (inferred)."""

    def stringify(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if not _is_match(request):
            return response
        doc = response.json()
        doc[field] = str(doc[field])
        return httpx.Response(200, json=doc)

    entra, _ = make_entra(fake=TamperedFake(stringify))
    entra.start()
    codes = {code for _, code in _failures(entra)}
    assert codes == {"SystemForCrossDomainIdentityManagementServiceIncompatible"}
    assert TUT_USER in {source for source, _ in _failures(entra)}


def test_a_linked_user_read_without_id_fails_the_user() -> None:
    """§6 (documented): id is required in every returned resource."""

    def drop_id(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.method == "GET" and "/Users/" in request.url.path and response.status_code == 200:
            return httpx.Response(200, json={k: v for k, v in response.json().items() if k != "id"})
        return response

    entra, _ = make_entra(fake=TamperedFake(drop_id))
    entra.start()
    entra.update_user(TUT_USER, {"lastName": "Changed"})
    entra.run_cycle()
    assert (TUT_USER, "SystemForCrossDomainIdentityManagementServiceIncompatible") in _failures(entra)
