"""Okta-only steps: its admin actions, group push, Force Sync, mapping expressions and 429 handling."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pytest_bdd import given, parsers, then, when

from emulators.core.errors import DirectoryError
from emulators.core.mapping import MappingRule
from emulators.okta import OKTA_AIW, OKTA_OIN, TaskStatus
from features.steps.checks import assert_lookup_before_create
from features.steps.world import World
from scimcore.faults import Fault, Rule

DIALECTS = {"OIN": OKTA_OIN, "AIW": OKTA_AIW}


@given("an Okta org")
def okta_org(world: World) -> None:
    world.config.use("okta")


@given(parsers.parse("an Okta org with a {dialect} app"))
def okta_org_dialect(world: World, dialect: str) -> None:
    world.config.use("okta", DIALECTS[dialect].name)


@given("the Okta attribute mapping also has:")
def okta_mapping(world: World, datatable: list[list[str]]) -> None:
    _, *rows = datatable
    world.config.rules.extend(MappingRule(target, expression) for target, expression in rows)


@when(parsers.parse('Okta assigns the group "{group}" to the app'))
def assign_group(world: World, group: str) -> None:
    world.okta.tasks.extend(world.okta.emulator.assign_group(world.group_id(group)))


@when(parsers.parse('Okta unassigns the group "{group}" from the app'))
def unassign_group(world: World, group: str) -> None:
    for user_id in world.directory.group(world.group_id(group)).members:
        world.remember(user_id.removeprefix(f"{world.prefix}-"))
    world.okta.tasks.extend(world.okta.emulator.unassign_group(world.group_id(group)))


@when(parsers.parse('"{name}" is suspended in Okta'))
def suspend(world: World, name: str) -> None:
    world.mark = len(world.exchanges)
    world.okta.tasks.extend(world.okta.emulator.suspend_user(world.user_id(name)))


@when(parsers.parse('"{name}" is unsuspended in Okta'))
def unsuspend(world: World, name: str) -> None:
    world.okta.tasks.extend(world.okta.emulator.unsuspend_user(world.user_id(name)))


@when(parsers.parse('"{name}" is deleted in Okta'))
def delete(world: World, name: str) -> None:
    world.remember(name)
    world.okta.tasks.extend(world.okta.emulator.delete_user(world.user_id(name)))


@then("Okta sent nothing")
def sent_nothing(world: World) -> None:
    assert world.exchanges[world.mark :] == [], "Okta sends nothing for this action"


@then(parsers.parse('Okta looked "{name}" up by userName before creating it'))
def lookup_then_create(world: World, name: str) -> None:
    assert_lookup_before_create(world.exchanges, world.login(name))


@then(parsers.parse('Okta linked "{name}" to the existing user'))
def linked_existing(world: World, name: str) -> None:
    assert world.okta.emulator.links.scim_id("user", world.user_id(name)) == world.ids[name]
    assert len(world.sp.users(world.login(name))) == 1, "Okta created a second user"


@given("Okta has imported the app's groups")
@when("Okta imports the app's groups")
def import_app_groups(world: World) -> None:
    """Import with group import on (docs/okta-idp.md §3): the app groups Okta may link to afterwards."""
    emulator = world.okta.emulator
    emulator.settings = replace(emulator.settings, import_groups=True)
    result = emulator.import_users()
    assert result.task is not None and result.task.status is TaskStatus.DONE, result.task


@when(parsers.parse('Okta links the group "{group}" to the existing app group'))
def link_group(world: World, group: str) -> None:
    tasks = world.okta.emulator.push_group(world.group_id(group), link_to=world.ids[f"group:{group}"])
    world.okta.tasks.extend(tasks)


@then(parsers.parse('Okta cannot link the group "{group}" before an import'))
def link_group_refused(world: World, group: str) -> None:
    with pytest.raises(DirectoryError, match="is not an app group Okta has imported"):
        world.okta.emulator.push_group(world.group_id(group), link_to=world.ids[f"group:{group}"])


@when(parsers.parse('Okta runs Push Now for the group "{group}"'))
def push_now(world: World, group: str) -> None:
    world.okta.tasks.extend(world.okta.emulator.push_now(world.group_id(group)))


@when(parsers.parse('Okta unlinks the group "{group}" and {choice} the app group'))
def unlink(world: World, group: str, choice: str) -> None:
    assert choice in ("deletes", "leaves"), f"say 'deletes' or 'leaves', not {choice!r}"
    world.okta.tasks.extend(world.okta.emulator.unlink_group(world.group_id(group), delete=choice == "deletes"))


@when("Okta runs Force Sync")
def force_sync(world: World) -> None:
    world.rewrite()


@then(parsers.parse('the group "{group}" on the service provider keeps the id it had'))
def group_same_id(world: World, group: str) -> None:
    found = world.sp.group_named(world.group_name(group))
    assert found is not None and found["id"] == world.ids[f"group:{group}"], "the app group was not adopted"


# -- HTTP 429 (docs/okta-idp.md §8) ------------------------------------------------------------------


@given(parsers.parse("the service provider answers the next {count:d} requests with 429 and Retry-After {seconds:d}"))
def throttled(world: World, count: int, seconds: int) -> None:
    world.faults.rules.append(Rule(Fault.rate_limited(seconds), times=count))


@given(parsers.parse("the service provider answers the next {count:d} requests with 429 and no Retry-After"))
def throttled_bare(world: World, count: int) -> None:
    world.faults.rules.append(Rule(Fault.rate_limited(), times=count))


@then(parsers.parse("Okta waited {waits} seconds"))
def waited(world: World, waits: str) -> None:
    expected = [float(w) for w in waits.replace(" and ", ", ").split(",")]
    assert world.okta.clock.sleeps == expected, f"Okta waited {world.okta.clock.sleeps}"


@then("the last Okta task failed")
def last_task_failed(world: World) -> None:
    task = world.okta.tasks[-1]
    assert task.status is TaskStatus.FAILED, f"task {task.title!r} is {task.status}"


@when("Okta retries the failed tasks")
def retry_failed(world: World) -> None:
    world.okta.tasks.extend(world.okta.emulator.retry_failed())


# -- password sync and import (docs/okta-idp.md §3, §6) ----------------------------------------------------


@given(parsers.parse('"{name}" has the Okta password "{password}"'))
@when(parsers.parse('"{name}" changes the Okta password to "{password}"'))
def set_password(world: World, name: str, password: str) -> None:
    world.mark = len(world.exchanges)
    world.okta.tasks.extend(world.okta.emulator.set_password(world.user_id(name), password))


def _passwords_sent(world: World, since: int = 0) -> list[str]:
    """Every password Okta put on the wire: in a create or PUT body, or in a PATCH operation's value."""
    found = []
    for exchange in world.exchanges[since:]:
        body = exchange.request_body if isinstance(exchange.request_body, dict) else {}
        if "password" in body:
            found.append(body["password"])
        for operation in body.get("Operations") or ():
            value = operation.get("value") if isinstance(operation, dict) else None
            if isinstance(value, dict) and "password" in value:
                found.append(value["password"])
    return found


@then(parsers.parse('Okta sent the password "{password}"'))
def sent_password(world: World, password: str) -> None:
    assert password in _passwords_sent(world), _passwords_sent(world)


@then(parsers.parse('Okta created the user with a random password, not "{password}"'))
def random_password(world: World, password: str) -> None:
    creates = [e.request_body["password"] for e in world.exchanges if e.method == "POST" and e.url.endswith("/Users")]
    assert creates and all(sent != password and len(sent) == 8 for sent in creates), creates


@then("Okta sent nothing for the password change")
def nothing_for_password(world: World) -> None:
    assert world.exchanges[world.mark :] == [], [e.method for e in world.exchanges[world.mark :]]


@when("Okta imports the app's users and confirms the exact matches")
def import_and_confirm(world: World) -> None:
    result = world.okta.emulator.import_users()
    assert result.task is not None and result.task.status is TaskStatus.DONE, result.task
    world.okta.emulator.confirm_import()
