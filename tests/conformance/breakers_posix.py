"""For each check of the ``posix`` suite, the server fault that must make it fail (see faulty.py)."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from scimcore.schemas.posix import MEMBER_USERNAME, POSIX_USER_URN, UID, USERNAME
from tests.conformance.faulty import Breaker, State, body_of, edit_json, matches, set_json

USER = r"/Users/[^/.]+$"
GROUP = r"/Groups/[^/.]+$"


def _user_block(edit: Callable[[dict[str, Any], Request, State], None]) -> Breaker:
    """Rewrite the POSIX block of every single-user response (POST, GET, PUT)."""

    def hook(req: Request, resp: Response, state: State) -> Response | None:
        if not (matches(req, None, USER) or matches(req, "POST", r"/Users$")) or resp.status_code not in (200, 201):
            return None
        body = body_of(resp)
        if not isinstance(body, dict) or not isinstance(body.get(POSIX_USER_URN), dict):
            return None
        edit(body[POSIX_USER_URN], req, state)
        return set_json(resp, body)

    return Breaker(response=hook)


def _uid_from_user_name() -> Breaker:
    """uid derived from the userName: a re-created user gets the deleted one's uid back."""

    def hook(req: Request, resp: Response, state: State) -> Response | None:
        if not (matches(req, None, USER) or matches(req, "POST", r"/Users$")) or resp.status_code not in (200, 201):
            return None
        body = body_of(resp)
        if isinstance(body, dict) and isinstance(body.get(POSIX_USER_URN), dict):
            body[POSIX_USER_URN][UID] = 20000 + zlib.crc32(str(body.get("userName")).lower().encode()) % 10000
            return set_json(resp, body)
        return None

    return Breaker(response=hook)


def _uid_changes_after_writes() -> Breaker:
    """Every write renumbers the user (a uid recomputed from a mutable value)."""

    def on_request(req: Request, state: State) -> None:
        if req.method in ("PUT", "PATCH") and matches(req, None, USER):
            state.memory["writes"] = state.memory.get("writes", 0) + 1

    def edit(block: dict[str, Any], req: Request, state: State) -> None:
        block[UID] = int(block[UID]) + state.memory.get("writes", 0)

    return Breaker(on_request, _user_block(edit).response)


def _client_uid_kept() -> Breaker:
    """A uidNumber sent in a PUT is stored and served."""

    def on_request(req: Request, state: State) -> None:
        body = body_of(req)
        if req.method == "PUT" and isinstance(body, dict) and isinstance(body.get(POSIX_USER_URN), dict):
            state.memory[req.path] = body[POSIX_USER_URN].get(UID)

    def edit(block: dict[str, Any], req: Request, state: State) -> None:
        if req.path in state.memory:
            block[UID] = state.memory[req.path]

    return Breaker(on_request, _user_block(edit).response)


def _strip_member_usernames(body: Any) -> None:
    for member in body.get("members") or []:
        member.pop(MEMBER_USERNAME, None)


BREAKERS: dict[str, Breaker] = {
    "posix-user-identity": _user_block(lambda block, req, state: block.update({USERNAME: "Not A Login!"})),
    "posix-uid-unique": _user_block(lambda block, req, state: block.update({UID: 10000})),
    "posix-uid-stable": _uid_changes_after_writes(),
    "posix-uid-read-only": _client_uid_kept(),
    "posix-uid-never-reused": _uid_from_user_name(),
    "posix-group-gid-and-member-usernames": edit_json("GET", GROUP, _strip_member_usernames),
}

__all__ = ["BREAKERS"]
