"""For each check of the ``rfc`` suite, the one fault that must make it fail (see faulty.py)."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.conformance.faulty import (
    Breaker,
    State,
    answer,
    body_of,
    chain,
    drop_header,
    drop_ops,
    drop_request_header,
    edit_body,
    edit_json,
    edit_response,
    filter_answer,
    fresh_environ,
    matches,
    patch_ops,
    rewrite_filter,
    rewrite_request,
    scim_error,
    set_json,
    set_status,
    strip_param,
    with_body,
    with_method,
)

USER = r"/Users/[^/.]+$"
GROUP = r"/Groups/[^/.]+$"


def _drop_key(key: str) -> Any:
    def edit(body: Any) -> None:
        if isinstance(body, dict):
            body.pop(key, None)

    return edit


def _schema_attrs(edit: Any) -> Any:
    def hook(body: Any) -> None:
        for schema in body.get("Resources") or []:
            edit(schema)

    return hook


def _strip_attr(name: str) -> Any:
    def edit(schema: dict[str, Any]) -> None:
        schema["attributes"] = [attr for attr in schema.get("attributes", []) if attr.get("name") != name]

    return edit


def _strip_mutability(schema: dict[str, Any]) -> None:
    for attr in schema.get("attributes", []):
        attr.pop("mutability", None)


def _noop(status: int) -> Any:
    """Acknowledge without doing anything."""
    return lambda req: Response(status=status)


def _echo_resource(req: Request) -> Request:
    """PUT read as GET: the server answers with the unchanged resource."""
    return with_method(req, "GET")


def _member_entries(edit: Any) -> Any:
    def hook(body: Any) -> None:
        for member in body.get("members") or []:
            edit(member)

    return hook


def _remember_deleted(req: Request, state: State) -> None:
    if matches(req, "DELETE", USER):
        state.memory.setdefault("deleted", []).append(req.path.rsplit("/", 1)[1])


def _ghost_members() -> Breaker:
    """Deleted users stay listed as members of the groups that held them."""

    def on_request(req: Request, state: State) -> None:
        _remember_deleted(req, state)

    def on_response(req: Request, resp: Response, state: State) -> Response | None:
        if not matches(req, "GET", GROUP) or resp.status_code != 200:
            return None
        body = body_of(resp)
        ghosts = [{"value": rid} for rid in state.memory.get("deleted", [])]
        body["members"] = (body.get("members") or []) + ghosts
        return set_json(resp, body)

    return Breaker(on_request, on_response)


def _duplicate_members() -> Breaker:
    """A member added twice is listed twice."""

    def on_request(req: Request, state: State) -> None:
        if matches(req, "PATCH", GROUP):
            state.memory["patched"] = req.path

    def on_response(req: Request, resp: Response, state: State) -> Response | None:
        if not matches(req, "GET", GROUP) or state.memory.get("patched") != req.path:
            return None
        body = body_of(resp)
        if body.get("members"):
            body["members"].append(dict(body["members"][0]))
        return set_json(resp, body)

    return Breaker(on_request, on_response)


def _good_token(replace_bad: bool) -> Breaker:
    """Requests without (or with a wrong) token are served anyway."""

    def on_request(req: Request, state: State) -> Request | None:
        header = req.headers.get("Authorization")
        if (header is None and not replace_bad) or (replace_bad and header and state.token not in header):
            from tests.conformance.faulty import clone

            return clone(req, HTTP_AUTHORIZATION=f"Bearer {state.token}")
        return None

    return Breaker(request=on_request)


def _case_sensitive_unique() -> Breaker:
    """userName uniqueness compares case: an upper-cased twin is stored as another user."""

    def edit(body: Any) -> Any:
        name = body.get("userName") if isinstance(body, dict) else None
        if isinstance(name, str) and name == name.upper() and name != name.lower():
            return dict(body, userName="CS-" + name)  # a new local part, so no other unique key collides
        return body

    return edit_body("POST", r"/Users$", edit)


def _client_id_used() -> Breaker:
    def hook(req: Request, resp: Response, state: State) -> Response | None:
        sent = body_of(req)
        if matches(req, "POST", r"/Users$") and resp.status_code == 201 and isinstance(sent, dict) and "id" in sent:
            body = body_of(resp)
            body["id"] = sent["id"]
            return set_json(resp, body)
        return None

    return Breaker(response=hook)


def _non_atomic() -> Breaker:
    """Operations are applied one by one, so an early one sticks when a later one fails."""

    def on_request(req: Request, state: State) -> None:
        body = body_of(req)
        if matches(req, "PATCH", USER) and isinstance(body, dict) and len(body.get("Operations") or []) > 1:
            first = dict(body, Operations=body["Operations"][:1])
            state.memory["apply_first"] = (req, first)

    def on_response(req: Request, resp: Response, state: State) -> Response | None:
        pending = state.memory.pop("apply_first", None)
        if pending is not None and resp.status_code == 400:
            app = state.memory["app"]
            Response.from_app(app, fresh_environ(with_body(pending[0], pending[1])))
        return None

    return Breaker(on_request, on_response)


def _alternating_order() -> Breaker:
    """Lists come back in insertion order, then reversed, then in insertion order..."""

    def hook(req: Request, resp: Response, state: State) -> Response | None:
        if not matches(req, "GET", r"/Users$") or resp.status_code != 200:
            return None
        flip = state.memory["flip"] = not state.memory.get("flip", False)
        body = body_of(resp)
        if flip:
            body["Resources"] = list(reversed(body.get("Resources") or []))
        return set_json(resp, body)

    return Breaker(response=hook)


def _in_filter(token: str) -> Any:
    return lambda req: token in req.args.get("filter", "")


def _empty_list(req: Request) -> Response:
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "Resources": []}
    return Response(json.dumps(body), status=200, content_type="application/scim+json")


def _op_has(op: dict[str, Any], kind: str, path: str | None) -> bool:
    return str(op.get("op", "")).lower() == kind and op.get("path") == path


def _invalid_filter_accepted() -> Breaker:
    def hook(resp: Response, req: Request) -> Response | None:
        return _empty_list(req) if "invalidFilter" in resp.get_data(as_text=True) else None

    return edit_response("GET", r"/Users$", hook, 400)


def _scim_type(old: str, new: str) -> Breaker:
    def edit(body: Any) -> None:
        if body.get("scimType") == old:
            body["scimType"] = new

    return edit_json(None, None, edit, 400)


def _lower_user_name(body: Any) -> None:
    if isinstance(body.get("userName"), str):
        body["userName"] = body["userName"].lower()


def _strip_created(body: Any) -> None:
    if isinstance(body.get("meta"), dict):
        body["meta"].pop("created", None)


def _content_type(resp: Response, req: Request) -> Response:
    resp.headers["Content-Type"] = "application/json"
    return resp


def _clobber_name(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """name.givenName applied by rewriting the whole name (familyName lost)."""
    out: list[dict[str, Any]] = []
    for op in ops:
        if op.get("path") == "name.givenName":
            out += [
                {"op": "remove", "path": "name"},
                {"op": "add", "path": "name", "value": {"givenName": op["value"]}},
            ]
        else:
            out.append(op)
    return out


def _remove_all_members(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``members[value eq "x"]`` read as ``members``: every member removed."""
    return [dict(op, path="members") if str(op.get("path", "")).startswith("members[") else op for op in ops]


BREAKERS: dict[str, Breaker] = {
    # discovery
    "rfc7644-4-spc": edit_json("GET", r"/ServiceProviderConfig$", _drop_key("sort")),
    "rfc7644-4-resource-types": edit_json(
        "GET",
        r"/ResourceTypes$",
        lambda body: [item.update(endpoint="/Group") for item in body["Resources"] if item.get("name") == "Group"],
    ),
    "rfc7644-4-schemas": edit_json("GET", r"/Schemas$", _schema_attrs(_strip_attr("userName"))),
    "rfc7644-4-schema-by-id": answer("GET", r"/Schemas/.+", lambda req: scim_error(404, "not found")),
    "rfc7644-4-resource-type-by-id": answer("GET", r"/ResourceTypes/.+", lambda req: scim_error(404, "not found")),
    "rfc7644-4-discovery-read-only": rewrite_request(
        "POST", r"/ServiceProviderConfig$", lambda req: with_method(req, "GET")
    ),
    "rfc7644-4-discovery-schema-definitions": edit_json("GET", r"/Schemas$", _schema_attrs(_strip_mutability)),
    # users
    "rfc7644-3.3-create-user": set_status("POST", r"/Users$", 201, 200),
    "rfc7644-3.3-create-location": drop_header("Location", "POST"),
    "rfc7644-3.4.1-get-user": edit_json("GET", USER, lambda body: body.update(userName="someone-else")),
    "rfc7644-3.12-get-missing-404": edit_response(
        "GET", USER, lambda resp, req: Response("Not Found", status=404, content_type="text/plain"), 404
    ),
    "rfc7644-3.5.1-put-user": rewrite_request("PUT", USER, _echo_resource),
    "rfc7644-3.5.1-put-ignores-read-only": answer(
        "PUT",
        USER,
        lambda req: scim_error(400, "meta is read-only", "mutability"),
        when=lambda req: "meta" in (body_of(req) or {}),
    ),
    "rfc7644-3.12-put-missing-404": set_status("PUT", USER, 404, 400),
    "rfc7644-3.6-delete-user": answer("DELETE", USER, _noop(204)),
    "rfc7644-3.6-delete-missing-404": set_status("DELETE", USER, 404, 204),
    "rfc7644-3.3-duplicate-409": set_status("POST", r"/Users$", 409, 400),
    "rfc7643-2.1-username-case-insensitive-unique": _case_sensitive_unique(),
    "rfc7643-4.1-username-case-preserved": edit_json("GET", USER, _lower_user_name),
    "rfc7644-3.3-missing-required-400": edit_body(
        "POST", r"/Users$", lambda body: {"userName": "filled-in-" + str(id(body)), **body}
    ),
    "rfc7644-3.12-malformed-json-400": _scim_type("invalidSyntax", "invalidValue"),
    "rfc7644-2-unauthenticated-401": _good_token(replace_bad=False),
    "rfc7644-2-bad-token-401": _good_token(replace_bad=True),
    "rfc7644-3.8-response-media-type": edit_response("GET", None, _content_type),
    "rfc7644-3.8-accepts-application-json": answer(
        "POST",
        r"/Users$",
        lambda req: scim_error(415, "use application/scim+json"),
        when=lambda req: req.mimetype == "application/json",
    ),
    "rfc7643-3.1-meta": edit_json("GET", USER, _strip_created),
    "rfc7643-3.1-client-id-ignored": _client_id_used(),
    # groups
    "rfc7644-3.3-create-group": edit_body(
        "POST", r"/Groups$", lambda body: {key: value for key, value in body.items() if key != "members"}
    ),
    "rfc7643-4.2-member-ref": edit_json(
        "GET", GROUP, _member_entries(lambda member: [member.pop("$ref", None), member.pop("display", None)])
    ),
    "rfc7644-3.5.1-put-group-members": edit_body(
        "PUT", GROUP, lambda body: {key: value for key, value in body.items() if key != "members"}
    ),
    "rfc7644-3.6-delete-group": answer("DELETE", GROUP, _noop(204)),
    "rfc7644-3.6-deleted-user-leaves-groups": _ghost_members(),
    "rfc7644-3.12-group-missing-404": set_status("GET", GROUP, 404, 400),
    "rfc7643-4.1.2-user-groups": edit_json("GET", USER, _drop_key("groups")),
    # filters: each operator misread
    "rfc7644-3.4.2.2-filter-eq": rewrite_filter("userName eq", "userName ne"),
    "rfc7644-3.4.2.2-filter-eq-case-insensitive": rewrite_filter("-ALPHA@", "-ALPHA-CASE@"),
    "rfc7644-3.4.2.2-filter-ne": rewrite_filter("userName ne", "userName eq"),
    "rfc7644-3.4.2.2-filter-co": rewrite_filter('userName co "-beta@"', 'userName sw "-beta@"'),
    "rfc7644-3.4.2.2-filter-sw": rewrite_filter("userName sw", "userName ew"),
    "rfc7644-3.4.2.2-filter-ew": rewrite_filter("userName ew", "userName sw"),
    "rfc7644-3.4.2.2-filter-pr": rewrite_filter("title pr", 'title eq "Engineer"'),
    "rfc7644-3.4.2.2-filter-gt": rewrite_filter("userName gt", "userName ge"),
    "rfc7644-3.4.2.2-filter-ge": rewrite_filter("userName ge", "userName gt"),
    "rfc7644-3.4.2.2-filter-lt": rewrite_filter("userName lt", "userName le"),
    "rfc7644-3.4.2.2-filter-le": rewrite_filter("userName le", "userName lt"),
    "rfc7644-3.4.2.2-filter-gt-datetime": rewrite_filter("meta.lastModified gt", "meta.lastModified lt"),
    "rfc7644-3.4.2.2-filter-boolean": rewrite_filter("active eq false", "active eq true"),
    "rfc7644-3.4.2.2-filter-and-or": rewrite_filter(") and active eq true", ") or active eq true"),
    "rfc7644-3.4.2.2-filter-not": rewrite_filter("(not (", "(("),
    "rfc7644-3.4.2.2-filter-sub-attribute": rewrite_filter("name.familyName", "name.givenName"),
    "rfc7644-3.4.2.2-filter-multi-valued-sub-attribute": rewrite_filter("emails.value eq", "userName eq"),
    "rfc7644-3.4.2.2-filter-value-path": rewrite_filter('emails[type eq "home"]', 'emails[type eq "work"]'),
    "rfc7644-3.4.2.2-filter-value-path-and": rewrite_filter(' and value co "-alpha@"]', "]"),
    "rfc7644-3.4.2.2-filter-attribute-name-case": filter_answer(
        "USERNAME", lambda req: scim_error(400, "unknown attribute USERNAME", "invalidFilter")
    ),
    "rfc7644-3.4.2.2-filter-operator-case": filter_answer(
        " EQ ", lambda req: scim_error(400, "unknown operator EQ", "invalidFilter")
    ),
    "rfc7644-3.4.2.2-filter-urn-path": filter_answer(
        "(urn:", lambda req: scim_error(400, "unknown attribute", "invalidFilter")
    ),
    "rfc7644-3.4.2.2-filter-external-id": rewrite_filter("-ext-A", "-ext-a"),
    "rfc7644-3.4.2.2-filter-no-match": filter_answer("nobody-at-all", lambda req: scim_error(404, "no such user")),
    "rfc7644-3.4.2.2-filter-group-display-name": rewrite_filter("displayName eq", "displayName ne"),
    "rfc7644-3.4.2.2-filter-group-member": filter_answer(
        "members[", lambda req: scim_error(400, "members is not filterable", "invalidFilter")
    ),
    "rfc7644-3.4.2.2-filter-invalid-400": _invalid_filter_accepted(),
    # listing
    "rfc7644-3.4.2-list-response": edit_json("GET", r"/Users$", _drop_key("totalResults")),
    "rfc7644-3.4.2.4-pagination": edit_json("GET", r"/Users$", _drop_key("itemsPerPage")),
    "rfc7644-3.4.2.4-pagination-complete": strip_param("startIndex"),
    "rfc7644-3.4.2.4-stable-order": _alternating_order(),
    # a server that reports itemsPerPage only when count was sent
    "rfc7644-3.4.2.4-start-index-only-paging": Breaker(
        response=lambda req, resp, state: (
            set_json(resp, {k: v for k, v in body_of(resp).items() if k != "itemsPerPage"})
            if matches(req, "GET", r"/Users$") and "count" not in req.args and resp.status_code == 200
            else None
        )
    ),
    "rfc7644-3.4.2.4-count-zero": strip_param("count", when=lambda value: value == "0"),
    "rfc7644-3.4.2.4-start-index-below-one": answer(
        "GET",
        r"/Users$",
        lambda req: scim_error(400, "startIndex must be positive", "invalidValue"),
        when=lambda req: req.args.get("startIndex") == "0",
    ),
    "rfc7644-3.4.2.4-negative-count": strip_param("count", when=lambda value: value.startswith("-")),
    "rfc7644-3.4.2.3-sort-ascending": strip_param("sortBy"),
    "rfc7644-3.4.2.3-sort-descending": strip_param("sortOrder"),
    "rfc7644-3.9-attributes": strip_param("attributes", path=USER),
    "rfc7644-3.9-excluded-attributes": strip_param("excludedAttributes", path=USER),
    "rfc7644-3.9-excluded-members": strip_param("excludedAttributes", path=GROUP),
    "rfc7644-3.9-attributes-on-list": strip_param("attributes", path=r"/Users$"),
    "rfc7644-3.4.3-search": answer("POST", r"/Users/\.search$", lambda req: scim_error(404, "not found")),
    "rfc7644-3.4.3-root-search": answer("POST", r"^/\.search$", lambda req: scim_error(501, "not implemented")),
    # patch
    "rfc7644-3.5.2-replace-path": drop_ops(lambda op: _op_has(op, "replace", "displayName")),
    "rfc7644-3.5.2-replace-no-path": drop_ops(lambda op: _op_has(op, "replace", None)),
    "rfc7644-3.5.2-add-path": drop_ops(lambda op: _op_has(op, "add", "nickName")),
    "rfc7644-3.5.2-add-no-path": drop_ops(lambda op: _op_has(op, "add", None)),
    "rfc7644-3.5.2-remove-path": drop_ops(lambda op: _op_has(op, "remove", "title")),
    "rfc7644-3.5.2-sub-attribute": patch_ops(USER, _clobber_name),
    "rfc7644-3.5.2-value-path-replace": drop_ops(lambda op: str(op.get("path", "")).startswith("emails[")),
    "rfc7644-3.5.2-value-path-remove": drop_ops(lambda op: str(op.get("path", "")).startswith("emails[")),
    "rfc7644-3.5.2-active-false": drop_ops(lambda op: op.get("path") == "active"),
    "rfc7644-3.5.2-multiple-operations": patch_ops(USER, lambda ops: ops[:1]),
    "rfc7644-3.5.2-members-add-remove": patch_ops(GROUP, _remove_all_members),
    "rfc7644-3.5.2-members-add-duplicate": _duplicate_members(),
    "rfc7644-3.5.2-members-replace-empty": drop_ops(lambda op: _op_has(op, "replace", "members")),
    "rfc7644-3.5.2-remove-no-path-400": _scim_type("noTarget", "invalidPath"),
    "rfc7644-3.5.2-invalid-op-400": patch_ops(
        USER, lambda ops: [dict(op, op="replace") if op.get("op") == "frobnicate" else op for op in ops]
    ),
    "rfc7644-3.5.2-atomic": _non_atomic(),
    "rfc7644-3.5.2-read-only-400": drop_ops(lambda op: op.get("path") == "id"),
    "rfc7644-3.5.2-missing-404": set_status("PATCH", USER, 404, 400),
    # versioning
    "rfc7644-3.14-etag": drop_header("ETag", "GET"),
    "rfc7644-3.14-if-none-match-304": drop_request_header("If-None-Match"),
    "rfc7644-3.14-if-match-412": drop_request_header("If-Match"),
    "rfc7644-3.14-if-match-current": answer(
        "PUT", USER, lambda req: scim_error(412, "version mismatch"), when=lambda req: "If-Match" in req.headers
    ),
}

__all__ = ["BREAKERS", "chain"]
