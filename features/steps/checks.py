"""Named assertions: the service provider's state against the expected state, and the one-way rules.

Each check collects every difference before failing, so one report shows the whole divergence.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from emulators.core.expected import ExpectedState, differences
from features.steps.target import ServiceProvider
from scimcore.wire import Exchange

# Server-kept bookkeeping that changes on every write, left out of state snapshots.
_VOLATILE = ("meta",)


def state_differences(
    sp: ServiceProvider,
    expected: ExpectedState,
    prefix: str,
    *,
    absent: Collection[str] = (),
    inactive: Collection[str] = (),
    absent_groups: Collection[str] = (),
    tolerated: Mapping[str, Collection[str]] | None = None,
    members_complete: bool = True,
) -> list[str]:
    """Every way the service provider's resources named with ``prefix`` differ from ``expected``
    (``emulators.core.expected.differences`` explains the options)."""
    return differences(
        expected,
        sp.users(prefix),
        sp.groups(prefix),
        absent=absent,
        inactive=inactive,
        absent_groups=absent_groups,
        tolerated=tolerated,
        members_complete=members_complete,
    )


def assert_matches_expected_state(sp: ServiceProvider, expected: ExpectedState, prefix: str, **options: Any) -> None:
    problems = state_differences(sp, expected, prefix, **options)
    assert not problems, "the service provider differs from the expected state of the directory:\n  " + "\n  ".join(
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
    """Okta searches by the unique identifier, and creates only when nothing is found (docs/okta-idp.md §4.1)."""
    quoted = quote(json.dumps(user_name), safe="")
    lookup = next((i for i, e in enumerate(exchanges) if e.method == "GET" and quoted in e.url), None)
    create = next((i for i, e in enumerate(exchanges) if e.method == "POST" and e.url.endswith("/Users")), None)
    assert lookup is not None, f"no lookup of {user_name} before the create"
    assert create is not None and lookup < create, "the user was not created after the lookup"


def assert_patch_dialect(exchanges: Sequence[Exchange], ops: set[str], encoding: str) -> None:
    """Entra's PATCH wording (docs/entra-idp.md §5): op names as spelled, ``active`` as a string or a boolean."""
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
