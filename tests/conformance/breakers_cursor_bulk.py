"""For each cursor (RFC 9865) and Bulk (RFC 7644 §3.7) check, the one fault that must make it fail (see faulty.py)."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.conformance.faulty import (
    Breaker,
    State,
    body_of,
    edit_body,
    edit_json,
    matches,
    rewrite_request,
    set_json,
    with_query,
)

LIST = r"^/(Users|Groups)$"
SEARCH = r"/\.search$"
BULK = r"^/Bulk$"


def _paged_by_cursor(req: Request) -> bool:
    return "cursor" in req.args


def _on_cursor_pages(edit: Any) -> Breaker:
    """Edit the JSON of list answers to cursor requests (GET with ?cursor)."""

    def hook(req: Request, resp: Response, state: State) -> Response | None:
        if not (matches(req, "GET", LIST) and _paged_by_cursor(req)):
            return None
        body = body_of(resp)
        if not isinstance(body, dict) or resp.status_code != 200:
            return None
        edit(body, req)
        return set_json(resp, body)

    return Breaker(response=hook)


def _on_cursor_requests(edit: Any) -> Breaker:
    """Rewrite the query of cursor requests: ``edit`` takes and returns the (key, value) pairs."""
    return rewrite_request("GET", LIST, lambda req: with_query(req, edit) if _paged_by_cursor(req) else None)


def _replace(pairs: list[tuple[str, str]], key: str, value: str | None) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in pairs if k != key]
    return kept if value is None else [*kept, (key, value)]


# -- an index-based "cursor": the offset, which shifts when a resource before it is deleted --------------------------


def _offset_request(req: Request, state: State) -> Request | None:
    if not (matches(req, "GET", LIST) and _paged_by_cursor(req)):
        return None
    cursor = req.args.get("cursor", "")
    start = int(cursor.removeprefix("off")) + 1 if cursor.startswith("off") else 1

    def edit(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        kept = [(k, v) for k, v in pairs if k != "cursor"]
        return [*kept, ("startIndex", str(start)), ("aup-offset-cursor", "1")]

    return with_query(req, edit)


def _offset_response(req: Request, resp: Response, state: State) -> Response | None:
    if "aup-offset-cursor" not in req.args or resp.status_code != 200:
        return None
    body = body_of(resp)
    if not isinstance(body, dict):
        return None
    start = int(body.pop("startIndex", 1))
    after = start - 1 + int(body.get("itemsPerPage", 0))
    if after < int(body.get("totalResults", 0)):
        body["nextCursor"] = f"off{after}"
    return set_json(resp, body)


OFFSET_CURSOR = Breaker(request=_offset_request, response=_offset_response)


# -- a cursor not bound to its query: the server remembers the query a cursor came from --------------------------------


def _remember_query(req: Request, resp: Response, state: State) -> Response | None:
    if matches(req, "GET", LIST) and _paged_by_cursor(req):
        following = (body_of(resp) or {}).get("nextCursor")
        if isinstance(following, str):
            state.memory.setdefault("queries", {})[following] = req.args.get("filter", "")
    return None


def _reuse_query(req: Request, state: State) -> Request | None:
    if not (matches(req, "GET", LIST) and _paged_by_cursor(req)):
        return None
    remembered = state.memory.get("queries", {}).get(req.args.get("cursor", ""))
    if remembered is None:
        return None
    return with_query(req, lambda pairs: _replace(pairs, "filter", remembered))


UNBOUND_CURSOR = Breaker(request=_reuse_query, response=_remember_query)


def _spc(edit: Any) -> Breaker:
    return edit_json("GET", r"^/ServiceProviderConfig$", edit)


def _pagination_index_as_text(body: Any) -> None:
    body["pagination"]["index"] = "yes"


def _drop_next(body: dict[str, Any], req: Request) -> None:
    body.pop("nextCursor", None)


def _always_next(body: dict[str, Any], req: Request) -> None:
    body.setdefault("nextCursor", "more")


def _skip_first_after_the_first_page(body: dict[str, Any], req: Request) -> None:
    if req.args.get("cursor"):
        body["Resources"] = (body.get("Resources") or [])[1:]


def _reserved_cursor_out(body: dict[str, Any], req: Request) -> None:
    if isinstance(body.get("nextCursor"), str):
        body["nextCursor"] += "/+="


def _reserved_cursor_in(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v.removesuffix("/+=") if k == "cursor" else v) for k, v in pairs]


def _unknown_cursor_as_first(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, "" if k == "cursor" and "." not in v else v) for k, v in pairs]


def _zero_count_as_default(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in pairs if not (k == "count" and v == "0")]


def _previous_is_this_page(body: dict[str, Any], req: Request) -> None:
    if "previousCursor" in body:
        body["previousCursor"] = req.args.get("cursor", "")


def _search_without_next(body: Any) -> None:
    if isinstance(body, dict):
        body.pop("nextCursor", None)


CURSOR_BREAKERS: dict[str, Breaker] = {
    "rfc9865-4-pagination-config": _spc(_pagination_index_as_text),
    "rfc9865-2-first-page": _on_cursor_pages(_drop_next),
    "rfc9865-2-count": _on_cursor_requests(lambda pairs: _replace(pairs, "count", None)),
    "rfc9865-2-walk": _on_cursor_pages(_skip_first_after_the_first_page),
    "rfc9865-2-last-page": _on_cursor_pages(_always_next),
    "rfc9865-2-unreserved": Breaker(
        request=_on_cursor_requests(_reserved_cursor_in).request,
        response=_on_cursor_pages(_reserved_cursor_out).response,
    ),
    "rfc9865-2-changing-walk": OFFSET_CURSOR,
    "rfc9865-2.1-invalid-cursor": _on_cursor_requests(_unknown_cursor_as_first),
    "rfc9865-2.1-invalid-count": _on_cursor_requests(_zero_count_as_default),
    "rfc9865-2-same-query": UNBOUND_CURSOR,
    "rfc9865-3-search": edit_json("POST", SEARCH, _search_without_next),
    "rfc9865-2.2-sorted": _on_cursor_requests(
        lambda pairs: _replace(_replace(pairs, "sortBy", None), "sortOrder", None)
    ),
    "rfc9865-2-previous-cursor": _on_cursor_pages(_previous_is_this_page),
}


# -- Bulk -------------------------------------------------------------------------------------------------------------


def _each_result(edit: Any) -> Breaker:
    def hook(body: Any) -> None:
        for item in (body or {}).get("Operations") or []:
            edit(item)

    return edit_json("POST", BULK, hook, status=200)


def _each_operation(edit: Any) -> Breaker:
    def hook(body: Any) -> Any:
        if isinstance(body, dict) and isinstance(body.get("Operations"), list):
            for op in body["Operations"]:
                if isinstance(op, dict):
                    edit(op, body)
        return body

    return edit_body("POST", BULK, hook)


def _request(edit: Any) -> Breaker:
    def hook(body: Any) -> Any:
        if isinstance(body, dict):
            edit(body)
        return body

    return edit_body("POST", BULK, hook)


def _text_replace(value: Any, old: str, new: str) -> Any:
    return json.loads(json.dumps(value).replace(old, new))


def _declared_later(op: dict[str, Any], body: dict[str, Any]) -> None:
    """A server that runs operations strictly in order: a reference to a later POST is unknown when it runs."""
    ops = body["Operations"]
    later = {o.get("bulkId") for o in ops[ops.index(op) + 1 :] if isinstance(o, dict)}
    for bulk_id in later:
        op["data"] = _text_replace(op.get("data"), f'"bulkId:{bulk_id}"', f'"unresolved-{bulk_id}"')


def _literal_manager(op: dict[str, Any], body: dict[str, Any]) -> None:
    op["data"] = _text_replace(op.get("data"), '"bulkId:', '"bulkIdLiteral:')


def _show_literal(body: Any) -> Any:
    return _text_replace(body, '"bulkIdLiteral:', '"bulkId:')


def _no_references(op: dict[str, Any], body: dict[str, Any]) -> None:
    op["data"] = _text_replace(op.get("data"), '"bulkId:', '"bulkid-')


def _stop_at_first_error(body: dict[str, Any]) -> None:
    body["failOnErrors"] = 1


def _ignore_fail_on_errors(body: dict[str, Any]) -> None:
    body.pop("failOnErrors", None)


def _status_as_number(item: dict[str, Any]) -> None:
    item["status"] = int(item["status"])


def _conflict_as_bad_request(item: dict[str, Any]) -> None:
    if item.get("status") == "409":
        item["status"] = "400"
        item["response"] = {**item.get("response", {}), "status": "400", "scimType": "invalidValue"}


def _too_many_as_bad_request(resp: Response, req: Request) -> Response:
    resp.status_code = 400
    body = body_of(resp) or {}
    return set_json(resp, {**body, "status": "400", "scimType": "invalidValue", "detail": "too many operations"})


def _too_many(req: Request, resp: Response, state: State) -> Response | None:
    return _too_many_as_bad_request(resp, req) if matches(req, "POST", BULK) and resp.status_code == 413 else None


BULK_BREAKERS: dict[str, Breaker] = {
    "rfc7644-3.7-bulk-response": _each_result(lambda item: item.pop("bulkId", None)),
    "rfc7644-3.7-status-string": _each_result(_status_as_number),
    "rfc7644-3.7.2-bulkid": _each_operation(_no_references),
    "rfc7644-3.7.1-forward-reference": _each_operation(_declared_later),
    "rfc7644-3.7.1-circular": Breaker(
        request=_each_operation(_literal_manager).request,
        response=edit_json("GET", r"^/Users/[^/]+$", _show_literal).response,
    ),
    "rfc7644-3.7.3-continue": _request(_stop_at_first_error),
    "rfc7644-3.7.3-fail-on-errors": _request(_ignore_fail_on_errors),
    "rfc7644-3.7.3-error-response": _each_result(lambda item: item.pop("response", None)),
    "rfc7644-3.7.3-uniqueness": _each_result(_conflict_as_bad_request),
    "rfc7644-3.7-version": _each_operation(lambda op, body: op.pop("version", None)),
    "rfc7644-3.7.4-max-operations": Breaker(response=_too_many),
}

BREAKERS: dict[str, Breaker] = {**CURSOR_BREAKERS, **BULK_BREAKERS}
