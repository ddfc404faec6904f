"""Recording redacts what the server would read: every accepted way to carry a secret, generated.

Each example sends a random secret in one way a SCIM server or an OAuth endpoint reads it (a JSON member in
any letter case, bare or URN-qualified, nested under an extension; every PATCH operation shape; a body with a
BOM or in UTF-16/32; a form body; a query parameter or a filter; a header), takes the exchange through the
recorder's own decoding (``decode_body_encoded``) and the cassette writer (``to_line``), and asserts that the
secret appears nowhere in the line: not as sent, not JSON-escaped, not percent-encoded, not base64'd.

The last tests hold the redaction to the server's own attribute-name rules: whatever name or PATCH path the
reference server resolves to ``password`` (and stores a password from) must be one the redaction hides.
"""

from __future__ import annotations

import base64
import json
import string
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from aup_server.errors import ScimError
from aup_server.scim.patch import apply_patch
from aup_server.scim.resource import normalize
from scimcore import urns
from scimcore.schemas.core import core_registry
from scimcore.wire import REDACTED, SECRET_NAMES, Exchange, decode_body_encoded, is_secret_name, to_line

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
EXTRA = ("employeeNumber", "X-Tenant-Key")  # what a user names with --redact
# Every encoding JSON's detection accepts (RFC 8259 §8.1; json.loads on bytes, as the server reads bodies).
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")
NATIVE = "LE" if sys.byteorder == "little" else "BE"
LABELS = {
    "utf-8": "",
    "utf-8-sig": "UTF-8 BOM",
    "utf-16": f"UTF-16{NATIVE} BOM",  # Python writes a BOM and its native byte order
    "utf-16-le": "UTF-16LE",
    "utf-16-be": "UTF-16BE",
    "utf-32": f"UTF-32{NATIVE} BOM",
    "utf-32-le": "UTF-32LE",
    "utf-32-be": "UTF-32BE",
}

secrets = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from(string.ascii_letters),
    min_size=8,
    max_size=32,
).filter(lambda s: s.strip() == s and len(set(s)) > 3)


@st.composite
def spelled(draw: st.DrawFn, name: str) -> str:
    """``name`` in a random letter case (RFC 7643 §2.1: attribute names are case-insensitive)."""
    flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    return "".join(c.upper() if flip else c.lower() for c, flip in zip(name, flips, strict=True))


@st.composite
def attribute_name(draw: st.DrawFn, name: str = "password", urn: str = CORE) -> str:
    """A name as a member key or PATCH path: any case, bare or URN-qualified (RFC 7644 §3.10)."""
    bare = draw(spelled(name))
    if draw(st.booleans()):
        return f"{draw(spelled(urn))}:{bare}"
    return bare


SENTINEL = "@@secret@@"  # stands for the secret while the shape is drawn; fill() puts a value in


@st.composite
def password_member(draw: st.DrawFn) -> dict[str, Any]:
    """A resource body member carrying the secret: password (any spelling), another secret name, or an extension."""
    kind = draw(st.sampled_from(["core", "qualified-core", "extension", "token"]))
    if kind == "extension":
        return {draw(spelled(ENTERPRISE)): {draw(spelled("employeeNumber")): SENTINEL}}
    if kind == "token":
        return {draw(spelled(draw(st.sampled_from(sorted(SECRET_NAMES))))): SENTINEL}
    if kind == "qualified-core":
        return {f"{draw(spelled(CORE))}:{draw(spelled('password'))}": SENTINEL}
    return {draw(spelled("password")): SENTINEL}


@st.composite
def patch_operation(draw: st.DrawFn) -> dict[str, Any]:
    """One PatchOp operation that sets the secret, in every shape RFC 7644 §3.5.2 allows and any key case."""
    op, path, value = draw(spelled("op")), draw(spelled("path")), draw(spelled("value"))
    verb = draw(st.sampled_from(["add", "replace", "Replace", "ADD"]))
    shape = draw(st.sampled_from(["path", "extension-path", "extension-urn-path", "path-less", "path-less-extension"]))
    pad = draw(st.sampled_from(["", " ", "  ", "\t"]))
    if shape == "path":
        carried = draw(st.sampled_from([SENTINEL, [SENTINEL], {"value": SENTINEL}]))
        return {op: verb, path: f"{pad}{draw(attribute_name())}{pad}", value: carried}
    if shape == "extension-path":
        return {op: verb, path: f"{pad}{draw(attribute_name('employeeNumber', ENTERPRISE))}", value: SENTINEL}
    if shape == "extension-urn-path":
        return {op: verb, path: draw(spelled(ENTERPRISE)), value: {draw(spelled("employeeNumber")): SENTINEL}}
    if shape == "path-less-extension":
        return {op: verb, value: {draw(spelled(ENTERPRISE)): {draw(spelled("employeeNumber")): SENTINEL}}}
    return {op: verb, value: {"displayName": "kept", **draw(password_member())}}


@st.composite
def json_body(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """(method, body): a POST/PUT resource, a PATCH, a /.search filter or a bulk request carrying the secret."""
    kind = draw(st.sampled_from(["resource", "patch", "search", "bulk"]))
    if kind == "patch":
        ops = [{"op": "replace", "path": "displayName", "value": "kept"}, draw(patch_operation())]
        return "PATCH", {"schemas": [urns.PATCH_OP], draw(spelled("Operations")): draw(st.permutations(ops))}
    if kind == "search":
        return "POST", {"schemas": [urns.SEARCH_REQUEST], "filter": f'{draw(attribute_name())} eq "{SENTINEL}"'}
    resource = {"schemas": [CORE], "userName": "ann@example.com", **draw(password_member())}
    if kind == "bulk":
        return "POST", {"Operations": [{"method": "POST", "path": "/Users", "bulkId": "b1", "data": resource}]}
    return draw(st.sampled_from(["POST", "PUT"])), resource


def fill(shape: Any, value: str) -> Any:
    """``shape`` with the sentinel replaced by ``value`` (JSON-escaped inside a filter's string literal)."""
    if isinstance(shape, list):
        return [fill(item, value) for item in shape]
    if isinstance(shape, dict):
        return {key: fill(item, value) for key, item in shape.items()}
    if shape == SENTINEL:
        return value
    if isinstance(shape, str):
        return shape.replace(SENTINEL, json.dumps(value, ensure_ascii=False)[1:-1])
    return shape


def exchange(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: bytes,
    response: bytes = b"",
    response_headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/scim+json"),),
) -> Exchange:
    """The exchange as the recorder builds it from the bytes on the wire."""
    request_body, request_encoding = decode_body_encoded(body)
    response_body, response_encoding = decode_body_encoded(response)
    return Exchange(
        method=method,
        url=url,
        request_headers=tuple(headers),
        request_body=request_body,
        status=200,
        response_headers=response_headers,
        response_body=response_body,
        started="2025-01-01T00:00:00.000000Z",
        elapsed_ms=1.0,
        source="okta",
        request_encoding=request_encoding,
        response_encoding=response_encoding,
    )


def forms(secret: str) -> set[str]:
    """Every form the secret can take in a cassette line if it leaked."""
    found = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    found |= {quote(secret, safe=""), quote_plus(secret), quote(secret), quote(secret, safe="").lower()}
    return {form for form in found if form}


def assert_hidden(line: str, secret: str) -> None:
    for form in forms(secret):
        assert form not in line, f"{form!r} leaked: {line}"
    record = json.loads(line)
    url = record["request"]["url"]
    assert secret not in unquote(url) and secret not in unquote_plus(url)
    for _, value in record["request"]["headers"] + record["response"]["headers"]:
        assert secret not in unquote(value)


def line_for(secret: str, build: Callable[[str], Exchange]) -> str:
    """The cassette line, after checking that the secret does not occur in the same exchange without it."""
    baseline = to_line(build("Placeholder-0"), redact_names=EXTRA)
    assume(not any(form in baseline for form in forms(secret)))
    return to_line(build(secret), redact_names=EXTRA)


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(secret=secrets, shaped=json_body(), encoding=st.sampled_from(ENCODINGS))
def test_a_secret_in_any_json_body_in_any_encoding_never_reaches_the_cassette(
    secret: str, shaped: tuple[str, dict[str, Any]], encoding: str
) -> None:
    method, shape = shaped

    def build(value: str) -> Exchange:
        raw = json.dumps(fill(shape, value), ensure_ascii=False).encode(encoding)
        return exchange(method, "/scim/v2/Users/7", [("Content-Type", "application/scim+json")], raw)

    line = line_for(secret, build)
    assert_hidden(line, secret)
    record = json.loads(line)
    assert record["request"].get("encoding", "") == LABELS[encoding]  # faithful about how it was sent
    assert isinstance(record["request"]["body"], dict) and REDACTED in line


ENCODERS: dict[str, Callable[[str], str]] = {"plus": quote_plus, "percent": lambda s: quote(s, safe="")}


@FAST
@given(
    secret=secrets,
    name=st.sampled_from(sorted(SECRET_NAMES)).flatmap(spelled),
    encoder=st.sampled_from(sorted(ENCODERS)),
    encode_name=st.booleans(),
    kind=st.sampled_from(["form", "query", "filter", "fragment", "location"]),
    attr=attribute_name(),
)
def test_a_secret_in_a_form_body_a_query_a_filter_or_a_url_fragment_never_reaches_the_cassette(
    secret: str, name: str, encoder: str, encode_name: bool, kind: str, attr: str
) -> None:
    encode = ENCODERS[encoder]

    def build(value: str) -> Exchange:
        pair = f"{encode(name) if encode_name else name}={encode(value)}"
        form = f"grant_type=client_credentials&{pair}&scope=scim"
        if kind == "form":  # an OAuth token request (RFC 6749 §4.4.2, client_secret per §2.3.1)
            headers = [("Content-Type", "application/x-www-form-urlencoded")]
            return exchange("POST", "/oauth2/token", headers, form.encode())
        if kind == "query":  # RFC 6750 §2.3 allows access_token in the query
            return exchange("GET", f"/scim/v2/Users?count=1&{pair}", [], b"")
        if kind == "filter":  # the server evaluates a filter on password (RFC 7644 §3.4.2.2)
            text = f'userName eq "ann" or {attr} eq {json.dumps(value, ensure_ascii=False)}'
            return exchange("GET", f"/scim/v2/Users?filter={encode(text)}&startIndex=1", [], b"")
        if kind == "fragment":  # the implicit grant's redirect (RFC 6749 §4.2.2)
            return exchange("GET", f"/callback#{form}", [], b"")
        return exchange("GET", "/authorize", [], b"", response_headers=(("Location", f"https://idp/cb?{form}"),))

    assert_hidden(line_for(secret, build), secret)


@FAST
@given(
    secret=secrets.filter(lambda s: " " not in s),
    header=st.sampled_from(["Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Tenant-Key"]).flatmap(
        spelled
    ),
    style=st.sampled_from(["bearer", "basic", "bare", "token-response"]),
    scheme=spelled("Bearer"),
    encoding=st.sampled_from(ENCODINGS),
)
def test_a_secret_in_a_header_or_an_oauth_token_response_never_reaches_the_cassette(
    secret: str, header: str, style: str, scheme: str, encoding: str
) -> None:
    def build(value: str) -> Exchange:
        response = b""
        if style == "bearer":
            credential = f"{scheme} {value}"
        elif style == "basic":  # RFC 7617: base64 of user-id ":" password
            credential = "Basic " + base64.b64encode(f"client:{value}".encode()).decode("ascii")
        elif header.lower().endswith("cookie"):
            credential = f"sid={quote(value)}; Path=/; HttpOnly"
        else:
            credential = value
        if style == "token-response":  # RFC 6749 §5.1
            tokens = {"access_token": value, "token_type": "Bearer", "refresh_token": value + "-r", "expires_in": 3600}
            response = json.dumps(tokens, ensure_ascii=False).encode(encoding)
        if header.lower() == "set-cookie":
            return exchange("POST", "/login", [], b"", response, response_headers=((header, credential),))
        return exchange("POST", "/scim/v2/Users", [(header, credential), ("User-Agent", "Okta")], b"", response)

    line = line_for(secret, build)
    assert_hidden(line, secret)
    encoded = base64.b64encode(f"client:{secret}".encode()).decode("ascii")
    assert encoded[8:-4] not in line
    if style in ("bearer", "basic") and header.lower().endswith("authorization"):
        assert f" {REDACTED}" in line  # the scheme word stays


# -- the same rules as the server ------------------------------------------------------------------------------

REGISTRY = core_registry()
USER = {"schemas": [CORE], "id": "7", "userName": "ann@example.com"}
NAME_NOISE = st.sampled_from(["", " ", "\t", ".", ":", "_", "-", "s", "\u017f", "\u212a", "[", "]", '"', "x"])


@st.composite
def near_password(draw: st.DrawFn) -> str:
    """Names around ``password``: its spellings, URN forms, and small perturbations of those."""
    name = draw(attribute_name())
    if draw(st.booleans()):
        at = draw(st.integers(0, len(name)))
        name = name[:at] + draw(NAME_NOISE) + name[at + draw(st.integers(0, 1)) :]
    return draw(NAME_NOISE) + name + draw(NAME_NOISE) if draw(st.booleans()) else name


@settings(max_examples=500, deadline=None)
@given(name=near_password(), secret=secrets)
def test_every_member_name_the_server_stores_as_a_password_is_redacted(name: str, secret: str) -> None:
    try:
        stored = normalize({"schemas": [CORE], "userName": "ann", name: secret}, REGISTRY, "User")
    except ScimError:
        return
    if stored.get("password") == secret:
        assert is_secret_name(name), name


@settings(max_examples=500, deadline=None)
@given(path=near_password(), secret=secrets, keys=st.tuples(spelled("op"), spelled("path"), spelled("value")))
def test_every_patch_path_the_server_applies_to_the_password_is_redacted(
    path: str, secret: str, keys: tuple[str, str, str]
) -> None:
    op, path_key, value_key = keys
    body = {"schemas": [urns.PATCH_OP], "Operations": [{op: "replace", path_key: path, value_key: secret}]}
    try:
        result = apply_patch(USER, body, REGISTRY, "User")
    except ScimError:
        return
    if result.doc.get("password") == secret:
        assert is_secret_name(path), path
        assert secret not in to_line(exchange("PATCH", "/Users/7", [], json.dumps(body).encode()))


@pytest.mark.parametrize("name", ["password", "PassWord", f"{CORE}:password", f"{CORE.upper()}:PASSWORD", " password"])
def test_the_server_reads_these_spellings_as_the_password_and_they_are_redacted(name: str) -> None:
    stored = normalize({"schemas": [CORE], "userName": "ann", name.strip(): "pw-1"}, REGISTRY, "User")
    assert stored["password"] == "pw-1" and is_secret_name(name)
