"""A faulty service provider: the reference server behind a WSGI wrapper that breaks exactly one requirement.

A ``Breaker`` sees each request before the server does (``request``: may rewrite it, or answer it
itself) and each response after (``response``: may rewrite status, headers or body). Breakers are built
from a few small combinators so that each conformance check can be paired with the one fault that must
make it fail.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any
from urllib.parse import parse_qsl, urlencode

from werkzeug.wrappers import Request, Response

WSGIApp = Callable[..., Iterable[bytes]]
RequestHook = Callable[[Request, "State"], Request | Response | None]
ResponseHook = Callable[[Request, Response, "State"], Response | None]


@dataclass
class State:
    """What a breaker may remember across requests (ids it deleted, groups it saw patched, the good token)."""

    token: str = ""
    memory: dict[str, Any] = field(default_factory=dict)


@dataclass
class Breaker:
    request: RequestHook | None = None
    response: ResponseHook | None = None


def chain(*breakers: Breaker) -> Breaker:
    def on_request(req: Request, state: State) -> Request | Response | None:
        for breaker in breakers:
            if breaker.request is not None:
                out = breaker.request(req, state)
                if isinstance(out, Response):
                    return out
                req = out or req
        return req

    def on_response(req: Request, resp: Response, state: State) -> Response | None:
        for breaker in breakers:
            if breaker.response is not None:
                resp = breaker.response(req, resp, state) or resp
        return resp

    return Breaker(on_request, on_response)


class Faulty:
    """WSGI middleware: ``inner`` with ``breaker`` applied."""

    def __init__(self, inner: WSGIApp, breaker: Breaker, state: State) -> None:
        self.inner = inner
        self.breaker = breaker
        self.state = state

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        req = Request(environ)
        req.get_data(cache=True)
        if self.breaker.request is not None:
            out = self.breaker.request(req, self.state)
            if isinstance(out, Response):
                return out(environ, start_response)
            req = out or req
        resp = Response.from_app(self.inner, fresh_environ(req))
        if self.breaker.response is not None:
            resp = self.breaker.response(req, resp, self.state) or resp
        return resp(environ, start_response)


# -- matching -----------------------------------------------------------------------------------------------------


def matches(req: Request, method: str | None = None, path: str | None = None) -> bool:
    """``path`` is a regex searched in the path below the SCIM base (``/Users/[^/]+$``)."""
    if method is not None and req.method != method:
        return False
    return path is None or re.search(path, _scim_path(req)) is not None


def _scim_path(req: Request) -> str:
    return re.sub(r"^/scim(/[^/]+)?/v2", "", req.path)


def body_of(req: Request | Response) -> Any:
    data = req.get_data()
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def clone(req: Request, data: bytes | None = None, drop: Iterable[str] = (), **environ: str) -> Request:
    """A copy of ``req`` with environ keys replaced or dropped and, optionally, another body."""
    body = req.get_data() if data is None else data
    return Request(fresh_environ(req, body, drop, **environ))


def fresh_environ(req: Request, body: bytes | None = None, drop: Iterable[str] = (), **environ: str) -> dict[str, Any]:
    """An environ for ``req`` whose input stream has not been read (werkzeug consumes the original)."""
    data = req.get_data() if body is None else body
    dropped = {*drop, "werkzeug.request"}
    copied = {key: value for key, value in req.environ.items() if key not in dropped}
    copied.update(environ)
    copied["wsgi.input"] = BytesIO(data)
    copied["CONTENT_LENGTH"] = str(len(data))
    return copied


def with_body(req: Request, body: Any) -> Request:
    return clone(req, json.dumps(body).encode())


def with_query(req: Request, edit: Callable[[list[tuple[str, str]]], list[tuple[str, str]]]) -> Request:
    pairs = parse_qsl(req.query_string.decode(), keep_blank_values=True)
    return clone(req, QUERY_STRING=urlencode(edit(pairs)))


def with_method(req: Request, method: str) -> Request:
    return clone(req, REQUEST_METHOD=method)


def set_json(resp: Response, body: Any) -> Response:
    resp.set_data(json.dumps(body).encode())
    return resp


def scim_error(status: int, detail: str, scim_type: str | None = None) -> Response:
    body: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": str(status),
        "detail": detail,
    }
    if scim_type:
        body["scimType"] = scim_type
    return Response(json.dumps(body), status=status, content_type="application/scim+json")


# -- combinators ----------------------------------------------------------------------------------------------------


def answer(
    method: str | None,
    path: str | None,
    make: Callable[[Request], Response],
    when: Callable[[Request], bool] = lambda req: True,
) -> Breaker:
    """Answer matching requests without the server."""
    return Breaker(request=lambda req, state: make(req) if matches(req, method, path) and when(req) else None)


def rewrite_request(method: str | None, path: str | None, edit: Callable[[Request], Request | None]) -> Breaker:
    return Breaker(request=lambda req, state: edit(req) if matches(req, method, path) else None)


def edit_body(method: str | None, path: str | None, edit: Callable[[Any], Any]) -> Breaker:
    """Rewrite the JSON request body of matching requests."""

    def hook(req: Request) -> Request | None:
        body = body_of(req)
        return with_body(req, edit(body)) if body is not None else None

    return rewrite_request(method, path, hook)


def edit_response(
    method: str | None,
    path: str | None,
    edit: Callable[[Response, Request], Response | None],
    status: int | None = None,
) -> Breaker:
    def hook(req: Request, resp: Response, state: State) -> Response | None:
        if matches(req, method, path) and (status is None or resp.status_code == status):
            return edit(resp, req)
        return None

    return Breaker(response=hook)


def edit_json(method: str | None, path: str | None, edit: Callable[[Any], Any], status: int | None = None) -> Breaker:
    """Rewrite the JSON body of matching responses (``edit`` may change it in place and return None)."""

    def hook(resp: Response, req: Request) -> Response | None:
        body = body_of(resp)
        if body is None:
            return None
        out = edit(body)
        return set_json(resp, body if out is None else out)

    return edit_response(method, path, hook, status)


def set_status(method: str | None, path: str | None, old: int, new: int) -> Breaker:
    def hook(resp: Response, req: Request) -> Response:
        resp.status_code = new
        return resp

    return edit_response(method, path, hook, old)


def strip_param(
    name: str, method: str | None = "GET", path: str | None = None, when: Callable[[str], bool] = lambda value: True
) -> Breaker:
    """The server ignores a query parameter."""
    return rewrite_request(
        method,
        path,
        lambda req: with_query(
            req, lambda pairs: [(key, value) for key, value in pairs if not (key == name and when(value))]
        ),
    )


def rewrite_filter(old: str, new: str, path: str | None = None) -> Breaker:
    """The server reads ``old`` in a filter as ``new`` (first occurrence)."""
    return rewrite_request(
        "GET",
        path,
        lambda req: with_query(
            req, lambda pairs: [(key, value.replace(old, new, 1) if key == "filter" else value) for key, value in pairs]
        ),
    )


def filter_answer(token: str, make: Callable[[Request], Response]) -> Breaker:
    return answer("GET", None, make, when=lambda req: token in req.args.get("filter", ""))


def patch_ops(path: str | None, edit: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> Breaker:
    """Rewrite the Operations of matching PATCH requests."""

    def hook(body: Any) -> Any:
        if isinstance(body, dict) and isinstance(body.get("Operations"), list):
            body = dict(body, Operations=edit(list(body["Operations"])))
        return body

    return edit_body("PATCH", path, hook)


def drop_ops(predicate: Callable[[dict[str, Any]], bool], path: str | None = None) -> Breaker:
    """The server silently ignores operations that match ``predicate``."""
    return patch_ops(path, lambda ops: [op for op in ops if not predicate(op)])


def drop_header(name: str, method: str | None = None, path: str | None = None) -> Breaker:
    def hook(resp: Response, req: Request) -> Response:
        resp.headers.pop(name, None)
        return resp

    return edit_response(method, path, hook)


def drop_request_header(name: str) -> Breaker:
    def hook(req: Request, state: State) -> Request:
        return clone(req, drop=["HTTP_" + name.upper().replace("-", "_")])

    return Breaker(request=hook)


# -- for the IdP suites (breakers_idp.py) -------------------------------------------------------------------------


def peek(req: Request, state: State, path: str) -> Any:
    """What the server holds at ``path`` (a GET through the unbroken app in ``state.memory["app"]``)."""
    environ = fresh_environ(req, b"", REQUEST_METHOD="GET", QUERY_STRING="")
    environ["PATH_INFO"] = path
    resp = Response.from_app(state.memory["app"], environ)
    return body_of(resp) if resp.status_code == 200 else None


def throttle(after: int, make: Callable[[Request], Response], method: str | None = "GET") -> Breaker:
    """Requests after the first ``after`` (per method) are answered by ``make``: a server that throttles."""

    def hook(req: Request, state: State) -> Response | None:
        if method is not None and req.method != method:
            return None
        seen = state.memory["throttle"] = state.memory.get("throttle", 0) + 1
        return make(req) if seen > after else None

    return Breaker(request=hook)


def ignore_ops(predicate: Callable[[dict[str, Any]], bool], path: str | None = None) -> Breaker:
    """The server acknowledges operations that match ``predicate`` without applying them: they are
    dropped, and a PATCH left with none is answered 204 without reaching the server."""

    def hook(req: Request, state: State) -> Request | Response | None:
        body = body_of(req)
        ops = body.get("Operations") if isinstance(body, dict) else None
        if not matches(req, "PATCH", path) or not isinstance(ops, list):
            return None
        kept = [op for op in ops if not (isinstance(op, dict) and predicate(op))]
        if len(kept) == len(ops):
            return None
        return with_body(req, dict(body, Operations=kept)) if kept else Response(status=204)

    return Breaker(request=hook)


def members_read_modify_write(delay: float, path: str | None = None) -> Breaker:
    """A member PATCH handled as read-modify-write: the server reads the group's member list, takes
    ``delay`` seconds, then writes the whole list back (a replace), so concurrent PATCHes to one group
    lose each other's changes (docs/domain.md §3, item 1: scimmyjs/scimmy #79)."""

    def hook(req: Request, state: State) -> Request | None:
        body = body_of(req)
        ops = body.get("Operations") if isinstance(body, dict) else None
        if not matches(req, "PATCH", path) or not isinstance(ops, list) or not ops:
            return None
        if not all(isinstance(op, dict) and str(op.get("path", "")).startswith("members") for op in ops):
            return None
        members = [m.get("value") for m in (peek(req, state, req.path) or {}).get("members") or []]
        for op in ops:
            values = [v.get("value") for v in op.get("value") or [] if isinstance(v, dict)]
            found = re.fullmatch(r'members\[value eq "([^"]*)"\]', str(op["path"]))
            if str(op.get("op", "")).lower() == "add":
                members += [value for value in values if value not in members]
            else:
                gone = {found.group(1)} if found else set(values)
                members = [value for value in members if value not in gone]
        time.sleep(delay)
        written = [{"value": value} for value in members]
        return with_body(req, dict(body, Operations=[{"op": "replace", "path": "members", "value": written}]))

    return Breaker(request=hook)
