"""What checks of several suites share: readings of SCIM documents and ids no server hands out."""

from __future__ import annotations

from typing import Any

# an id no server assigns: reading, replacing, patching or deleting it must answer 404 (RFC 7644 §3.12)
MISSING_ID = "aup-conformance-missing-2c8d4e1f"


def member_ids(doc: dict[str, Any]) -> set[str]:
    """The ``value`` of every member of a group document (RFC 7643 §4.2)."""
    return {str(item.get("value")) for item in doc.get("members") or [] if isinstance(item, dict)}
