"""Request bodies every SCIM client builds the same way (RFC 7644 §3.5.2), whatever its dialect."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scimcore import urns


def patch_request(operations: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A PatchOp message (RFC 7644 §3.5.2) with the operations in the order given."""
    return {"schemas": [urns.PATCH_OP], "Operations": list(operations)}


def member_ref(scim_id: str, display: str | None) -> dict[str, Any]:
    """A group member reference: the member's SCIM id and its display text (RFC 7643 §4.2)."""
    return {"value": scim_id, "display": display}


def ordered(doc: dict[str, Any], first: Sequence[str], last: Sequence[str] = ()) -> dict[str, Any]:
    """``doc`` with the keys of ``first`` leading, those of ``last`` trailing, the rest in between."""
    middle = [key for key in doc if key not in first and key not in last]
    keys = [key for key in first if key in doc] + middle + [key for key in last if key in doc]
    return {key: doc[key] for key in keys}
