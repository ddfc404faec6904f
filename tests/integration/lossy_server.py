"""A SCIM server that acknowledges group member adds and drops them: what ``aup load`` must catch.

``python tests/integration/lossy_server.py DB`` serves the reference app on a free loopback port, except that a PATCH
to a group whose operations add members is answered 204 and never applied (an acknowledged write lost).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from typing import Any

from aup.serve import run_server
from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store


def _adds_members(body: bytes) -> bool:
    try:
        operations = json.loads(body).get("Operations") or []
    except (ValueError, AttributeError):
        return False
    return any(
        str(op.get("op", "")).lower() == "add"
        and ("members" in str(op.get("path", "")).lower() or "members" in (op.get("value") or {}))
        for op in operations
        if isinstance(op, dict)
    )


def lossy(app: Any) -> Callable[..., Iterable[bytes]]:
    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "PATCH" and "/Groups/" in environ.get("PATH_INFO", ""):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            if _adds_members(body):
                start_response("204 No Content", [])
                return [b""]
            import io

            environ["wsgi.input"] = io.BytesIO(body)
        result: Iterable[bytes] = app(environ, start_response)
        return result

    return middleware


def main() -> None:
    store = open_store(ServerConfig(db=sys.argv[1]))
    token = issue_token(store, "lossy")
    app = create_app(store=store)

    def ready(host: str, port: int) -> None:
        print(f"token {token}", flush=True)
        print(f"lossy serving on http://{host}:{port}", flush=True)

    run_server(lossy(app), "127.0.0.1", 0, 4, ready)


if __name__ == "__main__":
    main()
