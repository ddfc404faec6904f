"""POSIX identities of a tenant: the rules behind the POSIX extension (docs/posix.md).

Practice from docs/domain.md §4: a uid or gid is tied to the immutable SCIM ``id``, allocated
once from a persisted counter inside the write transaction, kept after DELETE (tombstone) and never
reused; a user's primary gid is its uid (user private group); the username is derived from userName
deterministically and a collision is a 409, never a silent suffix. Deactivated users keep their uid
and passwd entry but lose their SSH keys and their group memberships in what nsscache reads.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from aup_server.config import ServerConfig
from aup_server.errors import InvalidValueError, ScimError, UniquenessError
from aup_server.store.base import ResourceKind, Session, Store, StoredResource
from scimcore.schemas import Schema, SchemaRegistry
from scimcore.schemas import posix as names
from scimcore.schemas.posix import POSIX_GROUP, POSIX_GROUP_URN, POSIX_USER, POSIX_USER_URN, ssh_source_schema

USERNAME_RE = re.compile(r"^[a-z_][a-z0-9_-]*$")
MAX_USERNAME = 32  # useradd's limit, and Crusoe's (docs/domain.md §4)

# Accounts every Linux image (and a Slurm cluster) already has: an IdP user must never become one,
# since sshd would then take that user's keys from the sshkey cache.
RESERVED_USERNAMES = frozenset(
    {
        *("root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy"),
        *("www-data", "backup", "list", "irc", "gnats", "nobody", "nogroup", "adm", "operator", "halt"),
        *("shutdown", "ftp", "sshd", "messagebus", "syslog", "dbus", "polkitd", "chrony", "ntp", "tss", "rpc"),
        *("rpcuser", "postfix", "tcpdump", "_apt", "slurm", "munge"),
    }
)
_RESERVED_PREFIXES = ("systemd-",)

# OpenSSH public key types still accepted by default; ssh-dss is off since OpenSSH 7.0.
SSH_KEY_TYPES = frozenset(
    {
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    }
)
MAX_SSH_KEY_LENGTH = 16 * 1024
MAX_SSH_KEYS = 64
# Characters that would corrupt an sshkey cache line ("name:key" or "name:['k1', 'k2']") for the
# readers nsscache ships (examples/authorized-keys-command.sh splits on ':' and ', ').
_COMMENT_FORBIDDEN = frozenset(":,'\"\\[]")

# Letters Unicode does not decompose into a base letter and a mark.
_TRANSLITERATE = str.maketrans(
    {"ł": "l", "ø": "o", "ß": "ss", "đ": "d", "æ": "ae", "œ": "oe", "\u0131": "i", "þ": "th"}
)


class IdRangeExhaustedError(ScimError):
    """507: the tenant's uid or gid range is used up; only the operator can widen it (RFC 4918 §11.5)."""

    status: ClassVar[int] = 507


# -- pure rules ------------------------------------------------------------------------------------


def derive_username(user_name: str) -> str:
    """The POSIX username for a userName: the part before '@' (or after ``DOMAIN\\``), ASCII-folded,
    lower case, each run of other characters made one '-', at most 32 characters.

    Deterministic and idempotent; ValueError when nothing usable is left. GitHub EMU derives names the
    same way (docs/domain.md §4); collisions are the caller's 409.
    """
    name = user_name.strip().rsplit("\\", 1)[-1]
    if "@" in name:
        name = name.rsplit("@", 1)[0]
    folded = unicodedata.normalize("NFKD", name.lower().translate(_TRANSLITERATE))
    ascii_only = folded.encode("ascii", "ignore").decode("ascii").lower()
    out = re.sub(r"[^a-z0-9_-]+", "-", ascii_only).strip("-")
    if out and not ("a" <= out[0] <= "z" or out[0] == "_"):
        out = "_" + out
    out = out[:MAX_USERNAME].rstrip("-")
    if not out:
        raise ValueError(
            f"userName {user_name!r} has no letters or digits a POSIX username can use; map a userName with"
            " ASCII letters in the IdP"
        )
    return out


def is_reserved(username: str) -> bool:
    return username in RESERVED_USERNAMES or username.startswith(_RESERVED_PREFIXES)


def parse_ssh_key(line: str) -> str:
    """An OpenSSH public key line ``<type> <base64> [comment]``, checked, in one-space form; ValueError if not.

    The base64 blob must decode strictly and name the same key type (RFC 4253 §6.6); option prefixes
    (``command=…``) are refused, since they would let the IdP decide what sshd runs.
    """
    text = line.strip()
    if not text:
        raise ValueError("an SSH key is empty")
    if len(text) > MAX_SSH_KEY_LENGTH:
        raise ValueError(f"an SSH key is longer than {MAX_SSH_KEY_LENGTH} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValueError("an SSH key contains a control character (one key per value, no line breaks)")
    parts = text.split(None, 2)
    if parts[0] not in SSH_KEY_TYPES:
        shown = parts[0][:40]
        raise ValueError(
            f"SSH key type {shown!r} is not accepted (options before the type are not allowed either); "
            f"use one of {', '.join(sorted(SSH_KEY_TYPES))}"
        )
    if len(parts) < 2:
        raise ValueError(f"the {parts[0]} key has no key data: send '<type> <base64> [comment]'")
    kind, blob = parts[0], parts[1]
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"the {kind} key data is not valid base64") from None
    (length,) = struct.unpack(">I", raw[:4]) if len(raw) >= 4 else (-1,)
    if raw[4 : 4 + length] != kind.encode("ascii") or len(raw) <= 4 + length:
        raise ValueError(f"the key data is not a {kind} public key (its embedded type does not match)")
    comment = parts[2] if len(parts) > 2 else ""
    if bad := sorted(set(comment) & _COMMENT_FORBIDDEN):
        raise ValueError(f"the SSH key comment {comment!r} contains {' '.join(bad)}, which would break sshkey.cache")
    return f"{kind} {blob} {comment}" if comment else f"{kind} {blob}"


# -- configuration ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PosixSettings:
    """The POSIX part of the server configuration, with the SSH key source resolved to canonical names."""

    on: bool
    new_tenants: bool
    uid_range: tuple[int, int]
    gid_range: tuple[int, int]
    home: str
    shell: str
    ssh_source: tuple[str, str] | None  # (extension URN, attribute) as spelled by its schema


def registry_extensions(config: ServerConfig) -> tuple[tuple[str, Schema], ...]:
    """The configured extensions plus, when POSIX is on, its schemas and the SSH key source's extension.

    A source attribute in a configured extension must be defined there; a source URN no configured
    extension has gets a one-attribute extension, so CoreWeave's documented Okta mapping works as is.
    """
    extensions = tuple(config.extensions)
    if not config.posix:
        return extensions
    taken = {schema.id.lower() for _, schema in extensions}
    if POSIX_USER_URN.lower() in taken or POSIX_GROUP_URN.lower() in taken:
        raise ValueError("the POSIX extension URNs are built in; configure another URN, or set posix: false")
    source = config.posix_ssh_keys_from
    if source is not None:
        urn, attribute = source.rsplit(":", 1)
        found = next((schema for rt, schema in extensions if rt == "User" and schema.id.lower() == urn.lower()), None)
        if found is None:
            extensions += (("User", ssh_source_schema(urn, attribute)),)
        elif found.attribute(attribute) is None:
            raise ValueError(f"posix_ssh_keys_from names {attribute!r}, which extension {found.id} does not define")
    return (*extensions, ("User", POSIX_USER), ("Group", POSIX_GROUP))


def posix_settings(config: ServerConfig, registry: SchemaRegistry) -> PosixSettings:
    source: tuple[str, str] | None = None
    if config.posix and config.posix_ssh_keys_from is not None:
        found = registry.resolve("User", config.posix_ssh_keys_from)
        assert found is not None and found.extension is not None  # registry_extensions made sure
        source = (found.extension, found.attribute.name)
    return PosixSettings(
        on=config.posix,
        new_tenants=config.posix_new_tenants,
        uid_range=config.posix_uid_range,
        gid_range=config.posix_gid_range,
        home=config.posix_home.rstrip("/"),
        shell=config.posix_shell,
        ssh_source=source,
    )


# -- the rules applied to requests -------------------------------------------------------------------


class PosixRules:
    """What the service calls inside its transactions: check, allocate, tombstone, render."""

    URNS: ClassVar[tuple[str, str]] = (POSIX_USER_URN, POSIX_GROUP_URN)

    def __init__(self, settings: PosixSettings) -> None:
        self.settings = settings

    def enabled(self, session: Session) -> bool:
        """Whether this request's tenant has POSIX identities."""
        if not self.settings.on:
            return False
        setting = session.posix_setting()
        return self.settings.new_tenants if setting is None else setting

    def _writing(self, session: Session) -> bool:
        """``enabled``, and a tenant's first write fixes its setting (so a later default change keeps it)."""
        setting = session.posix_setting()
        if setting is None:
            setting = self.settings.on and self.settings.new_tenants
            session.set_posix_enabled(setting)
        return self.settings.on and setting

    # -- writes --

    def source_keys(self, doc: dict[str, Any]) -> list[str]:
        """The raw SSH key lines in the source attribute: a list, or a string of one key per line."""
        if self.settings.ssh_source is None:
            return []
        urn, attribute = self.settings.ssh_source
        block = doc.get(urn)
        value = block.get(attribute) if isinstance(block, dict) else None
        items = value if isinstance(value, list) else [value]
        lines: list[str] = []
        for item in items:
            text = item.get("value") if isinstance(item, dict) else item
            if isinstance(text, str):
                lines.extend(line for line in text.splitlines() if line.strip())
        return lines

    def check(self, session: Session, kind: ResourceKind, doc: dict[str, Any]) -> None:
        """400 before anything is stored: a userName with no POSIX form, or an invalid SSH key."""
        if kind != "User" or not self.enabled(session):
            return
        for problem in self._problems(doc):
            raise InvalidValueError(problem)

    def _problems(self, doc: dict[str, Any]) -> Iterable[str]:
        try:
            derive_username(str(doc.get("userName", "")))
        except ValueError as exc:
            yield str(exc)
        keys = self.source_keys(doc)
        where = ":".join(self.settings.ssh_source or ())
        if len(keys) > MAX_SSH_KEYS:
            yield f"{where}: {len(keys)} SSH keys; at most {MAX_SSH_KEYS} are accepted"
        for index, key in enumerate(keys):
            try:
                parse_ssh_key(key)
            except ValueError as exc:
                yield f"{where}[{index}]: {exc}"

    def record(self, session: Session, kind: ResourceKind, rid: str, doc: dict[str, Any]) -> None:
        """After an insert or update: allocate the id if there is none, and (users) claim the username."""
        if not self._writing(session):
            return
        if session.posix_record(kind, rid) is None:
            first, last = self.settings.uid_range if kind == "User" else self.settings.gid_range
            if session.allocate_posix(kind, rid, first, last) is None:
                what = "uid" if kind == "User" else "gid"
                raise IdRangeExhaustedError(
                    f"every {what} in this tenant's range {first}-{last} has been handed out (ids are never "
                    f"reused); the operator must configure a larger posix_{what}_range"
                )
        if kind == "User":
            self._claim_username(session, rid, doc)

    def _claim_username(self, session: Session, rid: str, doc: dict[str, Any]) -> None:
        user_name = str(doc.get("userName", ""))
        username = derive_username(user_name)
        if is_reserved(username):
            raise UniquenessError(
                f"userName {user_name!r} gives the POSIX username {username!r}, which is reserved for a system "
                "account on every cluster node; map another userName in the IdP"
            )
        holder = session.set_posix_user(rid, username, doc.get("active") is not False)
        if holder is not None:
            raise UniquenessError(
                f"userName {user_name!r} gives the POSIX username {username!r}, which user {holder} already has "
                "(usernames are the lower-cased userName before '@'); change the IdP's userName mapping so they "
                f'differ. Find the holder with filter={POSIX_USER_URN}:{names.USERNAME} eq "{username}"'
            )

    def forget(self, session: Session, kind: ResourceKind, rid: str) -> None:
        """After a DELETE: keep the id as a tombstone, so it is never handed out again."""
        session.tombstone_posix(kind, rid)

    # -- reads --

    def decorate(self, body: dict[str, Any], res: StoredResource) -> None:
        """Add the POSIX extension (and member usernames) to a full representation, before projection."""
        record = res.posix
        if record is None:
            return
        if res.kind == "Group":
            body[POSIX_GROUP_URN] = {names.GID: record.number}
            usernames = res.member_usernames or {}
            for member in body.get("members") or ():
                if member.get("value") in usernames:
                    member[names.MEMBER_USERNAME] = usernames[member["value"]]
        else:
            username = record.username or derive_username(str(res.doc.get("userName", "")))
            block: dict[str, Any] = {
                names.UID: record.number,
                names.GID: record.number,
                names.USERNAME: username,
                names.HOME: f"{self.settings.home}/{username}",
                names.SHELL: self.settings.shell,
            }
            if res.doc.get("active") is not False:
                keys = [key for key in map(_valid_or_none, self.source_keys(res.doc)) if key is not None]
                if keys:
                    block[names.SSH_KEYS] = keys
            body[POSIX_USER_URN] = block
        body["schemas"] = [*body["schemas"], POSIX_USER_URN if res.kind == "User" else POSIX_GROUP_URN]

    # -- the tenant setting --

    def set_enabled(self, store: Store, tenant: str, enabled: bool) -> int:
        """Turn a tenant's POSIX identities on or off; turning on allocates ids for what has none yet.

        Returns how many ids were allocated. Any userName without a usable or free POSIX name, or an
        invalid SSH key, fails the whole change (nothing is allocated) with every problem listed.
        """
        if enabled and not self.settings.on:
            raise ValueError("POSIX is off for this server (posix: false); turn it on in the server config first")
        with store.write(tenant) as session:
            session.set_posix_enabled(enabled)
            if not enabled:
                return 0
            return self._backfill(session)

    def _backfill(self, session: Session) -> int:
        problems: list[str] = []
        allocated = 0
        for kind in ("User", "Group"):
            for res in list(session.scan(kind)):
                if res.posix is not None:
                    continue
                try:
                    if kind == "User":
                        found = list(self._problems(res.doc))
                        if found:
                            problems.extend(f"user {res.doc.get('userName')!r}: {p}" for p in found)
                            continue
                    self.record(session, kind, res.id, res.doc)
                    allocated += 1
                except ScimError as exc:
                    problems.append(
                        f"{kind.lower()} {res.doc.get('userName') or res.doc.get('displayName')!r}: {exc.detail}"
                    )
        if problems:
            shown = "\n  ".join(problems[:20]) + ("\n  …" if len(problems) > 20 else "")
            raise ValueError(f"cannot turn POSIX on: {len(problems)} problem(s), nothing was changed:\n  {shown}")
        return allocated


def _valid_or_none(line: str) -> str | None:
    """A stored key that is no longer valid (written while POSIX was off) is left out, never served."""
    try:
        return parse_ssh_key(line)
    except ValueError:
        return None
