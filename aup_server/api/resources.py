"""/Users and /Groups (RFC 7644 §3.2 to §3.6), /.search at every level (§3.4.3), /Bulk (§3.7), the unsupported /Me."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from aup_server import bulk as bulk_ops
from aup_server.api.http import base_url, json_body, scim_response
from aup_server.errors import InvalidValueError, NotImplementedScimError
from aup_server.scim import etag as etags
from aup_server.scim.projection import Projection
from aup_server.service import Acknowledged, Query, Rendered, ResourceService
from aup_server.store.base import ResourceKind
from scimcore import urns

_KINDS: dict[str, ResourceKind] = {"Users": "User", "Groups": "Group"}


def _service() -> ResourceService:
    svc: ResourceService = current_app.extensions["aup"].service
    return svc


def _query_from_args() -> Query:
    return Query.from_params(request.args, _service().config)


def _resource_response(rendered: Rendered, status: int = 200) -> Response:
    headers = {"ETag": rendered.etag}
    if status == 201:
        headers["Location"] = rendered.body["meta"]["location"]
    return scim_response(rendered.body, status, headers)


def _search_query() -> Query:
    body = json_body()
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or urns.SEARCH_REQUEST.lower() not in {
        urn.lower() for urn in schemas if isinstance(urn, str)
    }:
        raise InvalidValueError(f"a search request must list {urns.SEARCH_REQUEST} in schemas (RFC 7644 §3.4.3)")
    return Query.from_params(body, _service().config)


# At most this many answers carrying group members are built and sent at once; more wait for a slot. A
# 50k-member group is ~40 MB of Python objects while it is rendered and streamed, so eight concurrent
# readers of big groups would otherwise take the server past its memory target (issue #17, figure 8).
MEMBER_READ_SLOTS = 4
_member_reads = threading.BoundedSemaphore(MEMBER_READ_SLOTS)


def _in_member_slot(build: Callable[[], Response]) -> Response:
    """Build an answer that carries members in a slot, held until a streamed answer has been sent."""
    _member_reads.acquire()
    try:
        response = build()
    except BaseException:
        _member_reads.release()
        raise
    if response.is_streamed:
        response.call_on_close(_member_reads.release)
    else:
        _member_reads.release()
    return response


def _listed(tenant: str, kinds: list[ResourceKind], query: Query) -> Response:
    """A ListResponse whose groups carry at most ``max_list_members`` members in all (issue #17).

    The page is read without members, then each group again with them, one at a time: a page's memory
    is one group's, not the sum of all of them. The page ends before a group whose members would pass the
    limit (RFC 7644 §3.4.2.4 lets a page hold fewer than ``count``; ``itemsPerPage`` says how many, so a
    pager that continues at ``startIndex + itemsPerPage`` reads every group whole). A group with more
    members than the limit comes alone on its page, whole: cutting it would silently lose members for a
    reader that only pages (nsscache does), and one group costs what ``GET /Groups/{id}`` costs.
    """
    svc = _service()
    projection = Projection.parse(query.attributes, query.excluded, svc.registry, "Group")
    if "Group" not in kinds or not projection.needs("members"):
        return scim_response(svc.query(tenant, kinds, query, base_url()).body)
    return _in_member_slot(lambda: _listed_with_members(svc, tenant, kinds, query, projection))


def _listed_with_members(
    svc: ResourceService, tenant: str, kinds: list[ResourceKind], query: Query, projection: Projection
) -> Response:
    excluded = ",".join(part for part in (query.excluded, "members") if part)
    listing = svc.query(tenant, kinds, replace(query, excluded=excluded), base_url())
    budget, used = svc.config.max_list_members, 0
    kept: list[dict[str, Any]] = []
    last_read: int | None = None  # set when the page ends early: a cursor walk continues after it
    with svc.store.read(tenant) as session:
        for index, listed in enumerate(listing.body["Resources"]):
            if urns.GROUP not in listed.get("schemas", ()):
                kept.append(listed)
                continue
            group = session.get("Group", listed["id"], expand=True)
            if group is None:  # deleted since the page was read
                continue
            members = group.members or []
            if kept and used + len(members) > budget:
                last_read = index - 1
                break
            used += len(members)
            kept.append(svc.render(group, base_url(), projection).body)
    listing.cut(kept, last_read)
    return scim_response(listing.body)


def register(bp: Blueprint) -> None:
    for endpoint, kind in _KINDS.items():
        _register_kind(bp, endpoint, kind)

    @bp.post("/.search")
    def search_all(tenant: str) -> Response:
        return _listed(tenant, ["User", "Group"], _search_query())

    @bp.post("/Bulk")
    def bulk(tenant: str) -> Response:
        svc = _service()
        parsed = bulk_ops.parse_request(json_body(), max_operations=svc.config.bulk_max_operations)
        state = current_app.extensions["aup"]
        limiter, caller = state.limiter, g.token.name

        def spend() -> None:  # each operation costs what the single request would
            limiter.check(tenant, caller)

        runner = bulk_ops.BulkRunner(svc, tenant, base_url(), spend if limiter is not None else None)
        return scim_response(runner.run(parsed))

    @bp.route("/Me", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @bp.route("/Me/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def me(tenant: str, rest: str = "") -> Response:
        raise NotImplementedScimError("/Me is not supported: tokens name an integration, not a user (RFC 7644 §3.11)")


def _register_kind(bp: Blueprint, endpoint: str, kind: ResourceKind) -> None:
    name = endpoint.lower()

    def list_resources(tenant: str) -> Response:
        return _listed(tenant, [kind], _query_from_args())

    def search_resources(tenant: str) -> Response:
        return _listed(tenant, [kind], _search_query())

    def create_resource(tenant: str) -> Response:
        return _resource_response(_service().create(tenant, kind, json_body(), base_url()), 201)

    def get_resource(tenant: str, rid: str) -> Response:
        svc = _service()
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match is not None:
            current = svc.current_etag(tenant, kind, rid)
            if etags.not_modified(if_none_match, current):
                return scim_response(None, 304, {"ETag": current})
        query = _query_from_args()
        if kind == "Group" and Projection.parse(query.attributes, query.excluded, svc.registry, kind).needs("members"):
            return _in_member_slot(lambda: _resource_response(svc.get(tenant, kind, rid, query, base_url())))
        return _resource_response(svc.get(tenant, kind, rid, query, base_url()))

    def replace_resource(tenant: str, rid: str) -> Response:
        body = json_body()
        return _resource_response(
            _service().replace(tenant, kind, rid, body, request.headers.get("If-Match"), base_url())
        )

    def patch_resource(tenant: str, rid: str) -> Response:
        body = json_body()
        rendered = _service().patch(
            tenant, kind, rid, body, request.headers.get("If-Match"), _query_from_args(), base_url()
        )
        if isinstance(rendered, Acknowledged):
            return scim_response(None, 204, {"ETag": rendered.etag})
        return _resource_response(rendered)

    def delete_resource(tenant: str, rid: str) -> Response:
        _service().delete(tenant, kind, rid, request.headers.get("If-Match"))
        return scim_response(None, 204)

    bp.add_url_rule(f"/{endpoint}", f"list_{name}", list_resources, methods=["GET"])
    bp.add_url_rule(f"/{endpoint}", f"create_{name}", create_resource, methods=["POST"])
    bp.add_url_rule(f"/{endpoint}/.search", f"search_{name}", search_resources, methods=["POST"])
    bp.add_url_rule(f"/{endpoint}/<rid>", f"get_{name}", get_resource, methods=["GET"])
    bp.add_url_rule(f"/{endpoint}/<rid>", f"replace_{name}", replace_resource, methods=["PUT"])
    bp.add_url_rule(f"/{endpoint}/<rid>", f"patch_{name}", patch_resource, methods=["PATCH"])
    bp.add_url_rule(f"/{endpoint}/<rid>", f"delete_{name}", delete_resource, methods=["DELETE"])
