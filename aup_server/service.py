"""Resource operations: one store transaction per call, SCIM semantics from aup_server.scim.

The views parse HTTP and call exactly one method here; this layer joins the pure SCIM functions
(filter, patch, projection, pagination, etag) with a store session, so neither knows the other.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from aup_server.config import ServerConfig
from aup_server.errors import (
    InvalidFilterError,
    InvalidValueError,
    NotFoundError,
    PayloadTooLargeError,
)
from aup_server.limits import check_resource_limits
from aup_server.posix import PosixRules, posix_settings
from aup_server.scim import cursor as cursors
from aup_server.scim import etag as etags
from aup_server.scim import filter as filters
from aup_server.scim import patch as patches
from aup_server.scim import resource as resources
from aup_server.scim.cursor import Cursor, CursorCodec, Position
from aup_server.scim.pagination import CursorPage, Page, list_response, parse_cursor_page, parse_page
from aup_server.scim.projection import Projection
from aup_server.store.base import ResourceKind, Session, Store, StoredResource
from aup_server.store.names import user_name_key
from aup_server.store.rules import check_user_name
from scimcore import urns
from scimcore.schemas import SchemaRegistry

ENDPOINTS: dict[ResourceKind, str] = {"User": "Users", "Group": "Groups"}


@dataclass(frozen=True)
class Rendered:
    """A resource body ready to send, with its ETag."""

    body: dict[str, Any]
    etag: str


@dataclass(frozen=True)
class Acknowledged:
    """A success answered with no body (204) and the resource's new ETag."""

    etag: str


@dataclass(frozen=True)
class Query:
    """List parameters from a GET query string or a POST .search body (RFC 7644 §3.4.2, §3.4.3)."""

    filter: str | None = None
    sort_by: str | None = None
    sort_order: str | None = None
    page: Page = field(default_factory=lambda: Page(1, 100))
    attributes: str | None = None
    excluded: str | None = None
    cursor: CursorPage | None = None  # paged by cursor (RFC 9865) rather than by index

    @classmethod
    def from_params(cls, params: Mapping[str, Any], config: ServerConfig) -> Query:
        order = params.get("sortOrder")
        if order is not None and str(order).lower() not in ("ascending", "descending"):
            raise InvalidValueError(f"sortOrder must be 'ascending' or 'descending', not {order!r}")
        cursor = parse_cursor_page(params, default_count=config.default_count, max_count=config.max_count)
        return cls(
            filter=_text(params, "filter"),
            sort_by=_text(params, "sortBy"),
            sort_order=str(order).lower() if order is not None else None,
            page=(
                Page(1, cursor.count)
                if cursor is not None
                else parse_page(params, default_count=config.default_count, max_count=config.max_count)
            ),
            attributes=_joined(params, "attributes"),
            excluded=_joined(params, "excludedAttributes"),
            cursor=cursor,
        )


@dataclass
class Listing:
    """A ListResponse body and, for a cursor page, how to end the page early (``cut``)."""

    body: dict[str, Any]
    cursor_after: Callable[[int], str] | None = None  # the nextCursor continuing after the page's i-th resource

    def cut(self, kept: list[dict[str, Any]], last_read: int | None) -> None:
        """Keep ``kept`` of the page's resources; ``last_read`` is the index of the last one looked at, when the
        page ends before its end (the next page then starts right after it)."""
        self.body["itemsPerPage"] = len(kept)
        if last_read is not None and self.cursor_after is not None:
            self.body["nextCursor"] = self.cursor_after(last_read)
        del self.body["Resources"]
        self.body["Resources"] = kept  # still the last key, as list_response writes it


@dataclass(frozen=True)
class _Window:
    """One cursor page before rendering its cursors: the resources with their positions, and what lies beyond."""

    items: list[tuple[Position, dict[str, Any]]]
    total: int
    more_before: bool
    more_after: bool


def _text(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValueError(f"{name} must be a string, not {type(value).__name__}")
    return value


def _joined(params: Mapping[str, Any], name: str) -> str | None:
    """``attributes`` is comma-separated in a query string and a list in a SearchRequest body."""
    value = params.get(name)
    if isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise InvalidValueError(f"{name} must be a list of attribute names")
        return ",".join(value)
    return _text(params, name)


# Optimistic tries of a PUT or PATCH before the last one is evaluated under the write lock. Writers of
# one resource in this process queue on its own lock first, so only another process writing the same
# file can make a try fail.
OPTIMISTIC_ATTEMPTS = 4


class _ResourceLocks:
    """One lock per (tenant, kind, id) while someone holds or waits for it; nothing kept for idle resources."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str, str], tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, tenant: str, kind: str, rid: str) -> Iterator[None]:
        key = (tenant, kind, rid)
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


@dataclass(frozen=True)
class _Change:
    """What a PUT or PATCH will write, worked out from one version of the resource."""

    version: int
    doc: dict[str, Any]
    password: str | None
    doc_changed: bool
    members: list[dict[str, Any]] | None = None  # PUT: the whole member list
    member_changes: tuple[Any, ...] = ()  # PATCH: row deltas
    exact: bool = False  # the deltas were resolved against this version's member rows: commit only on it


class ResourceService:
    """Users and Groups of every tenant, over one store.

    Isolation: a PUT or PATCH is worked out (patch evaluation, normalisation, validation) from a read of
    the resource, outside the store's write lock, and committed under it only if the resource's version
    is still the one read; otherwise it is worked out again (``OPTIMISTIC_ATTEMPTS``). So no request holds
    the lock every tenant's writes need for longer than its own short commit. Membership deltas stay row
    changes applied in the commit, so a membership-only PATCH needs no version check and concurrent
    member PATCHes never lose an update.
    """

    def __init__(self, store: Store, registry: SchemaRegistry, config: ServerConfig) -> None:
        self.store = store
        self.registry = registry
        self.config = config
        self.posix = PosixRules(posix_settings(config, registry))
        self._resource_locks = _ResourceLocks()
        self.cursors = CursorCodec(store.secret("cursor"), config.cursor_timeout)

    # -- rendering -----------------------------------------------------------------------------

    def render(self, res: StoredResource, base_url: str, projection: Projection | None = None) -> Rendered:
        """The full SCIM representation (RFC 7643 §3.1), then projected."""
        tag = etags.etag(res.version)
        body: dict[str, Any] = {"schemas": self._schemas_of(res), "id": res.id, **res.doc}
        if res.members is not None:
            # In place: the store built these dicts for this response, and a copy of 50k members costs.
            for member in res.members:
                member["$ref"] = self._ref_url(member, base_url)
            body["members"] = res.members
        if res.groups is not None:
            body["groups"] = [{**group, "$ref": f"{base_url}/Groups/{group['value']}"} for group in res.groups]
        body["meta"] = {
            "resourceType": res.kind,
            "created": res.created,
            "lastModified": res.modified,
            "location": f"{base_url}/{ENDPOINTS[res.kind]}/{res.id}",
            "version": tag,
        }
        if res.posix is not None and self.posix.settings.on:
            self.posix.decorate(body, res)
        if projection is not None:
            body = projection.project(body)
        return Rendered(body=body, etag=tag)

    def _schemas_of(self, res: StoredResource) -> list[str]:
        core = self.registry.resource_type(res.kind).schema
        return [core, *(urn for urn in self.registry.extension_urns(res.kind) if urn in res.doc)]

    @staticmethod
    def _ref_url(member: dict[str, Any], base_url: str) -> str:
        endpoint = ENDPOINTS["Group" if member["type"] == "Group" else "User"]
        return f"{base_url}/{endpoint}/{member['value']}"

    def _projection(self, kind: ResourceKind, attributes: str | None, excluded: str | None) -> Projection:
        return Projection.parse(attributes, excluded, self.registry, kind)

    # -- reads ---------------------------------------------------------------------------------

    def get(self, tenant: str, kind: ResourceKind, rid: str, query: Query, base_url: str) -> Rendered:
        projection = self._projection(kind, query.attributes, query.excluded)
        with self.store.read(tenant) as session:
            res = session.get(kind, rid, expand=projection.needs(_EXPANDED[kind]))
        if res is None:
            raise NotFoundError(f"{kind} {rid} not found")
        return self.render(res, base_url, projection)

    def current_etag(self, tenant: str, kind: ResourceKind, rid: str) -> str:
        with self.store.read(tenant) as session:
            res = session.get(kind, rid)
        if res is None:
            raise NotFoundError(f"{kind} {rid} not found")
        return etags.etag(res.version)

    def query(self, tenant: str, kinds: Iterable[ResourceKind], query: Query, base_url: str) -> Listing:
        """Filter, sort and page over one or more resource types (several for a root-level .search)."""
        kinds = list(kinds)
        compiled = self._compile_filters(kinds, query.filter)
        projections = {kind: self._projection(kind, query.attributes, query.excluded) for kind in kinds}
        if query.cursor is not None:
            return self._cursor_query(tenant, kinds, query, query.cursor, compiled, projections, base_url)
        page = query.page
        with self.store.read(tenant) as session:
            if len(kinds) == 1 and query.filter is None and query.sort_by is None:
                kind = kinds[0]
                total, rows = session.page(
                    kind, page.offset, page.count, expand=projections[kind].needs(_EXPANDED[kind])
                )
                bodies = [self.render(res, base_url, projections[kind]).body for res in rows]
                return Listing(list_response(bodies, total, page))
            matched = [
                (kind, body)
                for kind in kinds
                if kind in compiled
                for _, body in self._matching(session, kind, compiled[kind], projections[kind], base_url)
            ]
        if query.sort_by is not None:
            matched = self._sorted(matched, kinds, query.sort_by, query.sort_order == "descending")
        window = matched[page.offset : page.offset + page.count] if page.count else []
        bodies = [projections[kind].project(body) for kind, body in window]
        return Listing(list_response(bodies, len(matched), page))

    def _cursor_query(
        self,
        tenant: str,
        kinds: list[ResourceKind],
        query: Query,
        request: CursorPage,
        compiled: dict[ResourceKind, tuple[filters.Filter, filters.Predicate] | None],
        projections: dict[ResourceKind, Projection],
        base_url: str,
    ) -> Listing:
        """One page of a cursor walk (RFC 9865 §2): what follows (or precedes) the cursor's position now.

        Unfiltered, unsorted lists of one type seek by index; otherwise the matches are scanned once, keeping
        only the page's nearest ``count + 1`` (memory is one page's, whatever the result size) and counting
        the rest for totalResults.
        """
        keys = (
            {kind: filters.sort_key_for(query.sort_by, self.registry, kind) for kind in kinds}
            if query.sort_by is not None
            else None
        )
        scope = cursors.scope(kinds, query.filter, query.sort_by, query.sort_order)
        start = self.cursors.decode(request.cursor, tenant=tenant, query_scope=scope) if request.cursor else None
        with self.store.read(tenant) as session:
            if len(kinds) == 1 and query.filter is None and keys is None:
                window = self._seek_window(session, kinds[0], start, request.count, projections[kinds[0]], base_url)
            else:
                descending = query.sort_order == "descending"
                window = self._scan_window(
                    session, kinds, compiled, projections, keys, descending, start, request.count, base_url
                )
        items = [(pos, projections[kinds[pos.kind]].project(body)) for pos, body in window.items]

        def mark(position: Position, direction: cursors.Direction) -> str:
            return self.cursors.encode(Cursor(position, direction), tenant=tenant, query_scope=scope)

        forward = start is None or start.direction == "next"
        after: Position | None
        before: Position | None
        if items:
            after, before = items[-1][0], items[0][0]
        else:  # the page is empty: its edges are the cursor's own position, just past it on the near side
            edge = None if start is None else start.position
            shifted = None if edge is None else Position(edge.sort_key, edge.kind, edge.seq + (1 if forward else -1))
            after = before = shifted
        body = list_response(
            [doc for _, doc in items],
            window.total,
            None,
            next_cursor=mark(after, "next") if window.more_after and after is not None else None,
            previous_cursor=mark(before, "prev") if window.more_before and before is not None else None,
        )
        return Listing(body, lambda i: mark(items[i][0], "next"))

    def _seek_window(
        self,
        session: Session,
        kind: ResourceKind,
        start: Cursor | None,
        count: int,
        projection: Projection,
        base_url: str,
    ) -> _Window:
        """A page read by index on the creation sequence: its cost does not grow along the walk."""
        expand = projection.needs(_EXPANDED[kind])
        # One row past the page says whether there is more; an expanded row (a group's members) is not worth
        # reading for that, so then a separate probe asks.
        spare = 0 if expand else 1
        if start is None or start.direction == "next":
            after = None if start is None else start.position.seq
            rows = session.seek(kind, after=after, limit=count + spare, expand=expand)
            more_after = (
                len(rows) > count if spare else bool(rows) and bool(session.seek(kind, after=rows[-1].seq, limit=1))
            )
            rows = rows[:count]
            edge = rows[0].seq if rows else (None if start is None else start.position.seq + 1)
            more_before = start is not None and edge is not None and bool(session.seek(kind, before=edge, limit=1))
        else:
            rows = session.seek(kind, before=start.position.seq, limit=count + spare, expand=expand)
            more_before = (
                len(rows) > count if spare else bool(rows) and bool(session.seek(kind, before=rows[-1].seq, limit=1))
            )
            rows = rows[:count][::-1]
            edge = rows[-1].seq if rows else start.position.seq - 1
            more_after = bool(session.seek(kind, after=edge, limit=1))
        items = [(Position(None, 0, res.seq), self.render(res, base_url).body) for res in rows]
        return _Window(items, session.count(kind), more_before, more_after)

    def _scan_window(
        self,
        session: Session,
        kinds: list[ResourceKind],
        compiled: dict[ResourceKind, tuple[filters.Filter, filters.Predicate] | None],
        projections: dict[ResourceKind, Projection],
        keys: dict[ResourceKind, Callable[[Mapping[str, Any]], Any]] | None,
        descending: bool,
        start: Cursor | None,
        count: int,
        base_url: str,
    ) -> _Window:
        """A page of a filtered or sorted walk: every match is looked at, only ``count + 1`` of them kept."""
        forward = start is None or start.direction == "next"

        def place(position: Position) -> tuple[Any, ...]:
            return cursors.order(position, sorted_by=keys is not None, descending=descending)

        bound = None if start is None else place(start.position)
        total = beyond = 0

        def candidates() -> Iterator[tuple[tuple[Any, ...], Position, dict[str, Any]]]:
            nonlocal total, beyond
            for index, kind in enumerate(kinds):
                if kind not in compiled:
                    continue
                for seq, body in self._matching(session, kind, compiled[kind], projections[kind], base_url):
                    position = Position(None if keys is None else keys[kind](body), index, seq)
                    at = place(position)
                    total += 1
                    if bound is None or (at > bound if forward else at < bound):
                        yield at, position, body
                    else:
                        beyond += 1  # on the other side of the cursor

        pick = heapq.nsmallest if forward else heapq.nlargest
        picked = pick(count + 1, candidates(), key=lambda item: item[0])
        more = len(picked) > count
        chosen = picked[:count] if forward else picked[:count][::-1]
        items = [(position, body) for _, position, body in chosen]
        if forward:
            return _Window(items, total, beyond > 0, more)
        return _Window(items, total, more, beyond > 0)

    def _compile_filters(
        self, kinds: list[ResourceKind], text: str | None
    ) -> dict[ResourceKind, tuple[filters.Filter, filters.Predicate] | None]:
        """A predicate per resource type; with several types, types the filter cannot apply to drop out."""
        if text is None:
            return dict.fromkeys(kinds)
        parsed = filters.parse_filter(text, max_nodes=self.config.max_filter_nodes)
        compiled: dict[ResourceKind, tuple[filters.Filter, filters.Predicate] | None] = {}
        errors: list[InvalidFilterError] = []
        for kind in kinds:
            try:
                node = parsed
                predicate = filters.compile_filter(node, self.registry, kind)
                if kind == "User" and (keyed := _user_name_keys(parsed)) is not parsed:
                    # userName compares by its identity key (store/names.py) in a filter as in uniqueness.
                    node, inner = keyed, filters.compile_filter(keyed, self.registry, kind)
                    predicate = _on_user_name_key(inner)
                compiled[kind] = (node, predicate)
            except InvalidFilterError as exc:
                errors.append(exc)
        if not compiled:
            raise errors[0]
        return compiled

    def _matching(
        self,
        session: Session,
        kind: ResourceKind,
        compiled: tuple[filters.Filter, filters.Predicate] | None,
        projection: Projection,
        base_url: str,
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """Full documents matching the filter, with their creation sequence; an indexed equality narrows the
        candidates first."""
        computed = _EXPANDED[kind]
        if compiled is None:
            for res in session.scan(kind, expand=projection.needs(computed)):
                yield res.seq, self.render(res, base_url).body
            return
        node, predicate = compiled
        expand = projection.needs(computed) or computed.lower() in filters.top_level_attributes(node)
        lookup = filters.equality_lookup(node, self.registry, kind)
        candidates = (
            session.lookup(kind, lookup[0], lookup[1], expand=expand) if lookup else session.scan(kind, expand=expand)
        )
        for res in candidates:
            body = self.render(res, base_url).body
            if predicate(body):
                yield res.seq, body

    def _sorted(
        self,
        matched: list[tuple[ResourceKind, dict[str, Any]]],
        kinds: list[ResourceKind],
        sort_by: str,
        descending: bool,
    ) -> list[tuple[ResourceKind, dict[str, Any]]]:
        """Stable sort (RFC 7644 §3.4.2.3); sortBy is resolved per type up front, so a bad one is always 400."""
        keys = {kind: filters.sort_key_for(sort_by, self.registry, kind) for kind in kinds}
        return sorted(matched, key=lambda item: keys[item[0]](item[1]), reverse=descending)

    # -- writes --------------------------------------------------------------------------------

    def create(self, tenant: str, kind: ResourceKind, body: dict[str, Any], base_url: str) -> Rendered:
        normalized = resources.normalize(body, self.registry, kind)
        doc, members, password = _split(normalized, kind)
        check_resource_limits(doc, self.config, kind)  # before the write lock: nothing oversized is stored
        with self.store.write(tenant) as session:
            self.posix.check(session, kind, doc)
            check_user_name(session, kind, doc)
            res = session.insert(kind, doc, password=password)
            self.posix.record(session, kind, res.id, doc)
            if kind == "Group":
                self._set_members(session, res.id, members or [])
            created = session.get(kind, res.id, expand=True)
        assert created is not None
        return self.render(created, base_url)

    def replace(
        self,
        tenant: str,
        kind: ResourceKind,
        rid: str,
        body: dict[str, Any],
        if_match: str | None,
        base_url: str,
    ) -> Rendered:
        """PUT (RFC 7644 §3.5.1): readOnly values sent back are ignored; omitted readWrite values are cleared."""

        def work(current: StoredResource) -> _Change:
            normalized = resources.normalize(body, self.registry, kind, existing=current.doc)
            doc, members, password = _split(normalized, kind)
            check_resource_limits(doc, self.config, kind)
            # POST and PUT carry the whole member list: none sent is none kept.
            return _Change(current.version, doc, password, True, members=(members or []) if kind == "Group" else None)

        with self._resource_locks.hold(tenant, kind, rid):
            updated = self._optimistic(tenant, kind, rid, if_match, work, expand=True)
        return self.render(updated, base_url)

    def patch(
        self,
        tenant: str,
        kind: ResourceKind,
        rid: str,
        body: dict[str, Any],
        if_match: str | None,
        query: Query,
        base_url: str,
    ) -> Rendered | Acknowledged:
        """PATCH (RFC 7644 §3.5.2): all operations apply or none; member changes are row deltas.

        A Group PATCH that asks for no attributes is answered 204 with the ETag (RFC 7644 §3.5.2
        allows it; docs/entra-idp.md §4 prefers it, docs/okta-idp.md §7 accepts it), so a one-member
        change never loads or renders the whole member list.
        """
        projection = self._projection(kind, query.attributes, query.excluded)
        bodiless = kind == "Group" and query.attributes is None and query.excluded is None

        def work(current: StoredResource) -> _Change:
            full = self.render(current, base_url).body
            result = patches.apply_patch(
                full,
                body,
                self.registry,
                kind,
                max_operations=self.config.max_patch_operations,
                max_member_values=self.config.max_member_changes,
            )
            doc, _, password = _split(result.doc, kind)
            doc_changed = doc != current.doc or password is not None
            if doc_changed:
                check_resource_limits(doc, self.config, kind)
            return _Change(current.version, doc, password, doc_changed, member_changes=result.member_changes)

        with self._resource_locks.hold(tenant, kind, rid):
            expand = not bodiless and projection.needs(_EXPANDED[kind])
            updated = self._optimistic(tenant, kind, rid, if_match, work, expand=expand)
        if bodiless:
            return Acknowledged(etags.etag(updated.version))
        return self.render(updated, base_url, projection)

    def _optimistic(
        self,
        tenant: str,
        kind: ResourceKind,
        rid: str,
        if_match: str | None,
        work: Callable[[StoredResource], _Change],
        *,
        expand: bool,
    ) -> StoredResource:
        """Work out a change from a read, commit it under the write lock if the version held; else again.

        Returns the resource as committed, read in the commit, except a group's member list (``expand``),
        which can be 50k rows: that is read after the commit, outside the lock, so it shows the committed
        state or a later one.
        """
        late = expand and kind == "Group"
        committed: StoredResource | None = None
        for attempt in range(OPTIMISTIC_ATTEMPTS):
            last = attempt == OPTIMISTIC_ATTEMPTS - 1
            change: _Change | None = None
            if not last:
                with self.store.read(tenant) as session:
                    current = self._existing(session, kind, rid, if_match)
                change = work(current)  # outside any transaction and lock
                change = self._resolve_member_filters(tenant, rid, change)
                if change is None:
                    continue  # the group changed while the patch was worked out
            with self.store.write(tenant) as session:
                if change is None:
                    # Still contended (another process on the same file): this try is worked out under the lock.
                    change = work(self._existing(session, kind, rid, if_match))
                else:
                    now = session.get(kind, rid)
                    if now is None:
                        raise NotFoundError(f"{kind} {rid} not found")
                    # A membership-only PATCH is row deltas: it holds whatever the document became meanwhile.
                    needs_version = (
                        change.doc_changed or change.members is not None or change.exact or if_match is not None
                    )
                    if needs_version and now.version != change.version:
                        continue
                self._commit(session, kind, rid, change)
                committed = session.get(kind, rid, expand=expand and not late)
            break
        if late:
            with self.store.read(tenant) as session:
                committed = session.get(kind, rid, expand=True)
        if committed is None:
            raise NotFoundError(f"{kind} {rid} not found")
        return committed

    def _resolve_member_filters(self, tenant: str, group_id: str, change: _Change) -> _Change | None:
        """``remove members[filter]`` as the ids it selects, evaluated here rather than under the write lock.

        The group's member rows are read at the version the patch was worked out from (None if it moved),
        and the changes are replayed in request order on a copy, so an earlier add or remove counts as it
        would in the commit. The commit then happens only on that version (``exact``).
        """
        if not any(isinstance(c, patches.MemberRemoveWhere) for c in change.member_changes):
            return change
        added = [v for c in change.member_changes if isinstance(c, patches.MemberAdd) for v in c.values]
        with self.store.read(tenant) as session:
            now = session.get("Group", group_id)
            if now is None or now.version != change.version:
                return None
            state = {member["value"]: member for member in session.members(group_id)}
            refs = session.member_refs(added) if added else {}
        resolved: list[Any] = []
        for item in change.member_changes:
            if isinstance(item, patches.MemberAdd):
                state.update((v, refs[v]) for v in item.values if v in refs and v not in state)
            elif isinstance(item, patches.MemberRemove):
                for value in item.values:
                    state.pop(value, None)
            elif isinstance(item, patches.MemberClear):
                state.clear()
            elif isinstance(item, patches.MemberRemoveWhere):
                doomed = tuple(value for value, member in state.items() if item.matches(member))
                for value in doomed:
                    del state[value]
                resolved.append(patches.MemberRemove(doomed))
                continue
            resolved.append(item)
        return replace(change, member_changes=tuple(resolved), exact=True)

    def _commit(self, session: Session, kind: ResourceKind, rid: str, change: _Change) -> None:
        """The short part under the write lock: the document, POSIX ids, membership rows."""
        if change.doc_changed:
            self.posix.check(session, kind, change.doc)  # bounded: a userName and at most MAX_SSH_KEYS keys
            check_user_name(session, kind, change.doc, rid)
            session.update(kind, rid, change.doc, password=change.password, keep_password=change.password is None)
            self.posix.record(session, kind, rid, change.doc)
        if change.members is not None:
            if kind == "Group":
                self._set_members(session, rid, change.members)
            return
        members_changed = self._apply_member_changes(session, rid, change.member_changes)
        if members_changed and not change.doc_changed:
            session.touch(kind, rid)

    def delete(self, tenant: str, kind: ResourceKind, rid: str, if_match: str | None) -> None:
        """Hard delete: the resource and every membership it had go in one transaction."""
        with self._resource_locks.hold(tenant, kind, rid), self.store.write(tenant) as session:
            self._existing(session, kind, rid, if_match)
            session.delete(kind, rid)
            self.posix.forget(session, kind, rid)

    # -- helpers -------------------------------------------------------------------------------

    def _existing(self, session: Session, kind: ResourceKind, rid: str, if_match: str | None) -> StoredResource:
        current = session.get(kind, rid)
        if current is None:
            raise NotFoundError(f"{kind} {rid} not found")
        etags.check_if_match(if_match, etags.etag(current.version))
        return current

    def _set_members(self, session: Session, group_id: str, refs: list[dict[str, Any]]) -> None:
        """Make the member rows exactly ``refs`` (POST and PUT carry the whole list)."""
        ids = [ref["value"] for ref in refs]
        self._check_members(session, group_id, ids, refs)
        session.clear_members(group_id)
        session.add_members(group_id, ids)

    def _check_members(self, session: Session, group_id: str, ids: list[str], refs: Iterable[dict[str, Any]]) -> None:
        """Every member must exist in this tenant; groups as members only when nesting is enabled."""
        if len(ids) > self.config.max_member_changes:
            raise PayloadTooLargeError(
                f"{len(ids)} members in one request; the limit is {self.config.max_member_changes}. "
                "Send the change in smaller PATCH requests."
            )
        kinds = session.kinds_of(ids)
        missing = [mid for mid in ids if mid not in kinds]
        if missing:
            shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
            raise InvalidValueError(f"members must be existing Users of this tenant; not found: {shown}")
        for ref in refs:
            declared = ref.get("type")
            actual = kinds[ref["value"]]
            if declared is not None and declared != actual:
                raise InvalidValueError(f"member {ref['value']} is a {actual}, not a {declared}")
        for mid in ids:
            if kinds[mid] == "Group" and (mid == group_id or not self.config.allow_nested_groups):
                raise InvalidValueError(
                    f"member {mid} is a Group: this server keeps groups flat (nested groups are not supported)"
                    if mid != group_id
                    else "a group cannot be a member of itself"
                )

    def _apply_member_changes(self, session: Session, group_id: str, changes: Iterable[Any]) -> bool:
        changed = False
        for change in changes:
            if isinstance(change, patches.MemberAdd):
                ids = list(change.values)
                self._check_members(session, group_id, ids, [{"value": v} for v in ids])
                changed |= session.add_members(group_id, ids) > 0
            elif isinstance(change, patches.MemberRemove):
                changed |= session.remove_members(group_id, list(change.values)) > 0
            elif isinstance(change, patches.MemberClear):
                changed |= session.clear_members(group_id) > 0
            elif isinstance(change, patches.MemberRemoveWhere):
                doomed = [m["value"] for m in session.members(group_id) if change.matches(m)]
                changed |= session.remove_members(group_id, doomed) > 0
            else:  # pragma: no cover - a new delta type must be handled here
                raise TypeError(f"unknown membership change {change!r}")
        return changed


_EXPANDED: dict[ResourceKind, str] = {"User": "groups", "Group": "members"}


def _is_user_name(path: filters.AttrPath) -> bool:
    return (
        path.attr.lower() == "username"
        and path.sub is None
        and (path.uri is None or path.uri.lower() == urns.USER.lower())
    )


def _user_name_keys(node: filters.Filter) -> filters.Filter:
    """The filter with every string compared to userName replaced by its identity key; the same node if none."""
    if isinstance(node, filters.Compare):
        if _is_user_name(node.path) and isinstance(node.value, str):
            return replace(node, value=user_name_key(node.value))
        return node
    if isinstance(node, filters.And | filters.Or):
        left, right = _user_name_keys(node.left), _user_name_keys(node.right)
        return node if left is node.left and right is node.right else replace(node, left=left, right=right)
    if isinstance(node, filters.Not):
        inner = _user_name_keys(node.inner)
        return node if inner is node.inner else replace(node, inner=inner)
    return node


def _on_user_name_key(predicate: filters.Predicate) -> filters.Predicate:
    """Evaluate ``predicate`` on a document whose userName is its identity key."""

    def keyed(body: Mapping[str, Any]) -> bool:
        name = body.get("userName")
        return predicate({**body, "userName": user_name_key(name)} if isinstance(name, str) else body)

    return keyed


def _split(doc: dict[str, Any], kind: ResourceKind) -> tuple[dict[str, Any], list[dict[str, Any]] | None, str | None]:
    """Separate what the store keeps elsewhere: server-owned fields, members (rows) and the password (hash)."""
    # The POSIX extension is the server's own (aup_server/posix.py), kept apart from the document.
    server_owned = ("schemas", "id", "meta", "members", "groups", "password", *PosixRules.URNS)
    stored = {k: v for k, v in doc.items() if k not in server_owned}
    members = doc.get("members") if kind == "Group" else None
    password = doc.get("password") if kind == "User" else None
    return stored, members, password
