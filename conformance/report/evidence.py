"""Evidence as text: an exchange the way an engineer reads it in a terminal or a report."""

from __future__ import annotations

import json
from typing import Any

from scimcore.wire import Exchange

BODY_LIMIT = 1200
SHOWN_HEADERS = (
    "content-type",
    "authorization",
    "location",
    "etag",
    "if-match",
    "if-none-match",
    "retry-after",
    "user-agent",
    "accept",
)


def _body(body: Any) -> str:
    if body is None:
        return ""
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return text if len(text) <= BODY_LIMIT else text[: BODY_LIMIT - 3] + "..."


def exchange_text(exchange: Exchange) -> str:
    """``> METHOD url`` with the telling headers and body, then ``< status`` with the same."""
    lines = [f"> {exchange.method} {exchange.url}"]
    lines += [f"> {name}: {value}" for name, value in exchange.request_headers if name.lower() in SHOWN_HEADERS]
    if exchange.request_body is not None:
        lines.append(f"> {_body(exchange.request_body)}")
    lines.append(f"< {exchange.status}")
    lines += [f"< {name}: {value}" for name, value in exchange.response_headers if name.lower() in SHOWN_HEADERS]
    if exchange.response_body is not None:
        lines.append(f"< {_body(exchange.response_body)}")
    return "\n".join(lines)
