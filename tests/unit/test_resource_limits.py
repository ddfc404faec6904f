"""``check_resource_limits``: a stored resource's size and multi-valued lengths (issue #17)."""

from __future__ import annotations

import httpx
import pytest

from aup_server.app import create_app
from aup_server.config import ServerConfig
from aup_server.errors import PayloadTooLargeError
from aup_server.limits import check_resource_limits
from aup_server.store import SqliteStore
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL

CONFIG = ServerConfig(max_resource_bytes=1000, max_multi_valued=3)


def test_a_resource_within_the_limits_passes() -> None:
    doc = {"userName": "ann", "emails": [{"value": f"a{n}@example.com"} for n in range(3)]}
    check_resource_limits(doc, CONFIG, "User")


def test_too_many_values_is_413_naming_the_attribute_and_limit() -> None:
    doc = {"userName": "ann", "emails": [{"value": f"a{n}@example.com"} for n in range(4)]}
    with pytest.raises(PayloadTooLargeError, match=r"emails of the User would hold 4 values; the limit is 3"):
        check_resource_limits(doc, CONFIG, "User")


def test_a_nested_multi_valued_attribute_counts_too() -> None:
    doc = {"userName": "ann", "urn:example:ext:2.0:User": {"keys": ["k1", "k2", "k3", "k4"]}}
    with pytest.raises(PayloadTooLargeError, match=r"urn:example:ext:2.0:User\.keys .*\(max_multi_valued\)"):
        check_resource_limits(doc, CONFIG, "User")


def test_a_resource_past_the_size_is_413_naming_the_limit() -> None:
    with pytest.raises(PayloadTooLargeError, match=r"the limit is 1000 bytes \(max_resource_bytes\)") as raised:
        check_resource_limits({"userName": "ann", "title": "x" * 1000}, CONFIG, "User")
    assert raised.value.status == 413


def test_members_and_server_owned_attributes_do_not_count() -> None:
    doc = {"displayName": "g", "members": [{"value": str(n)} for n in range(100)], "meta": {"x": "y" * 2000}}
    check_resource_limits(doc, CONFIG, "Group")


def test_every_write_path_refuses_an_oversized_resource_and_stores_nothing(store: SqliteStore, token: str) -> None:
    """POST, PUT and PATCH (path-less and with a path) all go through the check before the commit."""
    app = create_app({"max_resource_bytes": 1000, "max_multi_valued": 3}, store=store)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": urns.MEDIA_TYPE}
    emails = [{"value": f"a{n}@example.com"} for n in range(4)]
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=IN_PROCESS_SCIM_URL, headers=headers) as c:
        refused = c.post("/Users", json={"schemas": [urns.USER], "userName": "ann", "emails": emails})
        assert refused.status_code == 413 and "max_multi_valued" in refused.json()["detail"]
        assert c.get("/Users").json()["totalResults"] == 0
        uid = c.post("/Users", json={"schemas": [urns.USER], "userName": "ann"}).json()["id"]
        put = c.put(f"/Users/{uid}", json={"schemas": [urns.USER], "userName": "ann", "emails": emails})
        patch_ops = [
            {"op": "add", "path": "emails", "value": emails},
            {"op": "replace", "value": {"emails": emails}},
            {"op": "replace", "path": "title", "value": "x" * 2000},
        ]
        patches = [c.patch(f"/Users/{uid}", json={"schemas": [urns.PATCH_OP], "Operations": [op]}) for op in patch_ops]
        assert [r.status_code for r in (put, *patches)] == [413, 413, 413, 413]
        assert "max_resource_bytes" in patches[-1].json()["detail"]
        assert "emails" not in c.get(f"/Users/{uid}").json()
