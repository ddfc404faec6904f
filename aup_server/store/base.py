"""The storage contract the SCIM layer depends on; engines (SQLite now, PostgreSQL later) implement it.

The API and the pure SCIM code see only these types, so a new engine never touches api/ or scim/.
What an engine must do is pinned by tests/store/contract.py; docs/stores.md says how to add one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from aup_server.store.rules import StoreRules

ResourceKind = Literal["User", "Group"]
LookupKey = Literal["id", "externalId", "userName", "displayName", "emails.value"]


@dataclass
class StoredResource:
    """A resource as stored: its document (no id/meta/members/groups) plus server-owned fields.

    ``members`` (groups) and ``groups`` (users) are None when the caller did not ask for them,
    so a group with 100k members costs nothing to read when members are not returned.
    """

    id: str
    kind: ResourceKind
    doc: dict[str, Any]
    version: int
    created: str
    modified: str
    members: list[dict[str, Any]] | None = None
    groups: list[dict[str, Any]] | None = None
    seq: int = field(default=0, compare=False)
    posix: PosixRecord | None = None  # the POSIX identity, when one was allocated (docs/posix.md)
    member_usernames: dict[str, str] | None = None  # member id -> POSIX username, active users only


@dataclass(frozen=True)
class PosixRecord:
    """A POSIX id allocated to a resource: a uid for a User, a gid for a Group; never reused."""

    number: int
    username: str | None = None
    active: bool = True


@dataclass(frozen=True)
class TokenRecord:
    """A named bearer token: only its digest is ever stored (docs/domain.md §3 item 9)."""

    name: str
    tenant: str
    created: str
    revoked: str | None


class Session(Protocol):
    """One transaction scoped to one tenant; every query carries the tenant predicate."""

    tenant: str

    def get(self, kind: ResourceKind, rid: str, *, expand: bool = False) -> StoredResource | None: ...

    def lookup(self, kind: ResourceKind, key: LookupKey, value: str, *, expand: bool = False) -> list[StoredResource]:
        """Candidates whose indexed ``key`` equals ``StoreRules.lookup_value(value)``, in creation order."""
        ...

    def scan(self, kind: ResourceKind, *, expand: bool = False) -> Iterator[StoredResource]:
        """Every resource of a kind, in the stable order (creation sequence)."""
        ...

    def page(
        self, kind: ResourceKind, offset: int, limit: int, *, expand: bool = False
    ) -> tuple[int, list[StoredResource]]:
        """Total count and one page in the stable order."""
        ...

    def count(self, kind: ResourceKind) -> int:
        """How many resources of a kind the tenant has."""
        ...

    def seek(
        self,
        kind: ResourceKind,
        *,
        after: int | None = None,
        before: int | None = None,
        limit: int,
        expand: bool = False,
    ) -> list[StoredResource]:
        """At most ``limit`` resources from a place in creation order, read by index whatever the place (RFC 9865).

        ``after``: those with ``seq`` greater, ascending (None: from the first). ``before``: those with ``seq``
        smaller, nearest first (descending). Never both.
        """
        ...

    def insert(self, kind: ResourceKind, doc: dict[str, Any], *, password: str | None) -> StoredResource:
        """Store ``doc`` under a new id, indexed by ``StoreRules.index_keys``; a duplicate unique key raises
        ``StoreRules.conflict`` and the password is kept only as ``StoreRules.password_digest``."""
        ...

    def update(
        self, kind: ResourceKind, rid: str, doc: dict[str, Any], *, password: str | None, keep_password: bool
    ) -> StoredResource:
        """Replace the document (version + 1, re-indexed as on insert); KeyError when ``rid`` is not there."""
        ...

    def touch(self, kind: ResourceKind, rid: str) -> None:
        """Bump version and lastModified, e.g. after a membership change."""
        ...

    def delete(self, kind: ResourceKind, rid: str) -> bool: ...

    def kinds_of(self, ids: list[str]) -> dict[str, ResourceKind]:
        """The kind of each existing id in this tenant; unknown ids are absent."""
        ...

    def add_members(self, group_id: str, member_ids: list[str]) -> int:
        """Insert membership rows, ignoring ones that exist; returns how many were new."""
        ...

    def remove_members(self, group_id: str, member_ids: list[str]) -> int: ...

    def clear_members(self, group_id: str) -> int: ...

    def members(self, group_id: str) -> list[dict[str, Any]]: ...

    def member_refs(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """``{value, display, type}`` of each existing id, as ``members`` lists a member; unknown ids are absent."""
        ...

    # POSIX identities (aup_server/posix.py applies the rules; the store keeps counters and tombstones)

    def posix_setting(self) -> bool | None:
        """Whether the tenant has POSIX identities on; None until its first write or an admin's choice."""
        ...

    def set_posix_enabled(self, enabled: bool) -> None: ...

    def allocate_posix(self, kind: ResourceKind, rid: str, first: int, last: int) -> int | None:
        """Record the next number of the tenant's ``kind`` counter in [first, last] for ``rid``; None when used up.

        The counter only grows and deleted resources keep their number, so no number is handed out twice.
        """
        ...

    def posix_record(self, kind: ResourceKind, rid: str) -> PosixRecord | None:
        """The live (not deleted) POSIX id of a resource, if it has one."""
        ...

    def set_posix_user(self, rid: str, username: str, active: bool) -> str | None:
        """Give the user ``username``; returns the id of another live user holding it (and changes nothing)."""
        ...

    def tombstone_posix(self, kind: ResourceKind, rid: str) -> None:
        """Keep a deleted resource's number reserved; its username is free again."""
        ...


class TokenStore(Protocol):
    def add_token(self, name: str, tenant: str, digest: str) -> TokenRecord: ...

    def find_token(self, digest: str) -> TokenRecord | None: ...

    def list_tokens(self, tenant: str | None = None) -> list[TokenRecord]: ...

    def revoke_token(self, name: str, tenant: str) -> bool: ...


class Store(TokenStore, Protocol):
    """An open database: ``db`` is the ``ServerConfig.db`` it was opened from, ``rules`` its config's rules."""

    db: str
    rules: StoreRules

    def read(self, tenant: str) -> AbstractContextManager[Session]: ...

    def secret(self, name: str) -> bytes:
        """A random 32-byte key kept in the database, made on first use: every process serving the database
        signs and checks with the same one (cursors, RFC 9865), and it survives restarts."""
        ...

    def write(self, tenant: str) -> AbstractContextManager[Session]: ...

    def close(self) -> None: ...
