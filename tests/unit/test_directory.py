from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from emulators.core.directory import Directory, Status, load_directory, save_directory
from emulators.core.errors import ConfigurationError, DirectoryError
from emulators.core.generator import ALL_STAFF, SSH_KEY_ATTRIBUTE, generate_directory
from emulators.core.linkstore import LinkStore, links_path_for
from emulators.entra.directory import EntraDirectory, EntraJobConfig, load_entra_directory, save_entra_directory
from emulators.entra.profile import EntraSettings
from emulators.entra.scoping import Clause, ScopingFilter


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


# A hand-written directory: comments everywhere, keys in the admin's order, defaults left out, mixed styles.
COMMENTED = """\
# The lab's people. Keep this file alphabetical!
version: 1
custom_attributes: [sshPublicKeys]   # keys pushed to the cluster

users:
  # --- staff ---
  - id: 00u1
    profile:
      login: ann@example.com   # primary
      firstName: Ann
    status: active
  - id: 00u2
    status: SUSPENDED  # on leave
    profile: {login: bob@example.com}

  # contractors
  - id: 00u3
    profile:
      login: cy@example.com
      sshPublicKeys:
        - ssh-ed25519 AAAA cy@laptop

groups:
  - id: 00g1
    name: ops
    members:
      - 00u1   # lead
      - 00u2
  - id: 00g2
    name: Staff
    description: Everyone
app:
  users: [00u3]
  groups:
  - 00g1
  push_groups:
  - group: 00g2
# end of file
"""


def test_saving_keeps_the_admins_comments_order_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "people.yaml"
    path.write_text(COMMENTED, encoding="utf-8")
    directory = load_directory(path)
    directory.users["00u1"].status = Status.SUSPENDED
    directory.groups["00g1"].members.append("00u3")
    save_directory(directory, path)
    expected = COMMENTED.replace("    status: active\n", "    status: SUSPENDED\n").replace(
        "      - 00u2\n", "      - 00u2\n      - 00u3\n"
    )
    assert path.read_text(encoding="utf-8") == expected
    assert load_directory(path) == directory


def test_saving_an_unchanged_directory_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "people.yaml"
    path.write_text(COMMENTED, encoding="utf-8")
    save_directory(load_directory(path), path)
    assert path.read_text(encoding="utf-8") == COMMENTED


def test_saving_structural_changes_keeps_the_comments_around_them(tmp_path: Path) -> None:
    path = tmp_path / "people.yaml"
    path.write_text(COMMENTED, encoding="utf-8")
    directory = load_directory(path)
    del directory.users["00u1"]
    directory.groups["00g1"].members.remove("00u1")
    directory.users["00u2"].profile["firstName"] = "Bob"  # a flow mapping: rewritten in round-trip mode
    directory.users["00u3"].profile["title"] = "Contractor"
    directory.app.push_groups["00g2"] = False
    directory.app.users.append("00u2")
    directory.groups["00g2"].members.append("00u3")
    save_directory(directory, path)
    text = path.read_text(encoding="utf-8")
    assert load_directory(path) == directory
    for kept in ("# The lab's people", "# keys pushed", "# --- staff ---", "# on leave", "# contractors", "# end of"):
        assert kept in text
    assert "ann@example.com" not in text and "# lead" not in text
    assert "profile: {login: bob@example.com, firstName: Bob}" in text
    assert "users: [00u3, 00u2]" in text
    assert "  - group: 00g2\n    active: false\n" in text
    assert text.index("id: 00u2") < text.index("id: 00u3") < text.index("groups:")


def test_saving_json_keeps_its_key_order(tmp_path: Path) -> None:
    path = tmp_path / "people.json"
    data = {"app": {"push_groups": [], "groups": [], "users": []}, **small(), "version": 1}
    data["users"][0] = {"profile": data["users"][0]["profile"], "id": "00u1"}
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    directory = load_directory(path)
    directory.users["00u1"].status = Status.SUSPENDED
    save_directory(directory, path)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert list(saved) == list(data)
    assert list(saved["users"][0]) == ["profile", "id", "status"]
    assert saved["users"][1] == data["users"][1]
    assert path.read_text(encoding="utf-8").startswith('{\n  "app"')


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("      - 00u2\n", "      - 00u2\n      - 00u9\n", "people.yaml:29: group 'ops' lists unknown user id.*00u9"),
        ("    status: active\n", "    status: gone\n", "people.yaml:11: user 00u1: status must be one of"),
        (
            "      firstName: Ann\n",
            "      firstName: Ann\n      titel: x\n",
            "people.yaml:11: .*unknown profile attr.*titel",
        ),
        ("  - id: 00u3\n", "  - id: 00u1\n", "people.yaml:17: user id '00u1' appears twice"),
        ("  users: [00u3]\n", "  users: [00u3, 00u7]\n", "people.yaml:33: no user with id '00u7'"),
        (
            "    name: Staff\n",
            "    name: Staff\n    memebrs: []\n",
            "people.yaml:31: group 'Staff': unknown key 'memebrs'",
        ),
        ("version: 1\n", "version: 3\n", "people.yaml:2: directory version 3"),
        ("      - 00u2\n", "      - 00u2\n    - : [\n", "people.yaml:2[0-9]: not valid YAML"),
    ],
)
def test_errors_name_the_file_and_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = tmp_path / "people.yaml"
    path.write_text(COMMENTED.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DirectoryError, match=message) as caught:
        load_directory(path)
    assert "\n" not in str(caught.value)


def test_json_errors_name_the_line_too(tmp_path: Path) -> None:
    data = small()
    data["groups"][0]["members"].append("00u9")
    path = tmp_path / "people.json"
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if '"00u9"' in text)
    with pytest.raises(DirectoryError, match=rf"people.json:{line}: group 'Staff' lists unknown user id"):
        load_directory(path)
    path.write_text('{\n "users": [\n', encoding="utf-8")
    with pytest.raises(DirectoryError, match=r"people.json:3: not valid JSON"):
        load_directory(path)


PROVISIONING = """\
entra:
  soft_deleted: {00u2: 1735689600}
  provisioning:
    scope: all
    scoping_filter:
      - - {attribute: department, operator: EQUALS, value: Research}
        - {attribute: accountEnabled, operator: IS TRUE}
    skip_out_of_scope_deletions: true
    accidental_deletion_threshold: 50
    target_actions: {delete: false}
"""


def test_the_entra_provisioning_section_gives_the_job_settings(tmp_path: Path) -> None:
    path = tmp_path / "people.yaml"
    path.write_text(COMMENTED + PROVISIONING, encoding="utf-8")
    directory = load_entra_directory(path)
    settings, scoping = directory.job_settings()
    assert settings == EntraSettings(
        scope="all", delete=False, skip_out_of_scope_deletions=True, accidental_deletion_threshold=50
    )
    assert scoping == ScopingFilter(
        ((Clause("department", "EQUALS", "Research"), Clause("accountEnabled", "IS TRUE")),)
    )
    assert directory.is_soft_deleted("00u2")
    assert EntraDirectory.from_data(directory.to_data()) == directory
    save_entra_directory(directory, path)
    assert path.read_text(encoding="utf-8") == COMMENTED + PROVISIONING


def test_without_a_provisioning_section_the_job_has_the_defaults() -> None:
    directory = EntraDirectory.from_data(small())
    assert directory.provisioning is None
    assert directory.job_settings() == (EntraSettings(), ScopingFilter())
    assert "provisioning" not in directory.to_data()["entra"]
    assert EntraJobConfig.from_data({}).settings() == EntraSettings()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("scope: all", "scope: everyone", r":4: entra.provisioning: scope must be 'assigned' or 'all'"),
        ("threshold: 50", "threshold: 0", r":9: .*accidental_deletion_threshold must be a whole number"),
        ("{delete: false}", "{delete: maybe}", r":10: entra.provisioning: target_actions.delete must be true or false"),
        ("{delete: false}", "{merge: false}", r":10: .*unknown key 'merge'"),
        ("operator: IS TRUE", "operator: IS PURPLE", r":7: scoping operator 'IS PURPLE' is not one of"),
        ("attribute: department", "attribute: manager", r":6: scoping filters cannot use manager"),
        ("skip_out_of_scope_deletions: true", "skip_out_of_scope_deletions: 1", r":8: .*must be true or false"),
        ("soft_deleted: {00u2: 1735689600}", "soft_deleted: {00u8: 1}", r":2: no user with id '00u8'"),
    ],
)
def test_bad_provisioning_values_name_the_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = tmp_path / "people.yaml"
    path.write_text(COMMENTED + PROVISIONING.replace(old, new), encoding="utf-8")
    offset = COMMENTED.count("\n")
    line = int(re.search(r":(\d+):", message).group(1)) + offset  # type: ignore[union-attr]
    pattern = message.replace(f":{line - offset}:", f"people.yaml:{line}:", 1)
    with pytest.raises(DirectoryError, match=pattern):
        load_entra_directory(path)
