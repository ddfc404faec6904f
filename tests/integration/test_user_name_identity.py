"""userName identity (store/names.py): a lookalike of a held userName is that user, with POSIX on or off.

Uniqueness compares NFKC-normalised, case-folded names without invisible characters; a name with
invisible characters or edge whitespace is refused (400 invalidValue) unless it is a lookalike of a
held name, which is a 409 like any other; the ``userName eq`` filter finds the holder by the same rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from flask import Flask

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.store import SqliteStore, Store
from scimcore import urns

# (kind, held name, lookalike sent second)
LOOKALIKES = [
    ("ASCII case", "alice@example.com", "ALICE@Example.COM"),
    ("sharp s", "strasse", "straße"),
    ("Kelvin sign", "kelvin", "\u212aelvin"),
    ("final sigma", "οδυσσευς", "ΟΔΥΣΣΕΥΣ"),
    ("ligature", "file", "\ufb01le"),
    ("NFC vs NFD", "jos\u00e9", "jose\u0301"),
    ("Angstrom sign", "\u00c5sa", "\u212bsa"),
    ("fullwidth letters", "bob", "\uff42\uff4f\uff42"),
    ("fullwidth at sign", "carol@example.com", "carol\uff20example.com"),
    ("superscript digit", "dan2", "dan\u00b2"),
    ("mathematical letters", "eve", "\U0001d41e\U0001d42f\U0001d41e"),
    ("no-break space inside", "nina smith", "nina\u00a0smith"),
    ("zero-width space", "frank", "fr\u200bank"),
    ("zero-width joiner", "heidi", "hei\u200ddi"),
    ("byte order mark", "grace", "\ufeffgrace"),
    ("soft hyphen", "ivan", "iv\u00adan"),
    ("trailing space", "judy", "judy "),
    ("leading ideographic space", "mallory", "\u3000mallory"),
]


def _client(app: Flask, store: SqliteStore, tenant: str) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url=f"http://scim.test/scim/{tenant}/v2",
        headers={"Authorization": f"Bearer {issue_token(store, 'okta', tenant)}"},
    )


@pytest.fixture(params=["posix-on", "posix-off"])
def client(request: pytest.FixtureRequest, make_store: Callable[..., Store]) -> Iterator[httpx.Client]:
    store = make_store()
    app = create_app(store=store)
    if request.param == "posix-off":
        app.extensions["aup"].service.posix.set_enabled(store, "acme", False)
    with _client(app, store, "acme") as c:
        yield c
    store.close()


def _user(name: str) -> dict[str, object]:
    return {"schemas": [urns.USER], "userName": name}


@pytest.mark.parametrize(("kind", "held", "lookalike"), LOOKALIKES, ids=[case[0] for case in LOOKALIKES])
def test_every_lookalike_of_a_held_username_is_a_409_and_the_filter_finds_the_holder(
    client: httpx.Client, kind: str, held: str, lookalike: str
) -> None:
    first = client.post("/Users", json=_user(held))
    if first.status_code == 400 and not held.isascii():
        pytest.skip("POSIX on: this userName has no letters a POSIX username can use (docs/posix.md)")
    assert first.status_code == 201, first.text
    holder = first.json()["id"]

    second = client.post("/Users", json=_user(lookalike))
    assert second.status_code == 409, f"{kind}: {second.text}"
    assert second.json()["scimType"] == "uniqueness"

    found = client.get("/Users", params={"filter": f'userName eq "{lookalike}"'}).json()
    assert [r["id"] for r in found["Resources"]] == [holder], kind
    assert found["Resources"][0]["userName"] == held  # stored as sent
    search = {"schemas": [urns.SEARCH_REQUEST], "filter": f'userName eq "{lookalike}" and id pr'}
    assert [r["id"] for r in client.post("/Users/.search", json=search).json()["Resources"]] == [holder]

    other = client.post("/Users", json=_user("someone-else")).json()["id"]
    rename = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": "userName", "value": lookalike}]}
    assert client.patch(f"/Users/{other}", json=rename).status_code == 409
    put = client.put(f"/Users/{other}", json=_user(lookalike))
    assert put.status_code == 409


@pytest.mark.parametrize(
    "name",
    ["fr\u200bank", "judy ", " judy", "a\tb", "line\nbreak", "rtl\u202eoverride", "\u3000", "var\ufe0fsel", "   "],
)
def test_invisible_characters_and_edge_whitespace_are_refused_when_no_one_holds_the_name(
    client: httpx.Client, name: str
) -> None:
    resp = client.post("/Users", json=_user(name))
    assert resp.status_code == 400, resp.text
    assert resp.json()["scimType"] == "invalidValue"
    assert client.get("/Users").json()["totalResults"] == 0


def test_other_filters_on_username_compare_by_the_same_rule(client: httpx.Client) -> None:
    held = client.post("/Users", json=_user("Jos\u00e9.Garc\u00eda@example.com")).json()["id"]
    for text in (
        'userName eq "JOSE\u0301.GARCI\u0301A@EXAMPLE.COM"',
        'userName sw "jose\u0301"',
        'userName co "\uff27\uff41\uff52\uff43"',
        'not (userName ne "jos\u00e9.garc\u00eda@example.com")',
        'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "jos\u00e9.garc\u00eda@example.com"',
    ):
        found = client.get("/Users", params={"filter": text}).json()
        assert [r["id"] for r in found["Resources"]] == [held], text
    assert client.get("/Users", params={"filter": 'userName eq "jose"'}).json()["totalResults"] == 0
