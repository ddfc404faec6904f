"""POSIX identities a cluster reads (nsscache's SCIM source, CoreWeave SUNK): ids the server assigns once
and never changes or hands out again, and group members a group map can be built from.

These checks run when the server advertises the POSIX user extension in /Schemas; otherwise they are
skipped with that reason. Facts: docs/domain.md §1.3-§1.4 (what nsscache reads) and §4 (uid/gid
practice: allocate once, immutable, never reuse).
"""

from __future__ import annotations

import json
import re
from typing import Any

from conformance.context import CheckContext
from conformance.model import Level
from conformance.references import NSSCACHE_SCIM, OKTA_CRUD_TEST, SLURM_NSS
from conformance.registry import Suite
from scimcore import urns
from scimcore.schemas.posix import GID, HOME, MEMBER_USERNAME, POSIX_GROUP_URN, POSIX_USER_URN, SHELL, UID, USERNAME

SUITE = Suite("posix")

POSIX_REF = "docs/domain.md §4 (allocate once inside a transaction, immutable, never reused)"
NSS_REF = "docs/domain.md §1.4 (nsscache's passwd and group maps)"
_USERNAME = re.compile(r"^[a-z_][a-z0-9_-]*$")


def _require_posix(ctx: CheckContext) -> None:
    doc = ctx.scim.get(f"/Schemas/{POSIX_USER_URN}")
    if doc.status_code != 200:
        listed = ctx.scim.get("/Schemas")
        ids = [item.get("id") for item in (listed.json().get("Resources") or [])] if listed.status_code == 200 else []
        if POSIX_USER_URN not in ids:
            ctx.skip(f"the server does not advertise the POSIX extension {POSIX_USER_URN} in /Schemas")


def _posix(ctx: CheckContext, doc: dict[str, Any], urn: str = POSIX_USER_URN) -> dict[str, Any]:
    block = doc.get(urn)
    ctx.expect(
        isinstance(block, dict),
        f"the resource carries no {urn} block",
        expected=f'"{urn}": {{...}}',
        actual=json.dumps(sorted(doc)),
    )
    assert isinstance(block, dict)
    return block


def _uid(ctx: CheckContext, path: str) -> int:
    block = _posix(ctx, ctx.fetch(path))
    uid = block.get(UID)
    ctx.expect(
        isinstance(uid, int) and not isinstance(uid, bool),
        f"{UID} is missing or not an integer",
        expected="an integer",
        actual=json.dumps(uid),
    )
    assert isinstance(uid, int)
    return uid


def _patch(ctx: CheckContext, path: str, *operations: dict[str, Any]) -> None:
    response = ctx.scim.patch(path, {"schemas": [urns.PATCH_OP], "Operations": list(operations)})
    ctx.expect_status(response, 200, 204)


@SUITE.check(
    "posix-user-identity",
    "A created user gets an integer uidNumber and gidNumber, a valid username, a home directory and a shell",
    level=Level.MUST,
    ref=(
        f"nsscache reads the passwd and group maps from SCIM: {NSSCACHE_SCIM}; docs/posix.md; "
        "docs/domain.md §4 (allocate once, immutable, never reused)"
    ),
    tags={"posix", "nsscache"},
)
def user_identity(ctx: CheckContext) -> None:
    _require_posix(ctx)
    user = ctx.create_user()
    block = _posix(ctx, ctx.fetch(f"/Users/{user['id']}"))
    for key in (UID, GID):
        value = block.get(key)
        ctx.expect(
            isinstance(value, int) and not isinstance(value, bool) and value > 0,
            f"{key} is missing or not a positive integer",
            expected="a positive integer",
            actual=json.dumps(value),
        )
    name = block.get(USERNAME)
    ctx.expect(
        isinstance(name, str) and _USERNAME.match(name) and len(name) <= 32,
        "username is missing or not a portable POSIX login name",
        expected="^[a-z_][a-z0-9_-]*$, at most 32 characters",
        actual=json.dumps(name),
    )
    for key in (HOME, SHELL):
        ctx.expect(
            isinstance(block.get(key), str) and str(block.get(key)).startswith("/"),
            f"{key} is missing or not an absolute path",
            expected="an absolute path",
            actual=json.dumps(block.get(key)),
        )


@SUITE.check(
    "posix-uid-unique",
    "Two users get two different uids",
    level=Level.MUST,
    ref=f"One uid per user across the cluster: {SLURM_NSS}; docs/posix.md; docs/domain.md §4",
    tags={"posix"},
)
def uid_unique(ctx: CheckContext) -> None:
    _require_posix(ctx)
    first, second = ctx.create_user(), ctx.create_user()
    uids = [_uid(ctx, f"/Users/{first['id']}"), _uid(ctx, f"/Users/{second['id']}")]
    ctx.expect(uids[0] != uids[1], "two users share a uid", expected="two different uids", actual=json.dumps(uids))


@SUITE.check(
    "posix-uid-stable",
    "A user's uid survives a rename, a deactivation and a reactivation",
    level=Level.MUST,
    ref=(
        f"A cluster keeps files by uid: {SLURM_NSS}; "
        f"deactivate and reactivate keep the SCIM id: {OKTA_CRUD_TEST}; docs/domain.md §4; "
        "docs/okta-idp.md §6 and docs/entra-idp.md §3.3"
    ),
    tags={"posix"},
)
def uid_stable(ctx: CheckContext) -> None:
    _require_posix(ctx)
    user = ctx.create_user()
    path = f"/Users/{user['id']}"
    before = _uid(ctx, path)
    renamed = ctx.user_body(ctx.name("renamed") + "@example.com")
    ctx.expect_status(ctx.scim.put(path, renamed), 200)
    _patch(ctx, path, {"op": "replace", "path": "active", "value": False})
    _patch(ctx, path, {"op": "replace", "path": "active", "value": True})
    after = _uid(ctx, path)
    ctx.expect(
        after == before,
        "the uid changed over rename, deactivate and reactivate",
        expected=str(before),
        actual=str(after),
    )


@SUITE.check(
    "posix-uid-read-only",
    "A uidNumber sent by the client in a PUT is ignored: the server's uid stays",
    level=Level.MUST,
    ref=(
        "RFC 7644 §3.5.1 (readOnly values in a PUT SHALL be ignored); RFC 7643 §7 (mutability readOnly); "
        "docs/domain.md §4"
    ),
    tags={"posix"},
)
def uid_read_only(ctx: CheckContext) -> None:
    _require_posix(ctx)
    user = ctx.create_user()
    path = f"/Users/{user['id']}"
    current = ctx.fetch(path)
    uid = _uid(ctx, path)
    current[POSIX_USER_URN] = {**_posix(ctx, current), UID: uid + 7919}
    ctx.expect_status(ctx.scim.put(path, current), 200)
    ctx.expect(
        _uid(ctx, path) == uid,
        "the client's uidNumber replaced the server's",
        expected=str(uid),
        actual=str(_uid(ctx, path)),
    )


@SUITE.check(
    "posix-uid-never-reused",
    "A deleted user's uid is not handed to the next user, even one with the same userName",
    level=Level.MUST,
    ref=f"A reused uid gives a new user the old one's files: {SLURM_NSS}; docs/domain.md §4; docs/posix.md",
    tags={"posix"},
)
def uid_never_reused(ctx: CheckContext) -> None:
    _require_posix(ctx)
    user = ctx.create_user()
    path = f"/Users/{user['id']}"
    old = _uid(ctx, path)
    ctx.expect_status(ctx.scim.delete(path), 204)
    ctx.forget(path)
    again = ctx.create_user(user["userName"])
    new = _uid(ctx, f"/Users/{again['id']}")
    ctx.expect(
        new != old, "the deleted user's uid was handed out again", expected=f"a uid other than {old}", actual=str(new)
    )


@SUITE.check(
    "posix-group-gid-and-member-usernames",
    "A group gets a gidNumber and its members carry the username a group map is built from",
    level=Level.SHOULD,
    ref=(
        f"nsscache skips groups without a gid and reads members through a username sub-attribute: {NSSCACHE_SCIM}; "
        "docs/domain.md §1.4"
    ),
    tags={"posix", "nsscache", "groups"},
)
def group_member_usernames(ctx: CheckContext) -> None:
    _require_posix(ctx)
    user = ctx.create_user()
    group = ctx.create_group(members=[user["id"]])
    doc = ctx.fetch(f"/Groups/{group['id']}")
    gid = _posix(ctx, doc, POSIX_GROUP_URN).get(GID)
    ctx.expect(
        isinstance(gid, int) and not isinstance(gid, bool),
        "the group has no integer gidNumber",
        expected="an integer",
        actual=json.dumps(gid),
    )
    expected = _posix(ctx, ctx.fetch(f"/Users/{user['id']}")).get(USERNAME)
    names = [member.get(MEMBER_USERNAME) for member in doc.get("members") or [] if isinstance(member, dict)]
    ctx.expect(
        names == [expected],
        "the group's member does not carry its username",
        expected=json.dumps([expected]),
        actual=json.dumps(names),
    )
