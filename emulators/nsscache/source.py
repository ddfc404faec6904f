"""The SCIM source of google/nsscache: its request pattern and how it turns resources into NSS entries.

What it does (docs/domain.md §1.4, read from ``nss_cache/sources/scimsource.py``): GET
``/Users`` and ``/Groups`` with a bearer token, adding only ``startIndex``; it stops when
``startIndex + itemsPerPage - 1 >= totalResults`` using the numbers the server reports. Each config
path is slash-separated and may start with a schema URN. Where nsscache would silently drop or loop,
this emulator records a warning or fails instead, so a test sees what a cluster would get.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from scimcore import urns
from scimcore.client import ScimClient
from scimcore.schemas.posix import GID, HOME, MEMBER_USERNAME, POSIX_GROUP_URN, POSIX_USER_URN, SHELL, SSH_KEYS, UID
from scimcore.schemas.posix import USERNAME as POSIX_USERNAME
from scimcore.target import Target

ENTERPRISE = urns.ENTERPRISE_USER
MAX_PAGES = 100_000  # a guard nsscache lacks: a server that never reaches totalResults would page forever


class NsscacheError(Exception):
    """The source could not be read completely; nsscache would have written a partial cache."""


@dataclass(frozen=True)
class ScimPaths:
    """The ``scim_path_*`` settings of nsscache.conf's [passwd], [group] and [sshkey] sections."""

    username: str
    uid: str
    gid: str
    home_directory: str
    login_shell: str
    group_gid: str
    group_member_username: str
    ssh_keys: str
    default_shell: str = "/bin/bash"


# The paths that read aup's POSIX extension (docs/posix.md has the same as an nsscache.conf).
AUP_PATHS = ScimPaths(
    username=f"{POSIX_USER_URN}/{POSIX_USERNAME}",
    uid=f"{POSIX_USER_URN}/{UID}",
    gid=f"{POSIX_USER_URN}/{GID}",
    home_directory=f"{POSIX_USER_URN}/{HOME}",
    login_shell=f"{POSIX_USER_URN}/{SHELL}",
    group_gid=f"{POSIX_GROUP_URN}/{GID}",
    group_member_username=f"members/{MEMBER_USERNAME}",
    ssh_keys=f"{POSIX_USER_URN}/{SSH_KEYS}",
)


@dataclass(frozen=True)
class PasswdEntry:
    name: str
    uid: int
    gid: int
    gecos: str
    home: str
    shell: str


@dataclass(frozen=True)
class GroupEntry:
    name: str
    gid: int
    members: tuple[str, ...]


@dataclass
class Maps:
    """The three maps, keyed by name in source order (a later entry with the same name replaces one, as
    in nsscache's ``Map.Add``), plus each entry's SCIM id and what looked wrong on the way."""

    passwd: dict[str, PasswdEntry] = field(default_factory=dict)
    group: dict[str, GroupEntry] = field(default_factory=dict)
    sshkey: dict[str, tuple[str, ...]] = field(default_factory=dict)
    user_ids: dict[str, str] = field(default_factory=dict)  # SCIM id -> passwd name
    group_ids: dict[str, str] = field(default_factory=dict)  # SCIM id -> group name
    warnings: list[str] = field(default_factory=list)


def nsscache_client(target: Target) -> ScimClient:
    """A client that sends what nsscache sends: its user agent, SCIM media types and the target's bearer token."""
    http = target.http(headers=(("User-Agent", "nsscache"), ("Accept", urns.MEDIA_TYPE)))
    return ScimClient(http, headers=(("Content-Type", urns.MEDIA_TYPE), ("Accept", urns.MEDIA_TYPE)))


def fetch_maps(scim: ScimClient, paths: ScimPaths = AUP_PATHS) -> Maps:
    """Read every user and group and build the maps; NsscacheError if any page fails."""
    maps = Maps()
    for user in _resources(scim, "/Users", maps.warnings):
        _add_user(maps, user, paths)
    for group in _resources(scim, "/Groups", maps.warnings):
        _add_group(maps, group, paths)
    return maps


def _resources(scim: ScimClient, endpoint: str, warnings: list[str]) -> Iterator[dict[str, Any]]:
    start, seen = 1, set()
    for _ in range(MAX_PAGES):
        try:
            response = scim.get(endpoint, [("startIndex", start)])
        except httpx.HTTPError as exc:
            raise NsscacheError(f"GET {endpoint}?startIndex={start} failed: {exc}") from None
        if response.status_code != 200:
            raise NsscacheError(f"GET {endpoint}?startIndex={start} answered {response.status_code}: {response.text}")
        try:
            page = response.json()
            total, per_page = int(page.get("totalResults", 0)), int(page.get("itemsPerPage", 0))
            start_index = int(page.get("startIndex", 1))
            resources = list(page.get("Resources") or [])
        except (ValueError, TypeError, AttributeError) as exc:
            raise NsscacheError(f"GET {endpoint}?startIndex={start} is not a SCIM ListResponse: {exc}") from None
        if per_page != len(resources):
            warnings.append(
                f"{endpoint} startIndex={start}: itemsPerPage is {per_page} but {len(resources)} resources came; "
                "nsscache trusts itemsPerPage, so it skips or repeats entries"
            )
        for resource in resources:
            rid = resource.get("id")
            if rid in seen:
                warnings.append(f"{endpoint}: {rid} came twice while paging (unstable order)")
            seen.add(rid)
            yield resource
        if start_index + per_page - 1 >= total:
            return
        if per_page <= 0:
            raise NsscacheError(
                f"{endpoint} startIndex={start}: itemsPerPage 0 before totalResults {total} was reached; "
                "nsscache would ask for the same page forever"
            )
        start = start_index + per_page
    raise NsscacheError(f"{endpoint}: more than {MAX_PAGES} pages")


def extract(data: Any, path: str) -> Any:
    """nsscache's ``_ExtractFromPath``: walk dicts along a slash-separated path; None when it breaks."""
    current = data
    for part in path.split("/"):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
        if current is None:
            return None
    return current


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _username(user: dict[str, Any], paths: ScimPaths) -> str | None:
    name = extract(user, paths.username) or user.get("userName")
    return name if isinstance(name, str) and name else None


def _add_user(maps: Maps, user: dict[str, Any], paths: ScimPaths) -> None:
    name = _username(user, paths)
    if name is None:
        maps.warnings.append(f"user {user.get('id')}: no username, skipped")
        return
    uid = _int(extract(user, paths.uid))
    if uid is None:
        # nsscache falls back to id, externalId, then employeeNumber, each only if it parses as an int.
        fallbacks = (user.get("id"), user.get("externalId"), (user.get(ENTERPRISE) or {}).get("employeeNumber"))
        uid = next((n for n in map(_int, fallbacks) if n is not None), None)
        if uid is not None:
            maps.warnings.append(f"user {name}: uid {uid} taken from id/externalId/employeeNumber, not {paths.uid}")
    if uid is None:
        maps.warnings.append(f"user {name}: no uid, skipped (nsscache logs and drops it)")
        return
    gid = _int(extract(user, paths.gid))
    enterprise = user.get(ENTERPRISE) or {}
    home = extract(user, paths.home_directory) or enterprise.get("homeDirectory") or f"/home/{name}"
    shell = extract(user, paths.login_shell) or enterprise.get("loginShell") or paths.default_shell
    entry = PasswdEntry(name, uid, uid if gid is None else gid, _gecos(user), str(home), str(shell))
    bad = [value for value in (entry.name, entry.home, entry.shell) if ":" in value or "\n" in value]
    if bad:
        maps.warnings.append(f"user {name}: {bad[0]!r} holds ':' or a newline, which would corrupt passwd; skipped")
        return
    if name in maps.passwd:
        maps.warnings.append(f"user {name}: a second user has this name; nsscache keeps the later one")
    maps.passwd[name] = entry
    maps.user_ids[str(user.get("id"))] = name
    keys = extract(user, paths.ssh_keys)
    keys = [keys] if isinstance(keys, str) else keys if isinstance(keys, list) else []
    stripped = tuple(key.strip() for key in keys if isinstance(key, str) and key.strip())
    if stripped:
        maps.sshkey[name] = stripped
    else:
        maps.sshkey.pop(name, None)


def _gecos(user: dict[str, Any]) -> str:
    """name.formatted, else given and family name, else displayName; ':' and line breaks become spaces."""
    raw = user.get("name")
    name: dict[str, Any] = raw if isinstance(raw, dict) else {}
    text = name.get("formatted") or " ".join(p for p in (name.get("givenName"), name.get("familyName")) if p)
    text = str(text or user.get("displayName") or "")
    return "".join(" " if ch == ":" or ord(ch) < 32 else ch for ch in text)


def _add_group(maps: Maps, group: dict[str, Any], paths: ScimPaths) -> None:
    name = group.get("displayName") or group.get("name") or group.get("id")
    if not isinstance(name, str) or not name:
        maps.warnings.append(f"group {group.get('id')}: no name, skipped")
        return
    gid = _int(extract(group, paths.group_gid))
    if gid is None:
        maps.warnings.append(f"group {name}: no gid at {paths.group_gid}, skipped (nsscache drops it)")
        return
    if ":" in name or "\n" in name:
        maps.warnings.append(f"group {name!r}: ':' or a newline in the name would corrupt the group file; skipped")
        return
    maps.group[name] = GroupEntry(name, gid, tuple(_member_names(group, paths.group_member_username)))
    maps.group_ids[str(group.get("id"))] = name


def _member_names(group: dict[str, Any], path: str) -> list[str]:
    """nsscache's ``_ExtractGroupMembers``: ``members/<sub>`` or ``<sub>`` read from each member object."""
    key, _, sub = path.partition("/") if "/" in path else ("members", "", path)
    names: list[str] = []
    for member in group.get(key) or ():
        if isinstance(member, dict):
            value = extract(member, sub)
            if isinstance(value, str) and value:
                names.append(value)
        elif isinstance(member, str) and "/" not in path:
            names.append(member)
    return names
