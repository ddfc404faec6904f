"""For each check of the ``okta``, ``entra`` and ``sync`` suites, the one fault that must make it fail.

Each breaker is a server bug that IdP provisioning meets in the field (docs/okta-idp.md §10,
docs/entra-idp.md §5-§6, docs/domain.md §3): it breaks the requirement, not the check.
"""

from __future__ import annotations

import json
import re
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.conformance.faulty import (
    Breaker,
    State,
    answer,
    body_of,
    clone,
    edit_body,
    edit_json,
    edit_response,
    filter_answer,
    ignore_ops,
    matches,
    members_read_modify_write,
    patch_ops,
    peek,
    rewrite_request,
    scim_error,
    set_json,
    set_status,
    strip_param,
    throttle,
)

USER = r"/Users/[^/.]+$"
GROUP = r"/Groups/[^/.]+$"
GUID = re.compile(r'"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"')
USER_NAME_EQ = re.compile(r'^userName eq "(.*)"$')
# The checks that can only judge a server that throttles: against the plain reference server they SKIP.
NEEDS_THROTTLING = frozenset({"okta-429-retry-after", "entra-429-retry-after"})


def _empty_list(req: Request) -> Response:
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "Resources": []}
    return Response(json.dumps(body), status=200, content_type="application/scim+json")


def _empty_body(resp: Response, req: Request) -> Response:
    """201 without the created resource (Okta: 'Create new user returned empty user')."""
    resp.set_data(b"")
    return resp


def _refuse(status: int, detail: str, scim_type: str | None = None) -> Any:
    return lambda req: scim_error(status, detail, scim_type)


def _body_has(*keys: str) -> Any:
    return lambda req: isinstance(body_of(req), dict) and any(key in body_of(req) for key in keys)


def _ops(req: Request) -> list[dict[str, Any]]:
    body = body_of(req)
    ops = body.get("Operations") if isinstance(body, dict) else None
    return [op for op in ops or [] if isinstance(op, dict)]


def _op(name: str) -> Any:
    return lambda op: str(op.get("op", "")).lower() == name


def _pathless_active(active: bool) -> Any:
    return lambda op: "path" not in op and isinstance(op.get("value"), dict) and op["value"].get("active") is active


def _stringify_counts(body: Any) -> None:
    for key in ("startIndex", "itemsPerPage"):
        if isinstance(body.get(key), int):
            body[key] = str(body[key])


def _charset_body_lost(req: Request) -> Request | None:
    """A framework that parses only 'application/json'-like types without parameters sees no body."""
    return clone(req, b"") if "charset" in req.headers.get("Content-Type", "") else None


def _lowercase_user_name(body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("userName"), str):
        body["userName"] = body["userName"].lower()
    return body


def _delete_on_deactivate(req: Request) -> Request | None:
    """The server deletes a user deactivated by PATCH (docs/okta-idp.md §10.14)."""
    if any(_pathless_active(False)(op) for op in _ops(req)):
        return clone(req, b"", REQUEST_METHOD="DELETE")
    return None


def _drop_active(body: Any) -> Any:
    """The server does not read ``active`` from a PUT (docs/okta-idp.md §6: AIW deactivates by PUT)."""
    if isinstance(body, dict):
        body.pop("active", None)
    return body


def _re_add_conflicts() -> Breaker:
    """Adding a member the group already holds is refused with 409."""

    def hook(req: Request, state: State) -> Response | None:
        if not matches(req, "PATCH", GROUP):
            return None
        held = {m.get("value") for m in (peek(req, state, req.path) or {}).get("members") or []}
        for op in _ops(req):
            values = op.get("value") if _op("add")(op) and op.get("path") == "members" else []
            if any(isinstance(v, dict) and v.get("value") in held for v in values or []):
                return scim_error(409, "the user is already a member", "uniqueness")
        return None

    return Breaker(request=hook)


def _drops_group_members() -> Breaker:
    """A members add naming a group is answered 204 and not applied (a flat server that drops it silently)."""

    def hook(req: Request, state: State) -> Response | None:
        if not matches(req, "PATCH", GROUP):
            return None
        base = req.path.rsplit("/", 1)[0]
        for op in _ops(req):
            values = op.get("value") if _op("add")(op) and op.get("path") == "members" else []
            for value in values or []:
                if isinstance(value, dict) and peek(req, state, f"{base}/{value.get('value')}") is not None:
                    return Response(status=204)
        return None

    return Breaker(request=hook)


def _filtered_remove_removes_all(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``members[value eq "x"]`` read as ``members``: the remove empties the group (docs/okta-idp.md §10.2)."""
    filtered = _op("remove")
    return [
        {"op": op["op"], "path": "members"} if filtered(op) and str(op.get("path", "")).startswith("members[") else op
        for op in ops
    ]


def _rename_with_id(req: Request) -> bool:
    return any("path" not in op and isinstance(op.get("value"), dict) and "id" in op["value"] for op in _ops(req))


def _case_sensitive_user_name() -> Breaker:
    """``userName eq`` compares exactly, so another case is not found."""

    def hook(req: Request, resp: Response, state: State) -> Response | None:
        match = USER_NAME_EQ.match(req.args.get("filter", ""))
        body = body_of(resp)
        if not matches(req, "GET", r"/Users$") or match is None or not isinstance(body, dict):
            return None
        kept = [item for item in body.get("Resources") or [] if item.get("userName") == match.group(1)]
        body.update(Resources=kept, totalResults=len(kept), itemsPerPage=len(kept))
        return set_json(resp, body)

    return Breaker(response=hook)


def _unknown_schema(req: Request) -> bool:
    body = body_of(req)
    known = {"urn:ietf:params:scim:schemas:core:2.0:Group"}
    return isinstance(body, dict) and any(uri not in known for uri in body.get("schemas") or [])


def _not_lowercase(req: Request) -> bool:
    return any(str(op.get("op")) != str(op.get("op")).lower() for op in _ops(req))


def _false_is_truthy(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A non-empty string is true: "False" activates (docs/entra-idp.md §5)."""
    return [dict(op, value=True) if op.get("value") == "False" else op for op in ops]


def _plain_keys(value: dict[str, Any]) -> dict[str, Any]:
    return {key: item for key, item in value.items() if "." not in key and ":" not in key}


def _ignore_dotted_keys(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Path-less values keep only plain attribute names; dotted and URN keys are ignored (https://github.com/Captain-P-Goldfish/scim-for-keycloak/issues/26)."""
    return [
        dict(op, value=_plain_keys(op["value"])) if "path" not in op and isinstance(op.get("value"), dict) else op
        for op in ops
    ]


_FILTERED = re.compile(r'^(\w+)\[type eq "(\w+)"\]\.(\w+)$')


def _append_per_filtered_op(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each op on ``attr[type eq "t"].sub`` appends a new element instead of updating or merging."""
    out = []
    for op in ops:
        match = _FILTERED.match(str(op.get("path", "")))
        if match is None:
            out.append(op)
            continue
        attr, kind, sub = match.groups()
        out.append({"op": "add", "path": attr, "value": [{"type": kind, sub: op.get("value")}]})
    return out


def _remove_all_members(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The RFC-literal reading of Entra's Remove: path members names every member (https://github.com/Captain-P-Goldfish/SCIM-SDK/issues/167)."""
    removes = _op("remove")
    return [{"op": op["op"], "path": "members"} if removes(op) and op.get("path") == "members" else op for op in ops]


def _bare_string_manager(body: Any) -> None:
    extension = body.get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    if isinstance(extension, dict) and isinstance(extension.get("manager"), dict):
        extension["manager"] = extension["manager"].get("value")


def _hide_inactive() -> Breaker:
    """Deactivated users disappear from GET and filters (docs/entra-idp.md §6: they must still be returned)."""

    def hook(req: Request, resp: Response, state: State) -> Response | None:
        body = body_of(resp)
        if req.method != "GET" or not isinstance(body, dict):
            return None
        if matches(req, "GET", USER) and body.get("active") is False:
            return scim_error(404, "no such user")
        if matches(req, "GET", r"/Users$"):
            kept = [item for item in body.get("Resources") or [] if item.get("active") is not False]
            body.update(Resources=kept, totalResults=len(kept), itemsPerPage=len(kept))
            return set_json(resp, body)
        return None

    return Breaker(response=hook)


def _drop_family_name(body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("name"), dict):
        body["name"].pop("familyName", None)
    return body


BREAKERS: dict[str, Breaker] = {
    # -- okta ---------------------------------------------------------------------------------------------------
    "okta-test-connection": edit_json("GET", r"/(Users|Groups)$", _stringify_counts, status=200),
    "okta-content-type-charset": rewrite_request("POST", r"/Users$", _charset_body_lost),
    "okta-lookup-before-create": filter_answer("userName eq", _empty_list),
    "okta-create-201-with-id": edit_response("POST", r"/Users$", _empty_body, status=201),
    "okta-duplicate-409": set_status("POST", r"/Users$", 409, 400),
    "okta-username-case-preserved": edit_body("POST", r"/Users$", _lowercase_user_name),
    "okta-profile-put-echo": answer(
        "PUT", USER, _refuse(400, "meta and groups are readOnly", "mutability"), when=_body_has("meta", "groups")
    ),
    "okta-deactivate-patch": ignore_ops(lambda op: "path" not in op, USER),
    "okta-aiw-deactivate-put": edit_body("PUT", USER, _drop_active),
    "okta-reactivation-keeps-id": rewrite_request("PATCH", USER, _delete_on_deactivate),
    "okta-group-push-create": edit_response("POST", r"/Groups$", _empty_body, status=201),
    "okta-group-push-add-member": ignore_ops(lambda op: _op("add")(op) and op.get("path") == "members", GROUP),
    "okta-group-add-existing-member": _re_add_conflicts(),
    "okta-group-push-remove-member": patch_ops(GROUP, _filtered_remove_removes_all),
    "okta-group-rename-with-id": answer(
        "PATCH", GROUP, _refuse(400, "id is immutable", "mutability"), when=_rename_with_id
    ),
    "okta-push-now-clears": ignore_ops(lambda op: _op("replace")(op) and op.get("value") == [], GROUP),
    "okta-429-retry-after": throttle(5, lambda req: Response(status=429)),
    "okta-password-sync": answer(
        "PATCH",
        USER,
        _refuse(400, "the password cannot be set by PATCH", "mutability"),
        when=lambda req: "password" in json.dumps(body_of(req)),
    ),
    "okta-import-confirm-links": answer("GET", r"/Users$", _empty_list, when=lambda req: "filter" not in req.args),
    # -- entra --------------------------------------------------------------------------------------------------
    "entra-test-query-random-guid": answer(
        "GET",
        r"/(Users|Groups)$",
        _refuse(400, "the value is not a valid name", "invalidFilter"),
        when=lambda req: GUID.search(req.args.get("filter", "")) is not None,
    ),
    "entra-match-user-any-case": _case_sensitive_user_name(),
    "entra-match-group": filter_answer("displayName eq", _empty_list),
    "entra-excluded-attributes-members": strip_param("excludedAttributes", "GET", r"/Groups"),
    "entra-create-user": answer(
        "POST", r"/Users$", _refuse(400, "meta is readOnly", "mutability"), when=_body_has("meta")
    ),
    "entra-create-group": answer(
        "POST", r"/Groups$", _refuse(400, "unknown schema in schemas", "invalidValue"), when=_unknown_schema
    ),
    "entra-patch-title-case-ops": answer(
        "PATCH", None, _refuse(400, "op must be add, remove or replace", "invalidSyntax"), when=_not_lowercase
    ),
    "entra-patch-string-booleans": patch_ops(USER, _false_is_truthy),
    "entra-flag-pathless-replace": patch_ops(USER, _ignore_dotted_keys),
    "entra-valuepath-replace": patch_ops(USER, _append_per_filtered_op),
    "entra-valuepath-add-merges": patch_ops(USER, _append_per_filtered_op),
    "entra-group-add-member": ignore_ops(lambda op: _op("add")(op) and op.get("path") == "members", GROUP),
    "entra-group-remove-member-by-value": patch_ops(GROUP, _remove_all_members),
    "entra-manager-bare-string": edit_json("GET", USER, _bare_string_manager, status=200),
    "entra-manager-remove-filter": answer(
        "PATCH",
        USER,
        _refuse(400, "cannot filter a single-valued attribute", "invalidPath"),
        when=lambda req: any(str(op.get("path", "")).startswith("manager[") for op in _ops(req)),
    ),
    "entra-soft-delete-keeps-user": _hide_inactive(),
    "entra-hard-delete-removes-user": answer("DELETE", USER, lambda req: Response(status=204)),
    "entra-429-retry-after": throttle(5, lambda req: Response("slow down", status=429, content_type="text/plain")),
    "entra-nested-group-member": _drops_group_members(),
    "entra-post-active-string": answer(
        "POST",
        r"/Users$",
        _refuse(400, "active must be a boolean", "invalidValue"),
        when=lambda req: isinstance(body_of(req), dict) and isinstance(body_of(req).get("active"), str),
    ),
    "entra-scoping-change-initial-cycle": patch_ops(USER, _false_is_truthy),
    "entra-escrow-retry-rematches": filter_answer("userName eq", _empty_list),
    "entra-accidental-deletions-approved": ignore_ops(lambda op: op.get("path") == "active", USER),
    # -- sync ---------------------------------------------------------------------------------------------------
    "sync-okta-initial-provisioning": edit_body("POST", r"/Users$", _drop_family_name),
    "sync-okta-profile-updates": rewrite_request("PUT", USER, lambda req: clone(req, REQUEST_METHOD="GET")),
    "sync-okta-deactivation": ignore_ops(_pathless_active(False), USER),
    "sync-okta-reactivation": ignore_ops(_pathless_active(True), USER),
    "sync-entra-initial-cycle": ignore_ops(lambda op: _op("add")(op) and op.get("path") == "members", GROUP),
    "sync-entra-incremental-cycle": ignore_ops(lambda op: op.get("path") == "name.familyName", USER),
    "sync-entra-scoping-out": patch_ops(USER, _false_is_truthy),
    "sync-entra-soft-delete": ignore_ops(lambda op: op.get("path") == "active", USER),
    "sync-entra-hard-delete": answer("DELETE", USER, lambda req: Response(status=204)),
    # docs/domain.md §3 item 1: members read, a pause, then the whole list written back (last writer wins)
    "sync-entra-concurrent-members": members_read_modify_write(0.05, GROUP),
}


# -- what the IdPs enforce of the answers (docs/okta-idp.md §14, docs/entra-idp.md §13) ------------------------------
LISTS = r"/(Users|Groups)$"


def _string_total(body: Any) -> None:
    if isinstance(body.get("totalResults"), int):
        body["totalResults"] = str(body["totalResults"])


def _drop_schemas(body: Any) -> None:
    body.pop("schemas", None)


def _string_active(body: Any) -> None:
    """``active`` as "true"/"false", in a user and in each user of a list."""
    for doc in [body, *(body.get("Resources") or [])]:
        if isinstance(doc, dict) and isinstance(doc.get("active"), bool):
            doc["active"] = str(doc["active"]).lower()


def _drop_id(body: Any) -> None:
    body.pop("id", None)


def _as_html(req: Request, resp: Response, state: State) -> Response | None:
    """Every answer with a body is labelled text/html (a framework's default)."""
    if resp.get_data():
        resp.headers["Content-Type"] = "text/html; charset=utf-8"
        return resp
    return None


BREAKERS.update(
    {
        "okta-list-counts-integers": edit_json("GET", LISTS, _string_total, status=200),
        "okta-list-response-schema": edit_json("GET", LISTS, _drop_schemas, status=200),
        "okta-user-active-boolean": edit_json("GET", r"/Users(/[^/.]+)?$", _string_active, status=200),
        "entra-group-reads-exclude-members": strip_param("excludedAttributes", "GET", r"/Groups"),
        "entra-list-counts-integers": edit_json("GET", LISTS, _string_total, status=200),
        "entra-answer-media-type": Breaker(response=_as_html),
        "entra-created-resources-carry-id": edit_json("POST", LISTS, _drop_id, status=201),
    }
)
