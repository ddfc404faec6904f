"""python-scim's scim2-tester against a real ``aup serve`` process (issue #17: interop with peers' clients).

Every check scim2-tester runs is counted, and every error it reports is listed below by check, resource
type and subject, with the reason it is expected: each is a refusal or a server-assigned value the RFCs
allow, never a defect. Any other error, or a change in the number of checks, fails the test.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from scim2_client.client import BaseSyncSCIMClient
from scim2_client.errors import RequestNetworkException
from scim2_tester import CheckResult, Status, check_server

from scimcore import urns
from tests.integration.conftest import start_server, stop_server, wait_for

pytestmark = pytest.mark.network

ENTERPRISE = urns.ENTERPRISE_USER
COREWEAVE = "urn:coreweave:params:scim:schemas:extension:coreweave:2.0:CoreWeaveUser"
SSH_KEYS = f"{COREWEAVE}:sunkSshKeys"
POSIX_USER = "urn:ietf:params:scim:schemas:extension:posix:2.0:User"
POSIX_GROUP = "urn:ietf:params:scim:schemas:extension:posix:2.0:Group"

# Why an error is expected, and a pattern its reason must match (so an error of another kind on the same
# check still fails the test).
SSH_KEY_REFUSED = (
    "scim2-tester fills sunkSshKeys with random strings; with POSIX on, every key is validated and a value "
    "that is no OpenSSH public key is 400 invalidValue (RFC 7644 §3.12; docs/posix.md)",
    r"SSH key type .* is not accepted",
)
POSIX_READ_ONLY = (
    "every POSIX attribute is readOnly and assigned by the server (RFC 7643 §2.2); scim2-tester PATCHes the "
    "extension with no attribute and expects none back, or expects a remove to take the server's ids away "
    "(refused: 400 mutability, RFC 7644 §3.5.2.2)",
    r"unexpected value|was not (added|replaced)|is readOnly: the server sets it, and PATCH cannot remove it",
)
MEMBER_DISPLAY = (
    "members.display (and, with POSIX on, members.username) are readOnly values the server fills (RFC 7643 §2.2; "
    "§8.7.1 defines no client-set display for Group members, and RFC 7644 §3.3 lets the server return its own "
    "representation); scim2-tester compares them with the member it sent, which had none",
    r"'members' was not (added|replaced) or has unexpected value",
)
ADD_APPENDS = (
    "add to a multi-valued attribute appends to the values an earlier check set (RFC 7644 §3.5.2.1); "
    "scim2-tester expects only the added value back",
    r"returned unexpected value",
)

Key = tuple[str, str, str]  # (check, resource type, the attribute or extension it targets, or "")

# The errors of a default ``aup serve`` (POSIX on), 16 of its 119 checks.
EXPECTED_POSIX: dict[Key, tuple[str, str]] = {
    ("object_query_with_attributes", "User", ""): SSH_KEY_REFUSED,
    ("object_list_with_attributes", "User", ""): SSH_KEY_REFUSED,
    ("search_with_attributes", "User", ""): SSH_KEY_REFUSED,
    ("object_replacement", "User", ""): SSH_KEY_REFUSED,
    ("check_add_attribute", "User", COREWEAVE): SSH_KEY_REFUSED,
    ("check_add_attribute", "User", SSH_KEYS): SSH_KEY_REFUSED,
    ("check_remove_attribute", "User", ""): SSH_KEY_REFUSED,
    ("check_replace_attribute", "User", COREWEAVE): SSH_KEY_REFUSED,
    ("check_replace_attribute", "User", SSH_KEYS): SSH_KEY_REFUSED,
    ("check_add_attribute", "User", POSIX_USER): POSIX_READ_ONLY,
    ("check_replace_attribute", "User", POSIX_USER): POSIX_READ_ONLY,
    ("check_add_attribute", "Group", POSIX_GROUP): POSIX_READ_ONLY,
    ("check_remove_attribute", "Group", POSIX_GROUP): POSIX_READ_ONLY,
    ("check_replace_attribute", "Group", POSIX_GROUP): POSIX_READ_ONLY,
    ("check_add_attribute", "Group", "members"): MEMBER_DISPLAY,
    ("check_replace_attribute", "Group", "members"): MEMBER_DISPLAY,
}

# With POSIX off the keys are not validated, every check can create its users, and 7 of 148 checks fail.
EXPECTED_NO_POSIX: dict[Key, tuple[str, str]] = {
    ("check_add_attribute", "User", SSH_KEYS): ADD_APPENDS,
    ("check_add_attribute", "User", POSIX_USER): POSIX_READ_ONLY,
    ("check_replace_attribute", "User", POSIX_USER): POSIX_READ_ONLY,
    ("check_add_attribute", "Group", POSIX_GROUP): POSIX_READ_ONLY,
    ("check_replace_attribute", "Group", POSIX_GROUP): POSIX_READ_ONLY,
    ("check_add_attribute", "Group", "members"): MEMBER_DISPLAY,
    ("check_replace_attribute", "Group", "members"): MEMBER_DISPLAY,
}


def _expected(posix: bool) -> dict[Key, tuple[str, str]]:
    return dict(EXPECTED_POSIX if posix else EXPECTED_NO_POSIX)


class HttpxSCIMClient(BaseSyncSCIMClient):
    """scim2-client over the project's httpx (its own network engine needs httpx2, which the project does not use)."""

    def __init__(self, client: httpx.Client, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client

    def _parse_json(self, response: Any) -> Any:
        return response.json()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.client.request(method, url, **kwargs)
        except httpx.RequestError as exc:
            error = RequestNetworkException()
            error.add_note(str(exc))
            raise error from exc


def _key(result: CheckResult) -> Key:
    data = result.data if isinstance(result.data, dict) else {}
    return (result.title or "", result.resource_type or "", str(data.get("urn") or ""))


@pytest.fixture(params=[True, False], ids=["posix", "no-posix"])
def run(request: pytest.FixtureRequest, server_db: str) -> Iterator[tuple[bool, list[CheckResult]]]:
    posix: bool = request.param
    proc = start_server(server_db, *(() if posix else ("--no-posix",)))
    try:
        base = wait_for(proc, r"SCIM base URL \(default\): (\S+)").group(1)
        token = wait_for(proc, r"New bearer token for default .*: (\S+)").group(1)
        wait_for(proc, r"aup serving on")
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10.0) as http:
            yield posix, check_server(HttpxSCIMClient(http))
    finally:
        code = stop_server(proc)
    assert code == 0, f"server exited with {code}"


def test_scim2_tester_reports_only_the_expected_errors(run: tuple[bool, list[CheckResult]]) -> None:
    posix, results = run
    expected = _expected(posix)
    errors = {_key(r): r.reason or "" for r in results if r.status is Status.ERROR}
    unexpected = {key: reason for key, reason in errors.items() if key not in expected}
    assert not unexpected, f"new scim2-tester errors: {unexpected}"
    assert sorted(errors) == sorted(expected), "an expected error is gone: update the list and the README"
    for key, (why, pattern) in expected.items():
        assert re.search(pattern, errors[key]), f"{key} fails for another reason than {why!r}: {errors[key]}"
    statuses = Counter(r.status.name for r in results)
    total = 119 if posix else 148
    assert statuses == {"SUCCESS": total - len(expected), "ERROR": len(expected)}
    assert len(results) == total
