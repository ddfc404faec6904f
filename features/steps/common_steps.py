"""Steps shared by every area: the directory, assignments, groups, syncs, drift, and the one-way checks."""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when

from emulators.core.directory import Group, User
from emulators.core.expected import same_value
from emulators.core.mapping import TargetPath, get_value
from emulators.registry import idps
from features.steps.checks import assert_no_writes, assert_unchanged
from features.steps.world import World


def names(text: str) -> list[str]:
    """ "ann, ben" -> ["ann", "ben"]; "" -> []."""
    return [part.strip() for part in text.split(",") if part.strip()]


# -- the IdP -------------------------------------------------------------------------------------


@given(parsers.parse("{idp} provisions to the service provider"))
def idp_provisions(world: World, idp: str) -> None:
    """Any IdP of the registry, by its Gherkin name ("Okta", "Okta (AIW)", "Entra", ...)."""
    known = idps().gherkin_names()
    assert idp in known, f"unknown IdP {idp!r}; use one of {', '.join(known)}"
    spec, profile = known[idp]
    world.config.use(spec.name, profile.name)


@given(parsers.parse('the IdP\'s setting "{name}" is "{value}"'))
def idp_setting(world: World, name: str, value: str) -> None:
    """One field of the IdP's settings object (its admin choices), before the first admin action."""
    world.config.settings[name] = {"true": True, "false": False}.get(value, value)


@given("the directory has users:")
def directory_users(world: World, datatable: list[list[str]]) -> None:
    header, *rows = datatable
    for row in rows:
        values = dict(zip(header, row, strict=True))
        name = values.pop("name")
        profile = {"login": world.login(name), **{k: v for k, v in values.items() if v}}
        world.directory.users[world.user_id(name)] = User(world.user_id(name), profile)


@given(parsers.parse('the directory has a group "{group}" with members "{members}"'))
def directory_group(world: World, group: str, members: str) -> None:
    members_ids = [world.user_id(n) for n in names(members)]
    group_id = world.group_id(group)
    world.directory.groups[group_id] = Group(group_id, world.group_name(group), members=members_ids)


@given(parsers.parse('"{who}" is assigned to the app'))
@when(parsers.parse('"{who}" is assigned to the app'))
def assign(world: World, who: str) -> None:
    for name in names(who):
        world.idp.assign_user(world.user_id(name))
    world.remember_all()


@when(parsers.parse('"{name}" is unassigned from the app'))
def unassign(world: World, name: str) -> None:
    world.remember(name)
    world.idp.unassign_user(world.user_id(name))


@given(parsers.parse('the IdP provisions the group "{group}"'))
@when(parsers.parse('the IdP provisions the group "{group}"'))
def connect_group(world: World, group: str) -> None:
    world.idp.connect_group(world.group_id(group))


@when(parsers.parse('the IdP stops provisioning the group "{group}"'))
def disconnect_group(world: World, group: str) -> None:
    world.idp.disconnect_group(world.group_id(group))


@when(parsers.parse('the IdP changes the {attribute} of "{name}" to "{value}"'))
def change_attribute(world: World, attribute: str, name: str, value: str) -> None:
    world.idp.update_user(world.user_id(name), {attribute: value})


@when(parsers.parse('the IdP clears the {attribute} of "{name}"'))
def clear_attribute(world: World, attribute: str, name: str) -> None:
    world.idp.update_user(world.user_id(name), {attribute: None})


@given(parsers.parse('"{name}" is deactivated in the IdP'))
@when(parsers.parse('"{name}" is deactivated in the IdP'))
def deactivate(world: World, name: str) -> None:
    world.remember(name)
    world.idp.deactivate(world.user_id(name))


@when(parsers.parse('"{name}" is reactivated in the IdP'))
def reactivate(world: World, name: str) -> None:
    world.idp.reactivate(world.user_id(name))


@when(parsers.parse('"{name}" joins the group "{group}"'))
def join(world: World, name: str, group: str) -> None:
    world.idp.add_member(world.group_id(group), world.user_id(name))


@when(parsers.parse('"{name}" leaves the group "{group}"'))
def leave(world: World, name: str, group: str) -> None:
    world.idp.remove_member(world.group_id(group), world.user_id(name))


@when(parsers.parse('the group "{group}" is renamed to "{new}"'))
def rename_group(world: World, group: str, new: str) -> None:
    world.idp.rename_group(world.group_id(group), world.group_name(new))


@given("the IdP has synced")
@when("the IdP syncs")
def sync(world: World) -> None:
    world.sync()


@when("the IdP syncs again with no change in the directory")
def resync(world: World) -> None:
    world.before = world.snapshot()
    _ = world.idp
    world.mark = len(world.exchanges)
    world.idp.resync()


@when("the IdP writes every user it owns again")
def rewrite(world: World) -> None:
    world.rewrite()


# -- the service provider admin ------------------------------------------------------------------


@given(parsers.parse('the service provider already has a user "{name}"'))
def sp_has_user(world: World, name: str) -> None:
    world.ids[name] = str(world.sp.create_user(world.login(name), active=True)["id"])


@given(parsers.parse('the service provider already has a group "{group}"'))
def sp_has_group(world: World, group: str) -> None:
    world.ids[f"group:{group}"] = str(world.sp.create_group(world.group_name(group))["id"])


@when(parsers.parse('the service provider admin sets the {path} of "{name}" to "{value}"'))
def drift(world: World, path: str, name: str, value: str) -> None:
    world.sp.set_user_value(str(world.existing_user(name)["id"]), path, value)
    world.tolerated.setdefault(world.login(name), set()).add(path)


@when(parsers.parse('the service provider admin adds "{name}" to the group "{group}"'))
def drift_member(world: World, name: str, group: str) -> None:
    found = world.sp.group_named(world.group_name(group))
    assert found is not None, f"the service provider has no group {world.group_name(group)}"
    world.sp.add_members(str(found["id"]), [str(world.existing_user(name)["id"])])


# -- checks ----------------------------------------------------------------------------------------


@then("the service provider holds the expected state of the directory")
def holds_expected_state(world: World) -> None:
    world.check_expected_state()


@then(parsers.parse('the {path} of "{name}" on the service provider is "{value}"'))
def sp_value(world: World, path: str, name: str, value: str) -> None:
    actual = get_value(world.existing_user(name), TargetPath.parse(path))
    assert same_value(actual, value), f"{path} of {name} is {actual!r}, expected {value!r}"


@then(parsers.parse('"{name}" has no {path} on the service provider'))
def sp_no_value(world: World, name: str, path: str) -> None:
    actual = get_value(world.existing_user(name), TargetPath.parse(path))
    assert actual is None, f"{path} of {name} is {actual!r}, expected no value"


@then(parsers.parse('the directory still has {attribute} "{value}" for "{name}"'))
def directory_value(world: World, attribute: str, value: str, name: str) -> None:
    actual = world.directory.user(world.user_id(name)).profile.get(attribute)
    assert actual == value, f"the directory's {attribute} of {name} became {actual!r}: something flowed back"


@then(parsers.parse('"{name}" is active on the service provider'))
def sp_active(world: World, name: str) -> None:
    doc = world.existing_user(name)
    assert doc.get("active") is True, f"{name} is not active: {doc.get('active')!r}"


@then(parsers.parse('"{name}" is inactive on the service provider'))
def sp_inactive(world: World, name: str) -> None:
    doc = world.existing_user(name)
    assert doc.get("active") is False, f"{name} is not inactive: {doc.get('active')!r}"


@then(parsers.parse('"{name}" is inactive on the service provider with the same id'))
def sp_inactive_same_id(world: World, name: str) -> None:
    doc = world.existing_user(name)
    assert doc.get("active") is False, f"{name} is not inactive: {doc.get('active')!r}"
    assert doc["id"] == world.ids[name], f"{name} changed id: {world.ids[name]} -> {doc['id']}"


@then(parsers.parse('"{name}" is active again with the same id'))
def sp_active_same_id(world: World, name: str) -> None:
    sp_active(world, name)
    assert world.existing_user(name)["id"] == world.ids[name], f"{name} was provisioned twice"
    assert len(world.sp.users(world.login(name))) == 1, f"{name} exists twice"


@then(parsers.parse('"{name}" is not on the service provider'))
def sp_absent(world: World, name: str) -> None:
    assert world.server_user(name) is None, f"{world.login(name)} is still on the service provider"


@then(parsers.parse('the group "{group}" on the service provider has members "{members}"'))
def sp_group_members(world: World, group: str, members: str) -> None:
    found = world.sp.group_named(world.group_name(group))
    assert found is not None, f"the service provider has no group {world.group_name(group)}"
    ids = {m["value"] for m in found.get("members") or ()}
    actual = sorted(str(world.sp.user(i)["userName"]) for i in ids)
    assert actual == sorted(world.login(n) for n in names(members)), f"members of {group}: {actual}"


@then(parsers.parse('the group "{group}" is not on the service provider'))
def sp_group_absent(world: World, group: str) -> None:
    assert world.sp.group_named(world.group_name(group)) is None, f"group {group} is still there"


@then("the re-sync left the service provider unchanged")
def resync_unchanged(world: World) -> None:
    assert_unchanged(world.before, world.snapshot())


@then("the re-sync wrote nothing")
def resync_wrote_nothing(world: World) -> None:
    assert_no_writes(world.methods_sent()[world.mark :])
