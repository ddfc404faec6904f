"""No value of a writeOnly or never-returned attribute appears in an error detail or a log line.

RFC 7643 §7: a ``writeOnly`` attribute (``password``, RFC 7643 §4.1.1) is never returned, and an error
detail is returned: it names the attribute and the problem, never the value. Wrong-typed values are
generated and carried in every form the server reads: POST, PUT, PATCH with a path (any case,
URN-qualified), path-less PATCH values, extension objects, and filters.
"""

from __future__ import annotations

import json
import logging
import string
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from flask import Flask
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from aup_server.app import create_app
from aup_server.store import SqliteStore
from scimcore import urns
from scimcore.client import IN_PROCESS_SCIM_URL

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
EXT = "urn:example:params:scim:schemas:extension:secrets:2.0:User"

# A marker no error detail could contain by chance: letters and digits only, so JSON never escapes it.
markers = st.text(string.ascii_letters + string.digits, min_size=10, max_size=16).map(lambda s: f"Pw{s}")
big_numbers = st.integers(10**12, 10**15)


@st.composite
def wrong_typed(draw: st.DrawFn, attribute: str) -> tuple[Any, str]:
    """A value of the wrong JSON type for ``attribute`` that carries a secret, and that secret as text."""
    marker = draw(markers)
    number = draw(big_numbers)
    carriers: list[tuple[Any, str]] = [
        ([marker], marker),
        ([[marker], "x"], marker),
        ({"value": marker}, marker),
        ({marker: True}, marker),  # a key can hold the secret too
        ({"a": {"b": [marker]}}, marker),
        ([number], str(number)),
        ({"value": number}, str(number)),
    ]
    if attribute == "password":  # a string attribute: numbers and booleans are the wrong type too
        carriers += [(number, str(number)), (number + 0.5, str(number + 0.5))]
    else:  # pin is an integer: a string is the wrong type
        carriers += [(marker, marker), (f"{number}", str(number)), (number + 0.5, str(number + 0.5))]
    return draw(st.sampled_from(carriers))


PASSWORD_KEYS = ["password", "PASSWORD", "passWord", f"{urns.USER}:password", f"{urns.USER}:Password"]
PIN_KEYS = [f"{EXT}:pin", f"{EXT}:PIN"]
OPS = ["add", "replace", "Add", "REPLACE"]


@pytest.fixture
def secret_app(store: SqliteStore) -> Flask:
    extension = {
        "resourceType": "User",
        "schema": {
            "id": EXT,
            "attributes": [
                {"name": "pin", "type": "integer", "mutability": "writeOnly", "returned": "never"},
                {"name": "note", "type": "string"},
            ],
        },
    }
    return create_app({"extensions": [extension]}, store=store)


@pytest.fixture
def secret_client(secret_app: Flask, token: str) -> Iterator[httpx.Client]:
    transport = httpx.WSGITransport(app=secret_app)
    headers = {"Authorization": f"Bearer {token}", "Accept": urns.MEDIA_TYPE}
    with httpx.Client(transport=transport, base_url=IN_PROCESS_SCIM_URL, headers=headers) as c:
        yield c


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every log line of the server (the test's own httpx client logs the URLs it requests: not the server)."""
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    return "\n".join(f"{r.getMessage()} {r.exc_info} {r.exc_text}" for r in server)


def _assert_hidden(resp: httpx.Response, secret: str, caplog: pytest.LogCaptureFixture) -> None:
    assert resp.status_code < 500, resp.text
    assert secret not in resp.text, resp.text
    assert secret not in _logged(caplog)


def _body_forms(key: str, value: Any) -> list[dict[str, Any]]:
    """The ways a POST or PUT body carries one attribute: by name, URN-qualified, in its extension object."""
    if key.startswith(EXT):
        name = key.rsplit(":", 1)[1]
        return [{key: value}, {EXT: {name: value}}]
    return [{key: value}]


@SETTINGS
@given(data=st.data(), pin=st.booleans(), method=st.sampled_from(["POST", "PUT"]))
def test_wrong_typed_secrets_in_post_and_put_are_never_echoed(
    secret_client: httpx.Client, caplog: pytest.LogCaptureFixture, data: st.DataObject, pin: bool, method: str
) -> None:
    caplog.set_level(logging.DEBUG)
    value, secret = data.draw(wrong_typed("pin" if pin else "password"))
    key = data.draw(st.sampled_from(PIN_KEYS if pin else PASSWORD_KEYS))
    name = f"u-{uuid4().hex}"
    uid = secret_client.post("/Users", json={"userName": name}).json()["id"]
    for extra in _body_forms(key, value):
        body = {"schemas": [urns.USER], "userName": name, **extra}
        resp = (
            secret_client.post("/Users", json=body)
            if method == "POST"
            else secret_client.put(f"/Users/{uid}", json=body)
        )
        _assert_hidden(resp, secret, caplog)
        assert resp.status_code == 400
        assert resp.json()["scimType"] in ("invalidValue", "invalidSyntax")


def _patch_operations(op: str, key: str, value: Any) -> list[dict[str, Any]]:
    """Every PATCH form the server reads for one attribute: path, path-less value, extension object."""
    forms: list[dict[str, Any]] = [{"op": op, "path": key, "value": value}, {"op": op, "value": {key: value}}]
    if key.startswith(EXT):
        forms.append({"op": op, "value": {EXT: {key.rsplit(":", 1)[1]: value}}})
        forms.append({"op": op, "path": EXT, "value": {key.rsplit(":", 1)[1]: value}})
    return forms


@SETTINGS
@given(data=st.data(), pin=st.booleans(), op=st.sampled_from(OPS), key_case=st.sampled_from(["op", "Op", "OP"]))
def test_wrong_typed_secrets_in_patch_are_never_echoed(
    secret_client: httpx.Client,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
    pin: bool,
    op: str,
    key_case: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    value, secret = data.draw(wrong_typed("pin" if pin else "password"))
    key = data.draw(st.sampled_from(PIN_KEYS if pin else [*PASSWORD_KEYS, "Password"]))
    uid = secret_client.post("/Users", json={"userName": f"u-{uuid4().hex}"}).json()["id"]
    for form in _patch_operations(op, key, value):
        operation = {(key_case if k == "op" else k): v for k, v in form.items()}
        body = {
            "schemas": [urns.PATCH_OP],
            "Operations": [{"op": "replace", "path": "active", "value": True}, operation],
        }
        resp = secret_client.patch(f"/Users/{uid}", json=body)
        _assert_hidden(resp, secret, caplog)
        assert resp.status_code == 400, (operation, resp.text)


@SETTINGS
@given(
    secret=markers | big_numbers.map(str),
    attr=st.sampled_from(["password", "PASSWORD", f"{urns.USER}:password", f"{EXT}:pin"]),
    op=st.sampled_from(["eq", "ne", "co", "gt"]),
    shape=st.sampled_from(["{}", '"{}"', "{}.5", '["{}"]', '"{}', '"{}" and', '[value eq "{}"]']),
)
def test_filters_on_secret_attributes_never_echo_the_value(
    secret_client: httpx.Client, caplog: pytest.LogCaptureFixture, secret: str, attr: str, op: str, shape: str
) -> None:
    """A filter value compared with a password may be a password: neither a parse nor a type error shows it."""
    caplog.set_level(logging.DEBUG)
    if attr.startswith(EXT):
        # A filter is parsed before any schema is known, so only password is hidden from parse errors;
        # an extension's writeOnly attribute is hidden from the errors of well-formed filters.
        assume(shape in ('"{}"', '[value eq "{}"]') or (shape in ("{}", "{}.5") and secret.isdigit()))
    literal = shape.format(secret)
    text = f"{attr}{literal}" if literal.startswith("[") else f"{attr} {op} {literal}"
    _assert_hidden(secret_client.get("/Users", params={"filter": text}), secret, caplog)
    search = {"schemas": [urns.SEARCH_REQUEST], "filter": text}
    _assert_hidden(secret_client.post("/Users/.search", json=search), secret, caplog)
    patch = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "remove", "path": text}]}
    _assert_hidden(secret_client.patch("/Users/unknown", json=patch), secret, caplog)


def test_the_reported_echo_names_the_attribute_and_the_problem(secret_client: httpx.Client) -> None:
    """The detail the issue quoted, without the value: ``password must be a string, not array``."""
    resp = secret_client.post("/Users", json={"userName": "echo", "password": ["hunter2-secret"]})
    assert resp.status_code == 400
    detail = resp.json()["detail"]
    assert detail.startswith("password must be a string, not array")
    assert "hunter2" not in detail
    # an attribute that is not secret still shows what was sent, for the client to find its mistake
    resp = secret_client.post("/Users", json={"userName": "echo", f"{EXT}:note": ["visible-value"]})
    assert "visible-value" in resp.json()["detail"]


def test_an_immutable_secret_is_never_shown_either() -> None:
    """check_immutable names a changed immutable value; a writeOnly one is only said to be set."""
    from aup_server.errors import MutabilityError
    from aup_server.scim.resource import check_immutable
    from scimcore.schemas import core_registry, schema_from_scim

    schema = schema_from_scim(
        {
            "id": EXT,
            "attributes": [{"name": "seed", "type": "string", "mutability": "immutable", "returned": "never"}],
        }
    )
    registry = core_registry(extensions=(("User", schema),))
    before = {"userName": "a", EXT: {"seed": "Pw-immutable-secret"}}
    with pytest.raises(MutabilityError) as caught:
        check_immutable(before, {"userName": "a", EXT: {"seed": "other"}}, registry, "User", keep_omitted=False)
    assert "Pw-immutable-secret" not in caught.value.detail
    assert json.dumps(caught.value.to_scim()).find("Pw-immutable-secret") == -1
