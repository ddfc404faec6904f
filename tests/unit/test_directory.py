from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulators.core.directory import Directory, Status, load_directory, save_directory
from emulators.core.errors import ConfigurationError, DirectoryError
from emulators.core.generator import ALL_STAFF, SSH_KEY_ATTRIBUTE, generate_directory
from emulators.core.linkstore import LinkStore, links_path_for


def small() -> dict[str, Any]:
    return {
        "custom_attributes": ["sshPublicKeys"],
        "users": [
            {"id": "00u1", "profile": {"login": "ann@x", "sshPublicKeys": ["ssh-ed25519 AAA"]}},
            {"id": "00u2", "status": "suspended", "profile": {"login": "bob@x"}},
            {"id": "00u3", "profile": {"login": "cy@x"}},
        ],
        "groups": [{"id": "00g1", "name": "Staff", "members": ["00u1", "00u2"]}, {"id": "00g2", "name": "Ops"}],
        "app": {"users": ["00u3"], "groups": ["00g1"], "push_groups": [{"group": "00g2", "active": False}]},
    }


def test_assignment_is_direct_or_through_an_assigned_group() -> None:
    directory = Directory.from_data(small())
    assert [u.id for u in directory.assigned_users()] == ["00u1", "00u2", "00u3"]
    directory.app.groups.clear()
    assert [u.id for u in directory.assigned_users()] == ["00u3"]
    assert directory.users["00u2"].status is Status.SUSPENDED
    assert directory.app.push_groups == {"00g2": False}


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_save_and_load_round_trip(tmp_path: Path, suffix: str) -> None:
    directory = Directory.from_data(small())
    path = tmp_path / f"people{suffix}"
    save_directory(directory, path)
    assert load_directory(path) == directory


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["users"].append({"id": "00u1", "profile": {"login": "z@x"}}), "appears twice"),
        (lambda d: d["users"][0]["profile"].update(titel="x"), "unknown profile attribute.*titel.*custom_attributes"),
        (lambda d: d["users"][0].update(status="GONE"), "status must be one of ACTIVE, SUSPENDED, DEPROVISIONED"),
        (lambda d: d["users"][0]["profile"].pop("login"), "needs a non-empty login"),
        (lambda d: d["groups"][0]["members"].append("00u9"), "unknown user id.*00u9"),
        (lambda d: d["app"]["users"].append("00u9"), "no user with id '00u9'"),
        (lambda d: d.update(version=7), "version 7 is not supported"),
    ],
)
def test_inconsistent_directories_are_refused_with_a_reason(change: Any, message: str) -> None:
    data = small()
    change(data)
    with pytest.raises(DirectoryError, match=message):
        Directory.from_data(data)


def test_unreadable_files_are_directory_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(DirectoryError, match="not valid JSON"):
        load_directory(path)
    with pytest.raises(DirectoryError, match="cannot read"):
        load_directory(tmp_path / "missing.yaml")


def test_find_user_by_id_exact_login_or_unambiguous_case() -> None:
    directory = Directory.from_data(small())
    assert directory.find_user("00u2").login == "bob@x"
    assert directory.find_user("BOB@X").id == "00u2"
    directory.users["00u2"].profile["login"] = "Ann@x"
    with pytest.raises(DirectoryError, match="2 users with login"):
        directory.find_user("ANN@X")
    assert directory.find_user("Ann@x").id == "00u2"


def test_generator_is_reproducible_and_loads_back(tmp_path: Path) -> None:
    first = generate_directory(120, 10, seed=3)
    assert first == generate_directory(120, 10, seed=3)
    assert first != generate_directory(120, 10, seed=4)
    path = tmp_path / "gen.yaml"
    save_directory(first, path)
    assert load_directory(path) == first


def test_generator_makes_realistic_awkward_directories() -> None:
    directory = generate_directory(300, 12, seed=11)
    users = list(directory.users.values())
    assert len(users) == 300 and len(directory.groups) == 12
    assert any(not u.profile["lastName"].isascii() for u in users), "unicode names"
    logins = [u.login.lower() for u in users]
    assert len(logins) - len(set(logins)) == 300 // 50, "logins that differ only by case"
    assert {u.status for u in users} == set(Status)
    assert all(u.id.startswith("00u") and len(u.id) == 20 for u in users)
    assert any(u.profile[SSH_KEY_ATTRIBUTE] for u in users)
    staff = next(g for g in directory.groups.values() if g.name == ALL_STAFF)
    assert len(staff.members) > 200, "a large group"
    assert directory.app.groups == [staff.id]
    assert set(directory.app.push_groups) == set(directory.groups) - {staff.id}
    assert directory.app.users and not set(directory.app.users) & set(staff.members)


def test_generator_without_groups_assigns_everyone_directly() -> None:
    directory = generate_directory(5, 0, seed=1, case_duplicates=0)
    assert directory.app.users == list(directory.users)


def test_links_persist_across_stores(tmp_path: Path) -> None:
    path = links_path_for(tmp_path / "people.yaml")
    assert path.name == "people.links.json"
    store = LinkStore(path)
    store.link("user", "00u1", "scim-1")
    store.link("group", "00g1", "scim-g")
    again = LinkStore(path)
    assert again.scim_id("user", "00u1") == "scim-1"
    assert again.idp_id("group", "scim-g") == "00g1"
    again.unlink("user", "00u1")
    assert LinkStore(path).links("user") == {}


def test_links_are_written_in_batches_and_on_save(tmp_path: Path) -> None:
    path = tmp_path / "links.json"
    store = LinkStore(path, save_every=3)
    store.link("user", "a", "1")
    store.link("user", "b", "2")
    assert not path.exists()
    store.link("user", "c", "3")
    assert json.loads(path.read_text())["users"] == {"a": "1", "b": "2", "c": "3"}
    store.link("user", "d", "4")
    store.save()
    assert LinkStore(path).scim_id("user", "d") == "4"


def test_a_corrupt_link_store_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "links.json"
    path.write_text('{"version": 9}', encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not a version 1 link store"):
        LinkStore(path)
