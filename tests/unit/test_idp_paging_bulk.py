"""Which built-in IdP pages by cursor or batches by /Bulk (issue #26): neither does, and each says why."""

from __future__ import annotations

import pytest

from emulators.core.profile import IdpProfile
from emulators.entra.profile import PROFILES as ENTRA_PROFILES
from emulators.okta.profile import PROFILES as OKTA_PROFILES

EVERY_PROFILE = {
    **{f"okta-{n}": p for n, p in OKTA_PROFILES.items()},
    **{f"entra-{n}": p for n, p in ENTRA_PROFILES.items()},
}


@pytest.mark.parametrize("name", sorted(EVERY_PROFILE))
def test_built_in_idps_page_by_index_and_never_send_bulk_as_documented(name: str) -> None:
    profile: IdpProfile = EVERY_PROFILE[name]
    assert profile.list_paging == "index"
    assert profile.uses_bulk is False
    # Each claim cites the IdP's page, which quotes the vendor's words with their public address.
    for field in ("list_paging", "uses_bulk"):
        assert "(documented)" in profile.provenance[field]
        assert profile.provenance[field].startswith(("docs/okta-idp.md §", "docs/entra-idp.md §"))
