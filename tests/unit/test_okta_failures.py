"""How the Okta emulator fails (docs/okta-idp.md §8): the 429 algorithm on a fake clock, failed and retried tasks."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from emulators.core.clock import FakeClock
from emulators.core.linkstore import LinkStore
from emulators.core.retry import RateLimitExhaustedError, RateLimitPolicy, send_with_rate_limit
from emulators.okta import OKTA_OIN, OktaEmulator, TaskLog, TaskStatus
from emulators.okta.profile import OKTA_RATE_LIMIT
from scimcore.client import make_http
from tests.unit.okta_setup import TEST_USER_ID, make_okta, s20_directory
from tests.unit.scim_fake import BASE_URL, FakeScim, empty_list, error_response


def too_many(retry_after: str | None = None) -> httpx.Response:
    return httpx.Response(429, headers={"Retry-After": retry_after} if retry_after is not None else {})


def replay(*responses: httpx.Response) -> tuple[list[httpx.Response], object]:
    queue = list(responses)
    return queue, lambda: queue.pop(0)


@pytest.mark.parametrize(
    ("retry_after", "first_wait"),
    [("7", 7.0), ("0", 0.0), (None, 300.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 300.0), ("1.5", 300.0), ("-3", 300.0)],
)
def test_the_first_wait_is_an_integer_retry_after_else_five_minutes(retry_after: str | None, first_wait: float) -> None:
    clock = FakeClock()
    _, send = replay(too_many(retry_after), too_many("1"), httpx.Response(200))
    response = send_with_rate_limit(send, OKTA_RATE_LIMIT, clock)  # type: ignore[arg-type]
    assert response.status_code == 200
    assert clock.sleeps == [first_wait, first_wait * 2], "later Retry-After values are ignored: the wait doubles"


def test_ten_attempts_then_give_up() -> None:
    clock = FakeClock()
    queue, send = replay(*[too_many("2") for _ in range(11)])
    with pytest.raises(RateLimitExhaustedError) as caught:
        send_with_rate_limit(send, OKTA_RATE_LIMIT, clock)  # type: ignore[arg-type]
    assert caught.value.attempts == 10 and len(queue) == 1
    assert clock.sleeps == [2.0 * 2**n for n in range(9)]
    assert "after 10 attempts" in str(caught.value)


def test_other_statuses_are_returned_at_once() -> None:
    clock = FakeClock()
    _, send = replay(httpx.Response(503))
    assert send_with_rate_limit(send, OKTA_RATE_LIMIT, clock).status_code == 503  # type: ignore[arg-type]
    assert clock.sleeps == []


def test_a_policy_must_allow_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="max_attempts >= 1"):
        RateLimitPolicy(default_wait=1, factor=2, max_attempts=0)


def test_rate_limited_task_waits_on_the_clock_then_succeeds() -> None:
    fake, clock = FakeScim(), FakeClock()
    fake.scripted = [too_many("120"), too_many()]
    okta, fake = make_okta(fake=fake, clock=clock)
    [task] = okta.assign_user(TEST_USER_ID)
    assert task.status is TaskStatus.DONE and task.rate_limit_waits == [120.0, 240.0]
    assert clock.sleeps == [120.0, 240.0]
    assert [m for m, _ in fake.calls()] == ["GET", "GET", "GET", "POST"], "the same request is sent again"


def test_exhausted_rate_limit_fails_the_task_which_can_be_retried() -> None:
    fake, clock = FakeScim(), FakeClock()
    fake.scripted = [too_many("1") for _ in range(10)]
    okta, fake = make_okta(fake=fake, clock=clock)
    [task] = okta.assign_user(TEST_USER_ID)
    assert task.status is TaskStatus.FAILED and "HTTP 429" in task.error
    assert okta.tasks.failed() == [task] and okta.links.scim_id("user", TEST_USER_ID) is None
    [again] = okta.retry_failed()
    assert again is task and task.status is TaskStatus.DONE and task.attempts == 2
    assert okta.tasks.failed() == [] and okta.links.scim_id("user", TEST_USER_ID) is not None


@pytest.mark.parametrize(
    ("scripted", "message"),
    [
        ([error_response(500, "database is down")], r"GET /scim/v2/Users\?filter=.* answered 500: database is down"),
        (
            [empty_list(), error_response(409, "userName taken")],
            "POST /scim/v2/Users answered 409: userName taken",
        ),
        ([empty_list(), httpx.Response(201)], "Create new user returned empty user"),
        ([empty_list(), httpx.Response(201, json={"userName": "x"})], "Create new user returned empty user"),
    ],
)
def test_errors_fail_the_task_with_the_server_detail_and_no_automatic_retry(
    scripted: list[httpx.Response], message: str
) -> None:
    fake, clock = FakeScim(), FakeClock()
    fake.scripted = list(scripted)
    okta, fake = make_okta(fake=fake, clock=clock)
    [task] = okta.assign_user(TEST_USER_ID)
    assert task.status is TaskStatus.FAILED
    assert re.search(message, task.error), task.error
    assert len(fake.requests) == len(scripted) and clock.sleeps == []


def test_network_errors_fail_the_task() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    http = make_http(httpx.MockTransport(refuse), base_url=BASE_URL)
    okta = OktaEmulator(s20_directory(), http, OKTA_OIN, clock=FakeClock())
    [task] = okta.test_connection()
    assert task.status is TaskStatus.FAILED and "connection refused" in task.error


def test_a_failed_deactivation_keeps_the_link_until_retried() -> None:
    okta, fake = make_okta()
    okta.assign_user(TEST_USER_ID)
    fake.scripted = [error_response(503, "maintenance")]
    [task] = okta.unassign_user(TEST_USER_ID)
    assert task.status is TaskStatus.FAILED and okta.links.scim_id("user", TEST_USER_ID) is not None
    okta.retry(task.id)
    assert task.status is TaskStatus.DONE and okta.links.scim_id("user", TEST_USER_ID) is None


def test_failed_tasks_survive_a_restart_and_are_retried_by_a_new_emulator(tmp_path: Path) -> None:
    """Tasks and links are files, so another process can list and retry what failed."""
    fake = FakeScim()
    fake.scripted = [error_response(500, "boom")]
    links_path, tasks_path = tmp_path / "links.json", tmp_path / "tasks.json"
    okta, fake = make_okta(fake=fake)
    okta.links = okta.users.links = okta.groups.links = LinkStore(links_path)
    okta.assign_user(TEST_USER_ID)
    okta.tasks.save(tasks_path)

    log = TaskLog.load(tasks_path)
    [failed] = log.failed()
    assert failed.action == "provision_user" and failed.args == (TEST_USER_ID,) and "boom" in failed.error
    http = make_http(fake.transport, base_url=BASE_URL)
    again = OktaEmulator(s20_directory(), http, links=LinkStore(links_path), tasks=log, clock=FakeClock())
    again.retry(failed.id)
    assert failed.status is TaskStatus.DONE
    assert LinkStore(links_path).scim_id("user", TEST_USER_ID) in fake.resources["Users"]


def test_a_missing_task_file_is_an_empty_log(tmp_path: Path) -> None:
    assert TaskLog.load(tmp_path / "none.json").tasks == []
