"""A generated directory names managers by login; Entra still sends its manager PATCHes (docs/entra-idp.md §4-§5)."""

from __future__ import annotations

import json

import pytest

from emulators.core.generator import generate_directory
from emulators.entra import ENTRA_DEFAULT, ENTRA_SCIM062020, EntraDirectory, EntraProfile
from scimcore import urns
from tests.unit.entra_setup import make_entra


def _manager_ops(fake: object) -> list[dict[str, object]]:
    ops = []
    for request in fake.requests:  # type: ignore[attr-defined]
        if request.method == "PATCH" and "/Users/" in request.url.path:
            ops += [op for op in json.loads(request.content)["Operations"] if "manager" in str(op.get("path"))]
    return ops


@pytest.mark.parametrize("profile", [ENTRA_DEFAULT, ENTRA_SCIM062020], ids=lambda p: p.name)
def test_generated_directory_first_cycle_sends_manager_patches_and_a_later_removal_the_remove(
    profile: EntraProfile,
) -> None:
    people = generate_directory(12, 3, seed=4, case_duplicates=0)
    managed = [u for u in people.users.values() if u.profile.get("manager")]
    assert managed and all("@" in u.profile["manager"] for u in managed)  # logins, not ids
    entra, fake = make_entra(EntraDirectory(people), profile)
    entra.start()
    ops = _manager_ops(fake)
    linked = {entra.links.scim_id("user", uid) for uid in people.users} - {None}
    assert ops, "no manager PATCH in the first cycle"
    for op in ops:  # the bare string on the enterprise URN path (§4 Manager (observed))
        assert op == {"op": profile.op("add"), "path": f"{urns.ENTERPRISE_USER}:manager", "value": op["value"]}
        assert op["value"] in linked

    target = next(u for u in managed if entra.links.scim_id("user", u.id) and entra.state.watermark)
    held = fake.resources["Users"][entra.links.scim_id("user", target.id)]
    manager_id = held[urns.ENTERPRISE_USER]["manager"]["value"]
    fake.requests.clear()
    entra.update_user(target.id, {"manager": None})
    entra.run_cycle()
    assert _manager_ops(fake) == [
        {"op": profile.op("remove"), "path": f'manager[value eq "{manager_id}"]'}
    ]  # §4 Manager removal (observed)
