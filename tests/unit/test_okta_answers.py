"""What Okta enforces of the server's answers (docs/okta-idp.md §3, §8, §9): an answer it cannot use fails the task."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from emulators.okta import OKTA_AIW, OKTA_OIN, OktaProfile, OktaSettings, Task
from tests.unit.okta_setup import TEST_USER_ID, make_okta
from tests.unit.scim_fake import FakeScim

Edit = Callable[[httpx.Request, Any], Any]


class EditedFake(FakeScim):
    """The SCIM fake with the JSON of its 200 answers edited (``edit`` may change it in place)."""

    def __init__(self, edit: Edit) -> None:
        super().__init__()
        self.edit = edit

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = super().handle(request)
        if response.status_code != 200 or not response.content:
            return response
        doc = response.json()
        return httpx.Response(200, json=self.edit(request, doc) or doc)


def _lists(edit: Callable[[dict[str, Any]], None]) -> Edit:
    return lambda request, doc: edit(doc) if "Resources" in doc else None


def _failed(tasks: list[Task]) -> list[str]:
    return [str(task.error) for task in tasks if task.status.value == "FAILED"]


@pytest.mark.parametrize("field", ["totalResults", "startIndex", "itemsPerPage"])
def test_a_paging_field_as_a_string_fails_the_connection_test_import_and_lookup(field: str) -> None:
    """docs/okta-idp.md §3 (documented): JSON integers, not strings."""
    okta, fake = make_okta(fake=EditedFake(_lists(lambda doc: doc.update({field: str(doc[field])}))))
    fake.add("Users", {"userName": "someone@x", "active": True})
    assert _failed(okta.test_connection()) == [
        f"GET /Users answered 200: {field} is '{doc_value(field)}', not a JSON integer"
    ]
    assert _failed([okta.import_users().task]) != []  # type: ignore[list-item]
    assert any(field in error for error in _failed(okta.assign_user(TEST_USER_ID)))
    assert "POST" not in [method for method, _ in fake.calls()]


def doc_value(field: str) -> str:
    """What the fake answers for the connection test (one user, startIndex 1, a page of one)."""
    return {"totalResults": "1", "startIndex": "1", "itemsPerPage": "1"}[field]


def test_lowercase_spellings_are_read_as_integers() -> None:
    """docs/okta-idp.md §3 (documented): lowercase totalresults and friends are accepted."""

    def lower(doc: dict[str, Any]) -> None:
        for key in ("totalResults", "startIndex", "itemsPerPage", "Resources"):
            doc[key.lower()] = doc.pop(key)

    okta, fake = make_okta(fake=EditedFake(_lists(lower)), settings=OktaSettings(import_groups=True))
    fake.add("Users", {"userName": "someone@x", "active": True})
    assert _failed(okta.test_connection()) == []
    assert len(okta.import_users().users) == 1


def test_a_list_without_the_list_response_schema_fails_the_task() -> None:
    """docs/okta-idp.md §11a, SPEC Test step 1; the client failing on it is inferred."""
    okta, _ = make_okta(fake=EditedFake(_lists(lambda doc: doc.pop("schemas"))))
    [error] = _failed(okta.assign_user(TEST_USER_ID))
    assert "ListResponse" in error


def _string_active(request: httpx.Request, doc: Any) -> None:
    if request.method == "GET" and isinstance(doc.get("active"), bool):
        doc["active"] = str(doc["active"]).lower()


def test_a_user_read_with_a_string_active_fails_the_task() -> None:
    """docs/okta-idp.md §9 (documented): a boolean active; AIW reads the user before its PUT."""
    okta, _ = make_okta(profile=OKTA_AIW, fake=EditedFake(_string_active))
    assert _failed(okta.assign_user(TEST_USER_ID)) == []
    [error] = _failed(okta.deactivate_user(TEST_USER_ID))
    assert "active is 'true', not a JSON boolean" in error


def test_an_imported_user_with_a_string_active_fails_the_import() -> None:
    def string_active(request: httpx.Request, doc: Any) -> None:
        for item in doc.get("Resources") or []:
            item["active"] = "false"

    okta, fake = make_okta(fake=EditedFake(string_active))
    fake.add("Users", {"userName": "someone@x", "active": False})
    assert "active is 'false'" in str(okta.import_users().task.error)  # type: ignore[union-attr]


def test_any_media_type_is_read() -> None:
    """docs/okta-idp.md §8 (documented): Okta's own examples answer text/json, even text/html."""

    class Retyped(FakeScim):
        def handle(self, request: httpx.Request) -> httpx.Response:
            response = super().handle(request)
            return httpx.Response(response.status_code, content=response.content, headers={"Content-Type": "text/html"})

    okta, _ = make_okta(fake=Retyped())
    assert _failed(okta.test_connection() + okta.assign_user(TEST_USER_ID)) == []


@pytest.mark.parametrize("profile", [OKTA_OIN, OKTA_AIW], ids=["oin", "aiw"])
def test_the_rules_can_be_switched_off(profile: OktaProfile) -> None:
    lenient = replace(profile, integer_list_counts=False, list_schema_required=False, boolean_active=False)

    def sloppy(request: httpx.Request, doc: Any) -> None:
        _string_active(request, doc)
        if "Resources" in doc:
            doc.pop("schemas")
            doc["totalResults"] = str(doc["totalResults"])

    okta, _ = make_okta(profile=lenient, fake=EditedFake(sloppy))
    assert _failed(okta.test_connection() + okta.assign_user(TEST_USER_ID)) == []
    assert _failed(okta.deactivate_user(TEST_USER_ID)) == []
