"""The stored-resource limits of ``ServerConfig`` (issue #17): one check for every write, before its commit.

A resource's JSON (without ``members``, which are rows, and without server-owned ``meta``) may hold at
most ``max_resource_bytes`` bytes, and each multi-valued attribute at most ``max_multi_valued`` values,
at any depth (an extension's too). A write past either is 413 naming the limit; nothing is stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aup_server.config import ServerConfig
from aup_server.errors import PayloadTooLargeError

_NOT_STORED = frozenset({"members", "groups", "meta", "password"})


def check_resource_limits(doc: Mapping[str, Any], config: ServerConfig, kind: str = "resource") -> None:
    """Raise PayloadTooLargeError when ``doc`` (the resource as it would be stored) passes a limit."""
    stored = {key: value for key, value in doc.items() if key not in _NOT_STORED}
    _check_lengths(stored, config.max_multi_valued, kind, "")
    size = len(json.dumps(stored, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))
    if size > config.max_resource_bytes:
        raise PayloadTooLargeError(
            f"the {kind} would be {size} bytes of JSON; the limit is {config.max_resource_bytes} bytes "
            "(max_resource_bytes)"
        )


def _check_lengths(value: Any, limit: int, kind: str, path: str) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _check_lengths(item, limit, kind, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        if len(value) > limit:
            raise PayloadTooLargeError(
                f"{path} of the {kind} would hold {len(value)} values; the limit is {limit} (max_multi_valued)"
            )
        for item in value:
            _check_lengths(item, limit, kind, path)
