"""Server settings with safe defaults; ``create_app(config)`` takes this object or a mapping of its fields."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from scimcore.schemas import Schema, schema_from_scim
from scimcore.schemas.posix import DEFAULT_SSH_KEYS_SOURCE


@dataclass(frozen=True)
class ServerConfig:
    """Everything a deployment may tune. Limits follow docs/domain.md §2 and §5."""

    db: str = ":memory:"
    default_count: int = 100  # page size when the client sends no count (nsscache never does, §1.4)
    max_count: int = 1000  # advertised as filter.maxResults; larger counts are clamped (Slack's cap)
    max_body_bytes: int = 4 * 1024 * 1024
    max_filter_nodes: int = 200  # Databricks' cap (§2.1)
    max_patch_operations: int = 1000
    max_member_changes: int = 10_000  # per PATCH; more is 413 (Miro answers 413 past 8000)
    # Bounded memory (issue #17). A stored resource's JSON (members aside, they are rows) and each
    # multi-valued attribute's length are capped; a list page carries at most max_list_members members
    # in all (a bigger group alone on a page is cut there): GET the group itself for all of them.
    max_resource_bytes: int = 256 * 1024
    max_multi_valued: int = 1000
    max_list_members: int = 10_000
    cursor_timeout: int = 3600  # seconds a cursor stays valid between pages (RFC 9865 §4 cursorTimeout)
    bulk_max_operations: int = 1000  # operations per /Bulk request (RFC 7644 §3.7.4); the payload cap is max_body_bytes
    unique_group_names: bool = True
    allow_nested_groups: bool = False  # AUP supports only flat groups (§1.1)
    rate_limit_per_minute: int | None = None  # per token; None turns limiting off (Slack: 180 writes/min, §2.1)
    rate_limit_burst: int | None = None  # bucket size; None: the per-minute rate, at most 20 (ratelimit.py)
    extensions: tuple[tuple[str, Schema], ...] = field(default=())
    # POSIX identities for clusters (docs/domain.md §1.3, §4; docs/posix.md).
    posix: bool = True  # serve the POSIX extension; each tenant may still have it off
    posix_new_tenants: bool = True  # the setting a tenant starts with
    posix_uid_range: tuple[int, int] = (10000, 29999)  # Crusoe's documented user range (§4)
    posix_gid_range: tuple[int, int] = (50000, 65533)  # Crusoe's documented group range (§4)
    posix_home: str = "/home"
    posix_shell: str = "/bin/bash"
    posix_ssh_keys_from: str | None = DEFAULT_SSH_KEYS_SOURCE  # "<extension URN>:<attribute>", None: no keys
    # OAuth 2.0 client credentials clients, "CLIENT_ID:SECRET[@TENANT]": enables POST /oauth/token (oauth.py)
    oauth_clients: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ServerConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown server setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values = dict(data)
        if "extensions" in values:
            values["extensions"] = tuple(_extension(item) for item in values["extensions"])
        if isinstance(values.get("oauth_clients"), list):
            values["oauth_clients"] = tuple(values["oauth_clients"])
        for name in ("posix_uid_range", "posix_gid_range"):
            if isinstance(values.get(name), list):  # YAML and JSON have no tuples
                values[name] = tuple(values[name])
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        # lazy: oauth needs auth, whose store package imports this module
        from aup_server.oauth import parse_client  # noqa: PLC0415

        for client in self.oauth_clients:
            parse_client(client)
        if not 1 <= self.default_count <= self.max_count:
            raise ValueError("default_count must be between 1 and max_count")
        if self.rate_limit_per_minute is not None and self.rate_limit_per_minute < 1:
            raise ValueError("rate_limit_per_minute must be positive (or unset to turn limiting off)")
        if self.rate_limit_burst is not None:
            if self.rate_limit_per_minute is None:
                raise ValueError(
                    "rate_limit_burst needs rate_limit_per_minute (a burst of an unlimited rate means nothing)"
                )
            if self.rate_limit_burst < 1:
                raise ValueError("rate_limit_burst must be positive (or unset for the default)")
        for name in (
            "max_body_bytes",
            "max_filter_nodes",
            "max_patch_operations",
            "max_member_changes",
            "max_resource_bytes",
            "max_multi_valued",
            "max_list_members",
            "cursor_timeout",
            "bulk_max_operations",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive")
        self._validate_posix()

    def _validate_posix(self) -> None:
        for name in ("posix_uid_range", "posix_gid_range"):
            value = getattr(self, name)
            if (
                not isinstance(value, tuple)
                or len(value) != 2
                or not all(isinstance(n, int) and not isinstance(n, bool) for n in value)
                or not 1 <= value[0] <= value[1] <= _MAX_POSIX_ID
            ):
                raise ValueError(f"{name} must be [first, last] with 1 <= first <= last <= {_MAX_POSIX_ID}")
        (u0, u1), (g0, g1) = self.posix_uid_range, self.posix_gid_range
        if u0 <= g1 and g0 <= u1:
            # A user's primary gid is its uid (user private group), so the ranges must not meet (§4).
            raise ValueError("posix_uid_range and posix_gid_range overlap; a user's private gid is its uid")
        for name in ("posix_home", "posix_shell"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.startswith("/") or any(c in value for c in ":\n"):
                raise ValueError(f"{name} must be an absolute path without ':' or a newline (passwd fields)")
        source = self.posix_ssh_keys_from
        if source is not None and (not source.lower().startswith("urn:") or source.rsplit(":", 1)[-1] == ""):
            raise ValueError("posix_ssh_keys_from must be '<extension schema URN>:<attribute>', or null for none")


_MAX_POSIX_ID = 2**31 - 2  # uid_t is 32 bits; 2**32 - 1 means "no id" and signed readers stop at 2**31 - 1


def _extension(item: Any) -> tuple[str, Schema]:
    """An extension entry: ``{"resourceType": "User", "schema": {RFC 7643 §7 schema}}`` or a pair."""
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Schema):
        return item[0], item[1]
    if not isinstance(item, Mapping) or "schema" not in item:
        raise ValueError("each extension needs 'resourceType' (User or Group) and 'schema' (an RFC 7643 schema)")
    resource_type = item.get("resourceType", "User")
    if resource_type not in ("User", "Group"):
        raise ValueError(f"extension resourceType must be User or Group, not {resource_type!r}")
    return resource_type, schema_from_scim(dict(item["schema"]))


def load_extension_file(path: Path) -> list[dict[str, Any]]:
    """Read extension schemas from a YAML or JSON file: one schema object, or a list of them.

    Each schema may carry ``resourceType`` (default User) beside its RFC 7643 §7 fields.
    """
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    items = data if isinstance(data, list) else [data]
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError(f"{path}: each extension must be a mapping with id and attributes")
        schema = {k: v for k, v in item.items() if k != "resourceType"}
        out.append({"resourceType": item.get("resourceType", "User"), "schema": schema})
    return out


def load_settings_file(path: Path) -> dict[str, Any]:
    """Server settings from a YAML or JSON mapping of ``ServerConfig`` field names (``aup serve --config``);
    ValueError names the file when it is not such a mapping. Unknown names are refused by ``from_mapping``."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read server settings {path}: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: server settings must be a mapping of setting names to values")
    return {str(key): value for key, value in data.items()}
