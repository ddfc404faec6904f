"""Figure 6, a peer in the same run: python-scim's scim2-server 0.8.3, the in-memory reference server.

It is installed only in the bench environment (``tox -e bench``) and run with its own command on a
loopback port; it is filled through its /Bulk endpoint (RFC 7644 §3.7) and measured with the same
client and the same requests as ``aup serve``.
"""

from __future__ import annotations

import secrets
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import httpx

from bench.common import Server, expect, free_port, server_process
from bench.population import user_doc
from scimcore import urns
from scimcore.target import Bearer, Target

PEER = "scim2-server"
BULK_SIZE = 500  # under its bulk maxPayloadSize of 1 MiB
MEMBERS_PER_PATCH = 5_000  # keeps each fill PATCH under the same 1 MiB


def executable() -> str | None:
    """The peer's command next to this interpreter (the bench venv), else on PATH; None when not installed."""
    local = Path(sys.executable).with_name(PEER)
    return str(local) if local.exists() else shutil.which(PEER)


def version() -> str | None:
    try:
        return metadata.version(PEER)
    except metadata.PackageNotFoundError:
        return None


@contextmanager
def peer_server() -> Iterator[tuple[Server, str, str]]:
    """The peer on a free loopback port with a random bearer token: (process, base URL, token)."""
    command = executable()
    if command is None:
        raise RuntimeError(f"{PEER} is not installed; run the bench with `tox -e bench`")
    token = secrets.token_urlsafe(24)
    port = free_port()
    cmd = [command, "--hostname", "127.0.0.1", "--port", str(port), "--bearer-token", token]
    with server_process(cmd, r"Serving SCIM on (?P<url>http://\S+)") as server:
        yield server, server.match.group("url"), token


def client(base_url: str, token: str) -> httpx.Client:
    return Target(base_url, Bearer(token), timeout=600.0).http()


def bulk_users(http: httpx.Client, count: int, start: int = 0) -> list[str]:
    """Create users through /Bulk; their ids in order."""
    ids: list[str] = []
    for first in range(start, start + count, BULK_SIZE):
        numbers = range(first, min(first + BULK_SIZE, start + count))
        operations = [
            {"method": "POST", "path": "/Users", "bulkId": f"u{n}", "data": {"schemas": [urns.USER], **user_doc(n)}}
            for n in numbers
        ]
        answer = expect(http.post("/Bulk", json={"schemas": [urns.BULK_REQUEST], "Operations": operations}), 200)
        results = answer.json()["Operations"]
        failed = [op for op in results if not str(op.get("status", "")).startswith("2")]
        if failed:
            raise RuntimeError(f"{PEER} refused bulk creates: {failed[:2]}")
        ids.extend(str(op["location"]).rstrip("/").rsplit("/", 1)[-1] for op in results)
    return ids


def group_with(http: httpx.Client, name: str, member_ids: list[str]) -> str:
    """An empty group, then its members added in PATCHes of MEMBERS_PER_PATCH."""
    created = expect(http.post("/Groups", json={"schemas": [urns.GROUP], "displayName": name}), 201).json()
    gid = str(created["id"])
    for first in range(0, len(member_ids), MEMBERS_PER_PATCH):
        refs = [{"value": mid} for mid in member_ids[first : first + MEMBERS_PER_PATCH]]
        body = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": refs}]}
        expect(http.patch(f"/Groups/{gid}", json=body), 200, 204)
    return gid
