"""The directory file's JSON Schema: every file aup writes or documents validates, bad files do not."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from emulators.core.directory import Directory, save_directory
from emulators.core.errors import DirectoryError
from emulators.core.generator import generate_directory
from emulators.entra.directory import AppRole, EntraDirectory, EntraJobConfig
from emulators.entra.scoping import Clause, ScopingFilter

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "emulators/core/directory.schema.json").read_text(encoding="utf-8"))
MAPPING_SCHEMA = json.loads((ROOT / "emulators/core/mapping.schema.json").read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)
MAPPING_VALIDATOR = Draft202012Validator(MAPPING_SCHEMA)


def _doc_blocks() -> list[Any]:
    text = (ROOT / "docs/directory.md").read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def test_the_schemas_are_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    Draft202012Validator.check_schema(MAPPING_SCHEMA)


@pytest.mark.parametrize(("users", "groups", "seed"), [(0, 0, 1), (5, 0, 2), (60, 4, 3), (300, 16, 11)])
def test_generated_directories_validate(users: int, groups: int, seed: int, tmp_path: Path) -> None:
    directory = generate_directory(users, groups, seed)
    VALIDATOR.validate(directory.to_data())
    path = tmp_path / "people.yaml"
    save_directory(directory, path)
    VALIDATOR.validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_generated_directories_with_an_entra_section_validate() -> None:
    core = generate_directory(80, 6, seed=5)
    entra = EntraDirectory(core)
    first, second = list(core.users)[:2]
    entra.soft_delete(first, 1_700_000_000.5)
    entra.app_roles[second] = [AppRole("r1", "Admin", "Administrator")]
    entra.non_security_groups.add(next(iter(core.groups)))
    VALIDATOR.validate(entra.to_data())
    entra.provisioning = EntraJobConfig(
        scope="all",
        scoping_filter=ScopingFilter(((Clause("department", "EQUALS", "Sales"), Clause("mail", "IS NOT NULL")),)),
        accidental_deletion_threshold=25,
        delete=False,
    )
    data = entra.to_data()
    VALIDATOR.validate(data)
    assert EntraDirectory.from_data(data) == entra


def test_the_documented_examples_validate() -> None:
    blocks = _doc_blocks()
    directory, entra_section, okta_mapping, entra_mapping = blocks
    VALIDATOR.validate(directory)
    Directory.from_data(directory)
    both = {**directory, **entra_section}
    VALIDATOR.validate(both)
    EntraDirectory.from_data(both)
    MAPPING_VALIDATOR.validate(okta_mapping)
    MAPPING_VALIDATOR.validate(entra_mapping)


def test_the_sample_directory_of_the_unit_tests_validates() -> None:
    from tests.unit.test_directory import COMMENTED, small

    VALIDATOR.validate(small())
    VALIDATOR.validate(yaml.safe_load(COMMENTED))


def _base() -> dict[str, Any]:
    data = _doc_blocks()[0]
    data.update(_doc_blocks()[1])
    return data


INVALID = {
    "root is a list": lambda d: [d],
    "version 2": lambda d: d.update(version=2),
    "unknown root key": lambda d: d.update(stuff=1),
    "user without id": lambda d: d["users"][0].pop("id"),
    "user without profile": lambda d: d["users"][0].pop("profile"),
    "profile without login": lambda d: d["users"][0]["profile"].pop("login"),
    "misspelt user key": lambda d: d["users"][0].update(stauts="ACTIVE"),
    "unknown status": lambda d: d["users"][0].update(status="GONE"),
    "group without name": lambda d: d["groups"][0].pop("name"),
    "member twice": lambda d: d["groups"][0]["members"].append(d["groups"][0]["members"][0]),
    "push entry without group": lambda d: d["app"]["push_groups"].append({"active": True}),
    "push active as text": lambda d: d["app"]["push_groups"][0].update(active="yes"),
    "app as a list": lambda d: d.update(app=[]),
    "unknown entra key": lambda d: d["entra"].update(roles={}),
    "soft delete time as text": lambda d: d["entra"]["soft_deleted"].update({"00u1": "yesterday"}),
    "scope neither assigned nor all": lambda d: d["entra"]["provisioning"].update(scope="some"),
    "threshold 0": lambda d: d["entra"]["provisioning"].update(accidental_deletion_threshold=0),
    "unknown target action": lambda d: d["entra"]["provisioning"]["target_actions"].update(merge=True),
    "empty clause group": lambda d: d["entra"]["provisioning"]["scoping_filter"].append([]),
    "clause without operator": lambda d: d["entra"]["provisioning"]["scoping_filter"][0][0].pop("operator"),
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_files_are_rejected_by_the_schema_and_the_loader(name: str) -> None:
    data = _base()
    changed = INVALID[name](data)
    data = data if changed is None else changed
    assert not VALIDATOR.is_valid(data), name
    with pytest.raises(DirectoryError):
        EntraDirectory.from_data(data)


def test_invalid_mapping_files_are_rejected() -> None:
    assert not MAPPING_VALIDATOR.is_valid({"rules": ["userName"]})
    assert not MAPPING_VALIDATOR.is_valid({"user": [{"target": "title", "source": "jobTitle", "constant": "x"}]})
    assert not MAPPING_VALIDATOR.is_valid({"user": [{"source": "jobTitle"}]})
    assert not MAPPING_VALIDATOR.is_valid({"user": [{"target": "title", "source": "x", "apply": "sometimes"}]})


# Near-valid directory data: ids as text or numbers, optional keys left out, statuses in any case, the
# occasional broken value. Whatever the loader accepts, the schema must accept too.
_ids = st.one_of(st.text("0uabc", min_size=1, max_size=3), st.integers(0, 50))
_status = st.sampled_from(["ACTIVE", "suspended", "Deprovisioned", "gone", 3, None])
_value = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=4), st.lists(st.text(max_size=3)))


@st.composite
def _near_directories(draw: st.DrawFn) -> dict[str, Any]:
    users = []
    for uid in draw(st.lists(_ids, max_size=5)):
        user: dict[str, Any] = {"id": uid}
        if draw(st.booleans()):
            user["status"] = draw(_status)
        profile: dict[str, Any] = {"login": draw(st.one_of(st.text(max_size=3), st.integers(0, 2)))}
        profile.update(draw(st.dictionaries(st.sampled_from(["email", "title", "sshPublicKeys", "shoe"]), _value)))
        user["profile"] = draw(st.one_of(st.just(profile), _value))
        users.append(user)
    ids = [user["id"] for user in users] + [draw(_ids)]
    groups = [
        {
            "id": gid,
            "name": draw(st.one_of(st.text(max_size=3), st.integers(0, 3))),
            "members": draw(st.lists(st.sampled_from(ids), max_size=3)),
        }
        for gid in draw(st.lists(_ids, max_size=3))
    ]
    gids = [group["id"] for group in groups] + [draw(_ids)]
    data: dict[str, Any] = {
        "custom_attributes": draw(st.one_of(st.just(["sshPublicKeys"]), st.just([]), _value)),
        "users": users,
        "groups": groups,
        "app": {
            "users": draw(st.lists(st.sampled_from(ids), max_size=2)),
            "groups": draw(st.lists(st.sampled_from(gids), max_size=2)),
            "push_groups": [
                {"group": gid, "active": draw(_value)} for gid in draw(st.lists(st.sampled_from(gids), max_size=2))
            ],
        },
    }
    if draw(st.booleans()):
        data["version"] = draw(st.sampled_from([1, 1.0, True, 2, "1"]))
    for key in draw(st.lists(st.sampled_from(list(data)), max_size=2)):
        data[key] = draw(_value)
    return data


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_near_directories())
def test_whatever_the_loader_accepts_the_schema_accepts(data: dict[str, Any]) -> None:
    try:
        Directory.from_data(copy.deepcopy(data))
    except DirectoryError:
        return
    errors = [error.message for error in VALIDATOR.iter_errors(data)]
    assert not errors, errors
