"""Request parsing and response building shared by the views: SCIM media types, JSON bodies, base URLs."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

from flask import Response, g, request

from aup_server.errors import InvalidSyntaxError, InvalidValueError, UnsupportedMediaTypeError
from scimcore import urns

_JSON_TYPES = frozenset({urns.MEDIA_TYPE, "application/json"})
_BASE_RE = re.compile(r"^(/scim(?:/[^/]+)?/v2)(?:/|$)")


# A member list longer than this is sent in pieces: a full GET of a 50k-member group would otherwise
# hold the JSON text and its encoded bytes (about 9 MB each) beside the members at once.
STREAM_MEMBERS = 2_000
_PIECE = 1_000


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def streamed_json(body: dict[str, Any]) -> Iterator[bytes]:
    """The same bytes as ``_dumps(body)``, with ``members`` encoded a piece at a time, also inside the
    ``Resources`` of a list page (a page may hold one whole 50k-member group)."""
    yield b"{"
    for index, (key, value) in enumerate(body.items()):
        head = ("," if index else "") + _dumps(key) + ":"
        if key == "members" and isinstance(value, list):
            yield (head + "[").encode()
            for start in range(0, len(value), _PIECE):
                yield (("," if start else "") + _dumps(value[start : start + _PIECE])[1:-1]).encode()
            yield b"]"
        elif key == "Resources" and isinstance(value, list):
            yield (head + "[").encode()
            for position, item in enumerate(value):
                if position:
                    yield b","
                yield from streamed_json(item) if isinstance(item, dict) else iter((_dumps(item).encode(),))
            yield b"]"
        else:
            yield (head + _dumps(value)).encode()
    yield b"}"


def _members_in(body: dict[str, Any]) -> int:
    """How many members the body carries, its list page's resources included."""
    own = body.get("members")
    count = len(own) if isinstance(own, list) else 0
    resources = body.get("Resources")
    if isinstance(resources, list):
        count += sum(_members_in(item) for item in resources if isinstance(item, dict))
    return count


def scim_response(body: dict[str, Any] | None, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A response in ``application/scim+json`` (RFC 7644 §3.1); None gives an empty body (204, 304)."""
    if body is not None and _members_in(body) > STREAM_MEMBERS:
        resp = Response(streamed_json(body), status=status, headers=headers)
    else:
        resp = Response("" if body is None else _dumps(body), status=status, headers=headers)
    if body is not None:
        resp.content_type = f"{urns.MEDIA_TYPE}; charset=utf-8"
    return resp


# RFC 8259 §6 lets a parser limit the range and precision of numbers; Python cannot even convert an
# integer literal longer than its int-string limit (4,300 digits), so longer ones are refused up front.
MAX_INT_DIGITS = 1_000


def _json_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INT_DIGITS:
        raise InvalidValueError(f"a number in the request body has more than {MAX_INT_DIGITS} digits")
    return int(literal)


def _json_float(literal: str) -> float:
    """A JSON number with a fraction or exponent; one beyond the range of a double (1e400) is refused."""
    if len(literal) > MAX_INT_DIGITS:
        raise InvalidValueError(f"a number in the request body is longer than {MAX_INT_DIGITS} characters")
    value = float(literal)
    if not math.isfinite(value):
        raise InvalidValueError("a number in the request body is out of range (RFC 8259 §6)")
    return value


def _json_constant(name: str) -> Any:
    """NaN, Infinity and -Infinity are not JSON (RFC 8259 §6), though Python's parser accepts them."""
    raise InvalidSyntaxError(f"the request body is not valid JSON: {name} is not a JSON value (RFC 8259 §6)")


def json_body() -> dict[str, Any]:
    """The request's JSON object; both SCIM and plain JSON media types, any charset (docs/okta-idp.md §10.7)."""
    if request.mimetype not in _JSON_TYPES:
        shown = request.content_type or "no Content-Type"
        raise UnsupportedMediaTypeError(f"send the body as {urns.MEDIA_TYPE} or application/json, not {shown}")
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise InvalidSyntaxError("the request body is empty; a JSON object is required")
    try:
        body = json.loads(raw, parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant)
        # A \ud800 escape decodes to a lone surrogate that no UTF-8 store can hold: refuse it here.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidSyntaxError(f"the request body is not valid JSON: {exc}") from None
    except UnicodeEncodeError:
        raise InvalidSyntaxError("the request body contains an unpaired UTF-16 surrogate escape") from None
    except RecursionError:
        raise InvalidSyntaxError("the request body nests too deeply") from None
    if not isinstance(body, dict):
        raise InvalidSyntaxError(f"the request body must be a JSON object, not a {type(body).__name__}")
    return body


def base_url() -> str:
    """The absolute SCIM base of this request's tenant, e.g. ``https://host/scim/acme/v2``."""
    cached: str | None = g.get("scim_base")
    if cached is None:
        match = _BASE_RE.match(request.path)
        prefix = match.group(1) if match else "/scim/v2"
        # Built from the raw scheme and Host: host_url would also IRI-decode them, at ~15 µs a request.
        cached = f"{request.scheme}://{request.host}{request.script_root}{prefix}"
        g.scim_base = cached
    return cached
