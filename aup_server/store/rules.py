"""The rules every engine applies alike, given to a store by the layer above: index keys, uniqueness, passwords.

An engine stores and compares the strings these functions return; it never folds a name or hashes a
password itself, so SQLite and any later engine agree on which userNames are the same user (names.py)
and no engine keeps a password in clear (RFC 7643 §4.1.1, writeOnly).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

from aup_server.errors import InvalidValueError, UniquenessError
from aup_server.scim.filter import fold_case as fold  # one folding for uniqueness and filters
from aup_server.store.base import LookupKey, ResourceKind, Session
from aup_server.store.names import user_name_key, user_name_problem

# Okta sends a (random) password in every POST /Users (docs/okta-idp.md §10.6), so the cost is paid
# per create: about 1 ms here keeps bulk provisioning fast while no password is ever kept in clear.
_SCRYPT_N = 2**9


def hash_password(password: str) -> str:
    """A salted scrypt digest: passwords are writeOnly (RFC 7643 §4.1.1) and never stored in clear."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=8, p=1)
    return f"scrypt${_SCRYPT_N}$8$1${salt.hex()}${digest.hex()}"


def name_key(kind: str, name: str) -> str:
    """How a userName (names.py) or a group's displayName (case folded, RFC 7643 §2.2) is compared."""
    return user_name_key(name) if kind == "User" else fold(name)


@dataclass(frozen=True)
class IndexKeys:
    """What an engine indexes for one document; ``unique`` None means no uniqueness constraint applies."""

    unique: str | None
    name: str | None
    display: str | None
    external_id: str | None
    emails: frozenset[str]


@dataclass(frozen=True)
class StoreRules:
    """The settings-dependent rules a store is opened with (``open_store`` derives them from ServerConfig)."""

    unique_group_names: bool = True

    def index_keys(self, kind: ResourceKind, doc: dict[str, Any]) -> IndexKeys:
        """userName is unique per tenant (RFC 7643 §4.1.1); displayName only when ``unique_group_names``."""
        name = doc.get("userName") if kind == "User" else doc.get("displayName")
        key = name_key(kind, name) if isinstance(name, str) else None
        external_id = doc.get("externalId")
        emails = (
            frozenset(
                fold(email["value"])
                for email in doc.get("emails") or ()
                if isinstance(email, dict) and isinstance(email.get("value"), str)
            )
            if kind == "User"
            else frozenset()
        )
        return IndexKeys(
            unique=key if (kind == "User" or self.unique_group_names) else None,
            name=key,
            display=name if isinstance(name, str) else None,
            external_id=external_id if isinstance(external_id, str) else None,
            emails=emails,
        )

    @staticmethod
    def lookup_value(kind: ResourceKind, key: LookupKey, value: str) -> str:
        """The form of a lookup value an engine compares with its stored keys (caseExact=false ones folded)."""
        if key in ("userName", "displayName"):
            return name_key(kind, value)
        if key == "emails.value":
            return fold(value)
        return value

    @staticmethod
    def password_digest(password: str | None) -> str | None:
        return hash_password(password) if password is not None else None

    @staticmethod
    def conflict(kind: ResourceKind, doc: dict[str, Any]) -> UniquenessError:
        """The 409 an engine raises when a write would duplicate an ``IndexKeys.unique`` (RFC 7644 §3.12)."""
        if kind == "User":
            return UniquenessError(
                f"userName {doc.get('userName')!r} is already taken in this tenant (compared case-insensitively"
                " after Unicode NFKC normalisation); "
                f'find it with filter=userName eq "{doc.get("userName")}"'
            )
        return UniquenessError(
            f"a group with displayName {doc.get('displayName')!r} already exists in this tenant; "
            f'find it with filter=displayName eq "{doc.get("displayName")}"'
        )


def check_user_name(session: Session, kind: ResourceKind, doc: dict[str, Any], rid: str | None = None) -> None:
    """Refuse a userName no key can tell apart, before it is written; the store only enforces key uniqueness.

    A lookalike of a held userName is a 409 (it is that user); otherwise a name with invisible characters
    or edge whitespace is a 400 (names.py says why). A name stored before this rule stays writable: an
    update that keeps it is not refused.
    """
    name = doc.get("userName")
    if kind != "User" or not isinstance(name, str):
        return
    problem = user_name_problem(name)
    if problem is None:
        return
    if rid is not None:
        current = session.get(kind, rid)
        if current is not None and current.doc.get("userName") == name:
            return
    if any(holder.id != rid for holder in session.lookup(kind, "userName", name)):
        raise StoreRules.conflict(kind, doc)
    raise InvalidValueError(problem)
