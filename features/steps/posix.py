"""POSIX steps: "the cluster" reads the service provider as nsscache does and checks passwd and group."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from pytest_bdd import given, parsers, then, when

from emulators.nsscache import Maps, PasswdEntry, fetch_maps, nsscache_client
from features.steps.world import World
from scimcore.schemas import POSIX_USER_URN


@dataclass
class Cluster:
    """Every read the cluster made, and the uid each SCIM id had at its first read."""

    reads: list[Maps] = field(default_factory=list)
    first_uid: dict[str, int] = field(default_factory=dict)

    @property
    def now(self) -> Maps:
        assert self.reads, "the cluster has not read the service provider yet"
        return self.reads[-1]


@pytest.fixture
def cluster() -> Cluster:
    return Cluster()


@given("the cluster has read the service provider")
@when("the cluster reads the service provider")
def cluster_reads(world: World, cluster: Cluster) -> None:
    scim = nsscache_client(world.target.target)
    try:
        maps = fetch_maps(scim)
    finally:
        scim.http.close()
    cluster.reads.append(maps)
    for rid, name in maps.user_ids.items():
        cluster.first_uid.setdefault(rid, maps.passwd[name].uid)


@when(parsers.parse('the IdP renames "{name}" to "{new}"'))
def rename(world: World, name: str, new: str) -> None:
    world.remember(name)
    world.idp.update_user(world.user_id(name), {"login": world.login(new)})


@when(parsers.parse('the service provider admin deletes "{name}"'))
def admin_deletes(world: World, name: str) -> None:
    world.remember(name)
    response = world.sp.scim.delete(f"/Users/{world.ids[name]}")
    assert response.status_code == 204, f"DELETE answered {response.status_code}: {response.text}"


def passwd_entry(world: World, cluster: Cluster, name: str) -> PasswdEntry:
    rid = world.ids[name]
    username = cluster.now.user_ids.get(rid)
    assert username is not None, f"{name} ({rid}) is not in passwd; warnings: {cluster.now.warnings}"
    return cluster.now.passwd[username]


@then(parsers.parse('"{name}" is in passwd with the uid it first had'))
def same_uid(world: World, cluster: Cluster, name: str) -> PasswdEntry:
    entry = passwd_entry(world, cluster, name)
    first = cluster.first_uid[world.ids[name]]
    assert entry.uid == first, f"{name}'s uid moved from {first} to {entry.uid}"
    assert entry.gid == entry.uid, f"{name}'s primary gid {entry.gid} is not its private group {entry.uid}"
    return entry


@then(parsers.parse('"{name}" is in passwd with the uid it first had, named after "{new}"'))
def same_uid_new_name(world: World, cluster: Cluster, name: str, new: str) -> None:
    """The passwd name follows the rename: it is the username the server derives now, not the old one."""
    entry = same_uid(world, cluster, name)
    user = world.sp.user(world.ids[name])
    assert user["userName"] == world.login(new), f"the server still has userName {user['userName']}"
    assert entry.name == user[POSIX_USER_URN]["username"], f"{name} is {entry.name} in passwd"
    first_name = next(m.user_ids[world.ids[name]] for m in cluster.reads if world.ids[name] in m.user_ids)
    assert entry.name != first_name, f"{name} kept the passwd name {first_name} after the rename"


@then(parsers.parse('"{name}" is in the group "{group}" on the cluster'))
def in_group(world: World, cluster: Cluster, name: str, group: str) -> None:
    entry = passwd_entry(world, cluster, name)
    found = cluster.now.group.get(world.group_name(group))
    assert found is not None, f"the cluster has no group {world.group_name(group)}: {cluster.now.warnings}"
    assert entry.name in found.members, f"{entry.name} is not among {found.members}"


@then(parsers.parse('"{name}" has no group access and no SSH keys on the cluster'))
def locked_out(world: World, cluster: Cluster, name: str) -> None:
    entry = passwd_entry(world, cluster, name)
    groups = [g.name for g in cluster.now.group.values() if entry.name in g.members]
    assert groups == [], f"deactivated {name} is still in {groups}"
    assert entry.name not in cluster.now.sshkey, f"deactivated {name} still has SSH keys"


@then(parsers.parse('"{name}" is not in passwd'))
def not_in_passwd(world: World, cluster: Cluster, name: str) -> None:
    assert world.ids[name] not in cluster.now.user_ids, f"{name} is still in passwd"


@then(parsers.parse('"{name}" has a uid no user had before'))
def fresh_uid(world: World, cluster: Cluster, name: str) -> None:
    world.remember(name)
    uid = passwd_entry(world, cluster, name).uid
    earlier = {entry.uid for maps in cluster.reads[:-1] for entry in maps.passwd.values()}
    assert uid not in earlier, f"{name} got uid {uid}, which an earlier user had"
