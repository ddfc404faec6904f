"""/Bulk (RFC 7644 §3.7): many resource operations in one request, each run as the single request it stands for.

Atomicity: each operation is its own store transaction, exactly as if it had come alone, and the request as a
whole is not atomic (RFC 7644 §3.7 does not ask it to be; it asks the server to "continue performing as many
changes as possible"). So every operation listed in the response as done is committed before the response is
sent, and a process killed mid-request leaves each operation either applied or not, never half applied.

``bulkId:`` references (§3.7.2) in a ``path`` or anywhere in ``data`` are replaced by the ids their POSTs
created. An operation that refers to a POST later in the request runs that POST first, which keeps the client's
intent as §3.7 asks of any reordering; an operation in a circle of references, or referring to a bulkId no
POST declares or whose POST failed, is answered 409 and changes nothing (§3.7.1 lets the server stop after a
failed attempt with 409).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aup_server.errors import (
    ConflictError,
    InternalError,
    InvalidSyntaxError,
    InvalidValueError,
    NotFoundError,
    PayloadTooLargeError,
    ScimError,
)
from aup_server.service import ENDPOINTS, Acknowledged, Query, Rendered, ResourceService
from aup_server.store.base import ResourceKind
from scimcore import urns

log = logging.getLogger("aup_server")

METHODS = ("POST", "PUT", "PATCH", "DELETE")
_KINDS: dict[str, ResourceKind] = {endpoint: kind for kind, endpoint in ENDPOINTS.items()}  # paths are case-sensitive
_REFERENCE = re.compile(r"bulkId:(.+)", re.DOTALL)
# Forward references are followed this deep; a longer chain of operations each naming a later one is refused
# (409) rather than followed: every level is a stack frame.
MAX_REFERENCE_DEPTH = 128


@dataclass
class Operation:
    """One entry of ``Operations`` as sent, with the bulkIds it refers to."""

    index: int
    raw: Any
    method: str = ""
    bulk_id: str | None = None
    path: str = ""
    version: str | None = None
    data: Any = None
    refers_to: list[str] = field(default_factory=list)
    problem: ScimError | None = None  # what makes it fail before it runs (a malformed entry)


@dataclass(frozen=True)
class BulkRequest:
    operations: list[Operation]
    fail_on_errors: int | None


def parse_request(body: dict[str, Any], *, max_operations: int) -> BulkRequest:
    """The BulkRequest message (§3.7), or the error that refuses the whole request."""
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or urns.BULK_REQUEST.lower() not in {
        urn.lower() for urn in schemas if isinstance(urn, str)
    }:
        raise InvalidSyntaxError(f"a bulk request must list {urns.BULK_REQUEST} in schemas (RFC 7644 §3.7)")
    entries = body.get("Operations")
    if not isinstance(entries, list):
        raise InvalidSyntaxError("a bulk request needs Operations, a list of operations (RFC 7644 §3.7)")
    if len(entries) > max_operations:
        # RFC 7644 §3.7.4: 413, and the body names the limit that was exceeded.
        raise PayloadTooLargeError(
            f"the bulk request has {len(entries)} operations; maxOperations is {max_operations} (RFC 7644 §3.7.4)"
        )
    fail_on_errors = body.get("failOnErrors")
    if fail_on_errors is not None and (
        isinstance(fail_on_errors, bool) or not isinstance(fail_on_errors, int) or fail_on_errors < 1
    ):
        raise InvalidValueError(f"failOnErrors must be a positive integer, not {fail_on_errors!r} (RFC 7644 §3.7)")
    operations = [_operation(index, entry) for index, entry in enumerate(entries)]
    declared: set[str] = set()
    for op in operations:
        if op.bulk_id is not None:
            if op.bulk_id in declared:
                raise InvalidValueError(
                    f"bulkId {op.bulk_id!r} names two operations; bulkIds are unique within a request (RFC 7644 §3.7)"
                )
            declared.add(op.bulk_id)
    return BulkRequest(operations, fail_on_errors)


def _operation(index: int, entry: Any) -> Operation:
    op = Operation(index, entry)
    if not isinstance(entry, dict):
        op.problem = InvalidSyntaxError(f"operation {index + 1} is not a JSON object")
        return op
    method, path, bulk_id, version = (entry.get(k) for k in ("method", "path", "bulkId", "version"))
    op.method = method.upper() if isinstance(method, str) else ""
    op.path = path if isinstance(path, str) else ""
    op.bulk_id = bulk_id if isinstance(bulk_id, str) and bulk_id else None
    op.version = version if isinstance(version, str) else None
    op.data = entry.get("data")
    if op.method not in METHODS:
        op.problem = InvalidValueError(f"method must be one of {', '.join(METHODS)}, not {method!r} (RFC 7644 §3.7)")
    elif not op.path:
        op.problem = InvalidSyntaxError("an operation needs a path, e.g. /Users or /Users/{id} (RFC 7644 §3.7)")
    elif bulk_id is not None and op.bulk_id is None:
        op.problem = InvalidValueError("bulkId must be a non-empty string")
    elif op.method == "POST" and op.bulk_id is None:
        op.problem = InvalidSyntaxError("a POST operation needs a bulkId (RFC 7644 §3.7: REQUIRED when method is POST)")
    elif op.method != "DELETE" and not isinstance(op.data, dict):
        op.problem = InvalidSyntaxError(f"a {op.method} operation needs data, a JSON object (RFC 7644 §3.7)")
    op.refers_to = sorted(set(_references(op.path)) | set(_references(op.data)))
    return op


def _references(value: Any) -> Iterator[str]:
    """Every ``bulkId:<id>`` in a path segment or a string anywhere in data (RFC 7644 §3.7.2)."""
    if isinstance(value, str):
        for part in value.split("/"):
            if match := _REFERENCE.fullmatch(part):
                yield match.group(1)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _resolved(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        if "bulkId:" not in value:
            return value
        return "/".join(
            ids.get(m.group(1), part) if (m := _REFERENCE.fullmatch(part)) else part for part in value.split("/")
        )
    if isinstance(value, dict):
        return {key: _resolved(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolved(item, ids) for item in value]
    return value


@dataclass(frozen=True)
class Outcome:
    """One entry of the BulkResponse's Operations."""

    index: int
    body: dict[str, Any]
    failed: bool


class BulkRunner:
    """Runs one BulkRequest for a tenant; ``spend`` charges one request of the caller's rate budget."""

    def __init__(
        self, service: ResourceService, tenant: str, base_url: str, spend: Callable[[], None] | None = None
    ) -> None:
        self.service = service
        self.tenant = tenant
        self.base_url = base_url
        self.spend = spend
        self._circular: set[int] = set()  # operations refused for closing a circle of references

    def run(self, request: BulkRequest) -> dict[str, Any]:
        """Every operation in request order, a referenced POST before what refers to it; stops after
        ``failOnErrors`` errors (§3.7) and answers only what it processed, in request order."""
        by_bulk_id = {op.bulk_id: op for op in request.operations if op.bulk_id is not None and op.method == "POST"}
        done: dict[int, Outcome] = {}
        created: dict[str, str] = {}  # bulkId -> id
        errors = 0
        limit = request.fail_on_errors

        def visit(op: Operation, path: tuple[int, ...]) -> bool:
            """Run ``op`` after the POSTs it refers to; False once the error limit is reached."""
            nonlocal errors
            if op.index in done:
                return True
            if op.index in path:
                return True  # a circle: the operation that closes it fails below
            for ref in op.refers_to:
                target = by_bulk_id.get(ref)
                if target is None or target.index in done or target.index in path:
                    continue
                if len(path) < MAX_REFERENCE_DEPTH and not visit(target, (*path, op.index)):
                    return False
            outcome = self._run_one(op, by_bulk_id, created, done, path)
            done[op.index] = outcome
            errors += outcome.failed
            return limit is None or errors < limit

        for op in request.operations:
            if not visit(op, ()):
                break
        return {
            "schemas": [urns.BULK_RESPONSE],
            "Operations": [done[index].body for index in sorted(done)],
        }

    def _run_one(
        self,
        op: Operation,
        by_bulk_id: dict[str, Operation],
        created: dict[str, str],
        done: dict[int, Outcome],
        waiting: tuple[int, ...],
    ) -> Outcome:
        body: dict[str, Any] = {}
        shown = op.method or (op.raw.get("method") if isinstance(op.raw, dict) else None)
        if isinstance(shown, str):
            body["method"] = shown
        if op.bulk_id is not None:
            body["bulkId"] = op.bulk_id
        try:
            if op.problem is not None:
                raise op.problem
            for ref in op.refers_to:
                if ref in created:
                    continue
                target = by_bulk_id.get(ref)
                if target is None:
                    raise ConflictError(f"bulkId:{ref} names no POST operation of this request (RFC 7644 §3.7.2)")
                if len(waiting) >= MAX_REFERENCE_DEPTH and target.index not in done:
                    raise ConflictError(
                        f"bulkId:{ref} ends a chain of more than {MAX_REFERENCE_DEPTH} forward references; order the "
                        "operations so that each POST comes before what refers to it (RFC 7644 §3.7.1)"
                    )
                if target.index in waiting or target.index in self._circular or target.index not in done:
                    self._circular.add(op.index)
                    raise ConflictError(
                        f"bulkId:{ref} is part of a circular reference this server does not resolve; send the "
                        "resources first and link them in a later request (RFC 7644 §3.7.1)"
                    )
                raise ConflictError(f"bulkId:{ref} was not created: its POST operation failed (RFC 7644 §3.7.2)")
            path = _resolved(op.path, created)
            data = _resolved(op.data, created)
            if self.spend is not None:
                self.spend()
            result = self._apply(op.method, path, data, op.version)
        except ScimError as exc:
            self._place(body, op, created)
            body["status"] = str(exc.status)
            body["response"] = exc.to_scim()
            return Outcome(op.index, body, failed=True)
        except Exception:  # one operation's bug must not lose the others' answers
            log.exception("bulk operation %d failed", op.index + 1)
            error = InternalError("internal server error; this operation was not applied")
            self._place(body, op, created)
            body["status"], body["response"] = "500", error.to_scim()
            return Outcome(op.index, body, failed=True)
        status, location, version = result
        if op.bulk_id is not None and op.method == "POST":
            created[op.bulk_id] = location.rsplit("/", 1)[-1]
        body["location"] = location
        if version is not None:
            body["version"] = version
        body["status"] = str(status)
        return Outcome(op.index, body, failed=False)

    def _place(self, body: dict[str, Any], op: Operation, created: dict[str, str]) -> None:
        """``location`` of a failed operation: the resource it addressed; a failed POST has none (§3.7)."""
        if op.method in ("PUT", "PATCH", "DELETE") and op.path:
            body["location"] = f"{self.base_url}/{_resolved(op.path, created).strip('/')}"

    def _apply(self, method: str, path: str, data: Any, version: str | None) -> tuple[int, str, str | None]:
        """The single request the operation stands for: (status, location, ETag)."""
        kind, rid = _target(path, method)
        svc, tenant, base = self.service, self.tenant, self.base_url
        if method == "POST":
            made = svc.create(tenant, kind, data, base)
            return 201, made.body["meta"]["location"], made.etag
        assert rid is not None
        location = f"{base}/{ENDPOINTS[kind]}/{rid}"
        if method == "PUT":
            replaced = svc.replace(tenant, kind, rid, data, version, base)
            return 200, location, replaced.etag
        if method == "PATCH":
            patched: Rendered | Acknowledged = svc.patch(tenant, kind, rid, data, version, Query(), base)
            return (204, location, patched.etag) if isinstance(patched, Acknowledged) else (200, location, patched.etag)
        svc.delete(tenant, kind, rid, version)
        return 204, location, None


def _target(path: str, method: str) -> tuple[ResourceKind, str | None]:
    """``/Users`` for a POST, ``/Users/{id}`` otherwise (§3.7); any other path is 404 as it would be alone."""
    parts = [part for part in path.strip().split("/") if part]
    kind = _KINDS.get(parts[0]) if parts else None
    if kind is None or len(parts) > 2:
        raise NotFoundError(f"no resource endpoint at {path!r}; bulk operations address /Users and /Groups")
    if method == "POST":
        if len(parts) != 1:
            raise InvalidValueError(
                f"a POST operation's path is the resource type endpoint (/{parts[0]}), not {path!r}"
            )
        return kind, None
    if len(parts) != 2:
        raise InvalidValueError(f"a {method} operation's path names one resource, e.g. /{parts[0]}/{{id}}")
    return kind, parts[1]
