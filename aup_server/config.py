"""Server settings with safe defaults; ``create_app(config)`` takes this object or a mapping of its fields."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from scimcore.schemas import Schema, schema_from_scim


@dataclass(frozen=True)
class ServerConfig:
    """Everything a deployment may tune. Limits follow reference/aup_domain.md §2 and §5."""

    db: str = ":memory:"
    default_count: int = 100  # page size when the client sends no count (nsscache never does, §1.4)
    max_count: int = 1000  # advertised as filter.maxResults; larger counts are clamped (Slack's cap)
    max_body_bytes: int = 4 * 1024 * 1024
    max_filter_nodes: int = 200  # Databricks' cap (§2.1)
    max_patch_operations: int = 1000
    max_member_changes: int = 10_000  # per PATCH; more is 413 (Miro answers 413 past 8000)
    unique_group_names: bool = True
    allow_nested_groups: bool = False  # AUP supports only flat groups (§1.1)
    rate_limit_per_minute: int | None = None  # per token; None turns limiting off (Slack: 180 writes/min, §2.1)
    rate_limit_burst: int = 20
    extensions: tuple[tuple[str, Schema], ...] = field(default=())

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ServerConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown server setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values = dict(data)
        if "extensions" in values:
            values["extensions"] = tuple(_extension(item) for item in values["extensions"])
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        if not 1 <= self.default_count <= self.max_count:
            raise ValueError("default_count must be between 1 and max_count")
        if self.rate_limit_per_minute is not None and self.rate_limit_per_minute < 1:
            raise ValueError("rate_limit_per_minute must be positive (or unset to turn limiting off)")
        for name in (
            "max_body_bytes",
            "max_filter_nodes",
            "max_patch_operations",
            "max_member_changes",
            "rate_limit_burst",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive")


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
