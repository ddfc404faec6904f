"""Named assertions: the service provider's state against the projection, and the one-way rules.

Each check collects every difference before failing, so one report shows the whole divergence.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from emulators.core.mapping import TargetPath
from emulators.entra.payloads import get_value
from features.steps.projection import Projection
from features.steps.target import ServiceProvider
from scimcore.wire import Exchange

# Server-kept bookkeeping that changes on every write, left out of state snapshots.
_VOLATILE = ("meta",)


def same_value(actual: Any, expected: Any) -> bool:
    """Booleans compare by truth whatever their encoding ("True" or true); everything else exactly."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return str(actual).lower() == str(expected).lower()
    return bool(actual == expected)


def state_differences(
    sp: ServiceProvider,
    projection: Projection,
    prefix: str,
    *,
    absent: Collection[str] = (),
    inactive: Collection[str] = (),
    absent_groups: Collection[str] = (),
    tolerated: Mapping[str, Collection[str]] | None = None,
    members_complete: bool = True,
) -> list[str]:
    """Every way the service provider differs from ``projection`` (resources named with ``prefix``).

    Users the directory no longer holds are not in the projection: ``absent`` lists userNames that
    must not exist, ``inactive`` userNames no active user may have, ``absent_groups`` group names
    that must not exist. ``tolerated`` maps a userName to target paths whose value is not checked
    (a drift edit the IdP has not overwritten yet). ``members_complete=False`` checks only that no
    group holds a member it should not (Entra adds a member who came into scope later only at the
    next restart, reference/entra.md §3.4 [DOC KI]).
    """
    tolerated = tolerated or {}
    problems: list[str] = []
    users: dict[str, list[dict[str, Any]]] = {}
    for doc in sp.users(prefix):
        users.setdefault(str(doc["userName"]).lower(), []).append(doc)
    by_id = {doc["id"]: name for name, docs in users.items() for doc in docs}
    inactive_ids = {doc["id"] for docs in users.values() for doc in docs if doc.get("active") is False}
    for name in absent:
        if name.lower() in users and name not in projection.users:
            problems.append(f"user {name}: should be gone, but the server still has it")
    for name in inactive:
        if name not in projection.users and any(d.get("active") is not False for d in users.get(name.lower(), [])):
            problems.append(f"user {name}: should be inactive or gone, but the server has it active")
    for name, expected in projection.users.items():
        found = users.get(name.lower(), [])
        if expected.state == "absent" and found:
            problems.append(f"user {name}: should be gone, but the server still has it")
        elif expected.state == "inactive" and any(doc.get("active") is not False for doc in found):
            problems.append(f"user {name}: should be inactive or gone, but the server has it active")
        elif expected.state == "active":
            if len(found) != 1:
                problems.append(f"user {name}: expected once, active; the server has {len(found)}")
                continue
            doc = found[0]
            if doc.get("active") is not True:
                problems.append(f"user {name}: active is {doc.get('active')!r}, expected true")
            skip = {str(TargetPath.parse(p)).lower() for p in tolerated.get(name, ())}
            for path, value in expected.values:
                if str(path).lower() in skip:
                    continue
                actual = get_value(doc, path)
                if not same_value(actual, value):
                    problems.append(f"user {name}: {path} is {actual!r}, expected {value!r}")
    groups: dict[str, list[dict[str, Any]]] = {}
    for doc in sp.groups(prefix):
        groups.setdefault(str(doc["displayName"]), []).append(doc)
    for name in absent_groups:
        if name in groups and name not in projection.groups:
            problems.append(f"group {name}: should be gone, but the server still has it")
    for name, expected_group in projection.groups.items():
        found = groups.get(name, [])
        if len(found) != 1:
            problems.append(f"group {name}: expected once; the server has {len(found)}")
            continue
        refs = [m.get("value") for m in found[0].get("members") or ()]
        if expected_group.inactive_may_linger:
            refs = [ref for ref in refs if ref not in inactive_ids]
        members = {by_id.get(ref, f"<{ref}>") for ref in refs}
        required = {n.lower() for n in expected_group.required}
        allowed = {n.lower() for n in expected_group.allowed}
        if members_complete and (missing := required - members):
            problems.append(f"group {name}: members {sorted(missing)} are missing")
        if extra := members - allowed:
            problems.append(f"group {name}: members {sorted(extra)} should not be there")
    return problems


def assert_matches_projection(sp: ServiceProvider, projection: Projection, prefix: str, **options: Any) -> None:
    problems = state_differences(sp, projection, prefix, **options)
    assert not problems, "the service provider differs from the projection of the directory:\n  " + "\n  ".join(
        problems
    )


def snapshot(sp: ServiceProvider, prefix: str) -> dict[str, Any]:
    """The run's resources without server bookkeeping, for "nothing changed" comparisons."""

    def plain(doc: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in doc.items() if k not in _VOLATILE}
        if "members" in out:
            out["members"] = sorted(m["value"] for m in out["members"])
        return out

    return {
        "users": sorted((plain(d) for d in sp.users(prefix)), key=lambda d: str(d["id"])),
        "groups": sorted((plain(d) for d in sp.groups(prefix)), key=lambda d: str(d["id"])),
    }


def assert_unchanged(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert before == after, f"the service provider changed:\n before: {before}\n after:  {after}"


WRITES = ("POST", "PUT", "PATCH", "DELETE")


def assert_no_writes(methods: list[str]) -> None:
    writes = [m for m in methods if m in WRITES]
    assert not writes, f"expected no writes, the IdP sent {writes}"


def assert_lookup_before_create(exchanges: Sequence[Exchange], user_name: str) -> None:
    """Okta searches by the unique identifier, and creates only when nothing is found (reference/okta.md §4.1)."""
    quoted = quote(json.dumps(user_name), safe="")
    lookup = next((i for i, e in enumerate(exchanges) if e.method == "GET" and quoted in e.url), None)
    create = next((i for i, e in enumerate(exchanges) if e.method == "POST" and e.url.endswith("/Users")), None)
    assert lookup is not None, f"no lookup of {user_name} before the create"
    assert create is not None and lookup < create, "the user was not created after the lookup"


def assert_patch_dialect(exchanges: Sequence[Exchange], ops: set[str], encoding: str) -> None:
    """Entra's PATCH wording (reference/entra.md §5): op names as spelled, ``active`` as a string or a boolean."""
    sent = [
        op
        for e in exchanges
        if e.method == "PATCH" and isinstance(e.request_body, dict)
        for op in e.request_body.get("Operations", ())
    ]
    assert sent, "Entra sent no PATCH"
    spelled = {str(op["op"]) for op in sent}
    assert spelled <= ops, f"PATCH ops spelled {sorted(spelled)}, expected some of {sorted(ops)}"
    actives = [op.get("value") for op in sent if str(op.get("path", "")).lower() == "active"]
    actives += [op["value"]["active"] for op in sent if isinstance(op.get("value"), dict) and "active" in op["value"]]
    assert actives, "Entra sent no change of active"
    kind = str if encoding == "string" else bool
    assert all(isinstance(value, kind) for value in actives), f"active was sent as {actives!r}, not {encoding}s"
