"""For each check of the ``pingfederate`` suite (and PingFederate's one-way check), the server fault that must
make it fail: the proof that the check enforces what docs/pingfederate-idp.md says PingFederate needs."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from tests.conformance.breakers_idp import GROUP, USER, _drop_active, _empty_list, _op, _refuse
from tests.conformance.faulty import (
    Breaker,
    State,
    answer,
    body_of,
    edit_body,
    filter_answer,
    ignore_ops,
    matches,
    peek,
    with_body,
)


def _put_merges(req: Request, state: State) -> Request | None:
    """The server reads a PUT as a merge: what the body leaves out keeps its old value (RFC 7644 §3.5.1 says
    replace)."""
    body = body_of(req)
    if not matches(req, "PUT", USER) or not isinstance(body, dict):
        return None
    held = peek(req, state, req.path) or {}
    kept = {key: value for key, value in held.items() if key not in body and key not in ("id", "meta", "groups")}
    return with_body(req, {**body, **kept}) if kept else None


def _no_filter(req: Request) -> bool:
    return "filter" not in req.args


def _drop_members(body: Any) -> Any:
    if isinstance(body, dict):
        body.pop("members", None)
    return body


BREAKERS: dict[str, Breaker] = {
    "pingfederate-match-existing-user": filter_answer("userName eq", _empty_list),
    "pingfederate-put-replaces-user": Breaker(request=_put_merges),
    "pingfederate-disable-with-put": edit_body("PUT", USER, _drop_active),
    "pingfederate-delete-user": answer("DELETE", USER, lambda req: Response(status=204)),
    "pingfederate-find-group-by-listing": answer(
        "GET", r"/Groups$", _refuse(400, "a filter is required", "invalidFilter"), when=_no_filter
    ),
    "pingfederate-group-members-patch": ignore_ops(
        lambda op: _op("remove")(op) and str(op.get("path", "")).startswith("members["), GROUP
    ),
    "pingfederate-group-rename-patch": ignore_ops(
        lambda op: _op("replace")(op) and op.get("path") == "displayName", GROUP
    ),
    "pingfederate-group-put": edit_body("PUT", GROUP, _drop_members),
    "pingfederate-delete-group": answer("DELETE", GROUP, lambda req: Response(status=204)),
    "sync-pingfederate-one-way": edit_body("PUT", USER, _drop_active),
}
