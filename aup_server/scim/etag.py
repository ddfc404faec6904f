"""Resource versions as weak ETags (RFC 7644 §3.14) and If-Match / If-None-Match evaluation (RFC 9110 §13)."""

from __future__ import annotations

from aup_server.errors import PreconditionFailedError


def etag(version: int) -> str:
    """The ETag for a version counter; meta.version carries the same string."""
    return f'W/"{version}"'


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def matches(header: str, current: str) -> bool:
    """Weak comparison of ``current`` against a list header value; ``*`` matches any existing resource."""
    wanted = _opaque(current)
    return any(tag == "*" or _opaque(tag) == wanted for tag in _tags(header))


def check_if_match(header: str | None, current: str) -> None:
    """412 when an If-Match precondition names no current version."""
    if header is not None and not matches(header, current):
        raise PreconditionFailedError(
            f"If-Match {header} does not match the current version {current}; read the resource again and retry"
        )


def not_modified(header: str | None, current: str) -> bool:
    """True when If-None-Match names the current version, so GET may answer 304."""
    return header is not None and matches(header, current)
