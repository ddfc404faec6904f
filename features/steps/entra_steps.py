"""Entra-only steps: cycles, scoping, matching, deletes, provision on demand, escrow and quarantine."""

from __future__ import annotations

import json

from pytest_bdd import given, parsers, then, when

from emulators.entra import ENTRA_DEFAULT, ENTRA_SCIM062020, Clause, EntraRule, ScopingFilter
from emulators.entra.log import Outcome
from features.steps.checks import assert_no_writes, assert_patch_dialect
from features.steps.world import World
from scimcore import urns
from scimcore.faults import Fault, Match, Rule

HOUR = 3600.0


@given("an Entra tenant")
def entra_tenant(world: World) -> None:
    world.config.use("entra", ENTRA_DEFAULT.name)


@given("an Entra tenant with the aadOptscim062020 flag")
def entra_tenant_flag(world: World) -> None:
    world.config.use("entra", ENTRA_SCIM062020.name)


@given("Entra provisions all users and groups, assigned or not")
def scope_all(world: World) -> None:
    world.config.settings["scope"] = "all"


@given(parsers.parse('Entra provisions only users whose {attribute} {operator} "{value}"'))
def scoping_filter(world: World, attribute: str, operator: str, value: str) -> None:
    world.config.options["scoping"] = ScopingFilter(((Clause(attribute, operator, value),),))


@given("the Entra user mapping also has:")
def entra_mapping(world: World, datatable: list[list[str]]) -> None:
    _, *rows = datatable
    world.config.rules.extend(EntraRule(target, kind, source) for target, kind, source in rows)  # type: ignore[arg-type]


@given(parsers.parse('the directory has the extension attribute "{name}"'))
def extension_attribute(world: World, name: str) -> None:
    world.directory.custom_attributes = (*world.directory.custom_attributes, name)


@when("the first cycle runs")
@when("the next cycle runs")
def next_cycle(world: World) -> None:
    world.sync()


@when("provisioning is restarted")
def restart(world: World) -> None:
    world.rewrite()


@when(parsers.parse("{hours:d} hours pass"))
def hours_pass(world: World, hours: int) -> None:
    world.entra.clock.advance(hours * HOUR)


@then(parsers.parse("the last cycle was an {kind} cycle"))
def cycle_kind(world: World, kind: str) -> None:
    assert world.entra.reports[-1].kind == kind, f"the last cycle was {world.entra.reports[-1].kind}"


@then("the last cycle wrote nothing")
def cycle_wrote_nothing(world: World) -> None:
    assert_no_writes(world.methods_sent()[world.mark :])


@when(parsers.parse('"{name}" is soft-deleted in Entra'))
def soft_delete(world: World, name: str) -> None:
    world.remember(name)
    world.entra.emulator.soft_delete_user(world.user_id(name))


@when(parsers.parse('"{name}" is restored in Entra'))
def restore(world: World, name: str) -> None:
    world.entra.emulator.restore_user(world.user_id(name))


@when(parsers.parse('"{name}" is hard-deleted in Entra'))
def hard_delete(world: World, name: str) -> None:
    world.entra.emulator.hard_delete_user(world.user_id(name))
    world.gone.add(world.login(name))


@when(parsers.parse('Entra provisions "{name}" on demand'))
def on_demand(world: World, name: str) -> None:
    world.mark = len(world.exchanges)
    world.entra.emulator.provision_on_demand(world.user_id(name))


@then(parsers.parse('Entra matched "{name}" to the existing user'))
def matched(world: World, name: str) -> None:
    assert world.entra.emulator.links.scim_id("user", world.user_id(name)) == world.ids[name]
    assert len(world.sp.users(world.login(name))) == 1, "Entra created a second user"


@then(parsers.parse('the provisioning log shows "{code}" for "{name}"'))
def log_code(world: World, code: str, name: str) -> None:
    codes = [entry.code for entry in world.entra.emulator.log.for_object(world.user_id(name))]
    assert code in codes, f"log codes for {name}: {codes}"


@then(parsers.parse("Entra sent PATCH operations named {ops} and {encoding} booleans"))
def patch_dialect(world: World, ops: str, encoding: str) -> None:
    assert_patch_dialect(world.exchanges, {op.strip() for op in ops.split(",")}, encoding)


# -- failures: escrow and quarantine (docs/entra-idp.md §7) ------------------------------------------


@given(parsers.parse("the service provider fails the next {count:d} user creations with status {status:d}"))
def failing_creates(world: World, count: int, status: int) -> None:
    world.faults.rules.append(Rule(Fault.server_error(status), Match("POST", r"/Users$"), times=count))


@when(parsers.parse("the service provider fails every request with status {status:d}"))
def failing_everything(world: World, status: int) -> None:
    world.faults.rules.append(Rule(Fault.server_error(status), times=None))


@when("the service provider recovers")
def recovers(world: World) -> None:
    world.faults.rules.clear()


@then(parsers.parse('"{name}" is in escrow'))
def in_escrow(world: World, name: str) -> None:
    assert ("user", world.user_id(name)) in world.entra.emulator.state.escrows, f"{name} is not in escrow"


@then(parsers.parse('"{name}" is not in escrow'))
def not_in_escrow(world: World, name: str) -> None:
    assert ("user", world.user_id(name)) not in world.entra.emulator.state.escrows, f"{name} is still in escrow"


@then("the provisioning job is in quarantine")
def quarantined(world: World) -> None:
    assert world.entra.emulator.quarantine is not None, "the job is not in quarantine"


@then("the provisioning job is not in quarantine")
def not_quarantined(world: World) -> None:
    assert world.entra.emulator.quarantine is None, f"the job is in quarantine: {world.entra.emulator.quarantine}"


@then(parsers.parse("the next cycle is due in {hours:d} hours"))
def next_due(world: World, hours: int) -> None:
    state, now = world.entra.emulator.state, world.entra.clock.now()
    assert state.next_cycle_at is not None and state.next_cycle_at - now == hours * HOUR


# -- nested groups (docs/entra-idp.md §3.4; AUP keeps groups flat, docs/domain.md §1.1) ------------


@given(parsers.parse('the group "{child}" is a member of the group "{parent}"'))
def nest_group(world: World, child: str, parent: str) -> None:
    world.directory.groups[world.group_id(parent)].member_groups.append(world.group_id(child))


@then(parsers.parse('the service provider refused the group "{child}" as a member of "{parent}" with a SCIM error'))
def nested_member_refused(world: World, child: str, parent: str) -> None:
    links = world.entra.emulator.links
    child_id, parent_id = links.scim_id("group", world.group_id(child)), links.scim_id("group", world.group_id(parent))
    sent = [
        e
        for e in world.exchanges
        if e.method == "PATCH"
        and e.path.endswith(f"/Groups/{parent_id}")
        and f'"{child_id}"' in json.dumps(e.request_body)
    ]
    assert sent, f"Entra sent no members add for the group {child}"
    body = sent[-1].response_body
    assert 400 <= sent[-1].status < 500, f"the nested member was answered {sent[-1].status}"
    assert isinstance(body, dict) and urns.ERROR in body.get("schemas", []), f"not a SCIM error: {body!r}"


@then(parsers.parse('the provisioning log shows a failure for the group "{group}"'))
def group_failure_logged(world: World, group: str) -> None:
    entries = world.entra.emulator.log.for_object(world.group_id(group))
    assert any(entry.outcome is Outcome.FAILURE for entry in entries), f"log of {group}: {[str(e) for e in entries]}"


@then(parsers.parse('the group "{group}" is in escrow'))
def group_in_escrow(world: World, group: str) -> None:
    assert ("group", world.group_id(group)) in world.entra.emulator.state.escrows, f"{group} is not in escrow"


@then(parsers.parse('the group "{group}" is not in escrow'))
def group_not_in_escrow(world: World, group: str) -> None:
    assert ("group", world.group_id(group)) not in world.entra.emulator.state.escrows, f"{group} is in escrow"


@then(parsers.parse('the group "{group}" on the service provider holds "{who}" and no group'))
def flat_members(world: World, group: str, who: str) -> None:
    doc = world.sp.group_named(world.group_name(group))
    assert doc is not None, f"the service provider has no group {group}"
    members = {m.get("value") for m in doc.get("members") or []}
    users = {str(world.entra.emulator.links.scim_id("user", world.user_id(name.strip()))) for name in who.split(",")}
    assert members == users, f"{group} holds {sorted(members)}, expected {sorted(users)}"
