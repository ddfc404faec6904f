"""Groups and membership (RFC 7643 §4.2; RFC 7644 §3.3-§3.6)."""

from __future__ import annotations

import json

from conformance.context import CheckContext
from conformance.helpers import MISSING_ID, member_ids
from conformance.model import Level
from conformance.registry import Suite

SUITE = Suite("rfc")


@SUITE.check(
    "rfc7644-3.3-create-group",
    "POST /Groups with members creates the group: 201 with id and the members sent",
    level=Level.MUST,
    ref="RFC 7644 §3.3; RFC 7643 §4.2",
    tags={"groups", "crud"},
)
def create_group(ctx: CheckContext) -> None:
    user = ctx.create_user()
    group = ctx.create_group(members=[user["id"]])
    doc = ctx.fetch(f"/Groups/{group['id']}")
    ctx.expect(
        member_ids(doc) == {user["id"]},
        "the group does not hold the member it was created with",
        expected=json.dumps([user["id"]]),
        actual=json.dumps(sorted(member_ids(doc))),
    )
    meta = doc.get("meta") or {}
    ctx.expect(
        meta.get("resourceType") == "Group",
        "meta.resourceType is not 'Group'",
        expected="Group",
        actual=json.dumps(meta.get("resourceType")),
    )


@SUITE.check(
    "rfc7643-4.2-member-ref",
    "Group members carry value and the member's $ref or display",
    level=Level.SHOULD,
    ref="RFC 7643 §4.2 (members: value, $ref, display)",
    tags={"groups"},
)
def member_reference(ctx: CheckContext) -> None:
    user = ctx.create_user()
    group = ctx.create_group(members=[user["id"]])
    members = ctx.fetch(f"/Groups/{group['id']}").get("members") or []
    ctx.expect(members, "the group lists no members", expected="one member", actual="[]")
    first = members[0] if isinstance(members[0], dict) else {}
    ctx.expect(
        first.get("$ref") or first.get("display"),
        "the member has neither $ref nor display",
        expected='{"value": ..., "$ref": ".../Users/<id>"}',
        actual=json.dumps(first),
    )


@SUITE.check(
    "rfc7644-3.5.1-put-group-members",
    "PUT /Groups/{id} replaces the member list",
    level=Level.MUST,
    ref="RFC 7644 §3.5.1",
    tags={"groups", "put"},
)
def put_group(ctx: CheckContext) -> None:
    first, second = ctx.create_user(), ctx.create_user()
    group = ctx.create_group(members=[first["id"]])
    body = {
        "schemas": group.get("schemas") or [],
        "displayName": group["displayName"],
        "members": [{"value": second["id"]}],
    }
    ctx.obj(ctx.scim.put(f"/Groups/{group['id']}", body))
    doc = ctx.fetch(f"/Groups/{group['id']}")
    ctx.expect(
        member_ids(doc) == {second["id"]},
        "PUT did not replace the members",
        expected=json.dumps([second["id"]]),
        actual=json.dumps(sorted(member_ids(doc))),
    )


@SUITE.check(
    "rfc7644-3.6-delete-group",
    "DELETE /Groups/{id} answers 204, the group is gone and its members remain",
    level=Level.MUST,
    ref="RFC 7644 §3.6",
    tags={"groups", "crud", "delete"},
)
def delete_group(ctx: CheckContext) -> None:
    user = ctx.create_user()
    group = ctx.create_group(members=[user["id"]])
    path = f"/Groups/{group['id']}"
    ctx.expect_status(ctx.scim.delete(path), 204)
    ctx.forget(path)
    ctx.expect_error(ctx.scim.get(path), 404)
    ctx.fetch(f"/Users/{user['id']}")


@SUITE.check(
    "rfc7644-3.6-deleted-user-leaves-groups",
    "A deleted user no longer appears among a group's members",
    level=Level.SHOULD,
    ref="RFC 7644 §3.6 (a deleted resource is omitted from later results); RFC 7643 §4.2 (members reference resources)",
    tags={"groups", "delete"},
)
def deleted_member(ctx: CheckContext) -> None:
    keep, gone = ctx.create_user(), ctx.create_user()
    group = ctx.create_group(members=[keep["id"], gone["id"]])
    ctx.expect_status(ctx.scim.delete(f"/Users/{gone['id']}"), 204)
    ctx.forget(f"/Users/{gone['id']}")
    doc = ctx.fetch(f"/Groups/{group['id']}")
    ctx.expect(
        member_ids(doc) == {keep["id"]},
        "the deleted user is still a member",
        expected=json.dumps([keep["id"]]),
        actual=json.dumps(sorted(member_ids(doc))),
    )


@SUITE.check(
    "rfc7644-3.12-group-missing-404",
    "GET of an unknown group answers 404 with a SCIM Error",
    level=Level.MUST,
    ref="RFC 7644 §3.12",
    tags={"groups", "errors"},
)
def group_missing(ctx: CheckContext) -> None:
    ctx.expect_error(ctx.scim.get(f"/Groups/{MISSING_ID}"), 404)


@SUITE.check(
    "rfc7643-4.1.2-user-groups",
    "A user's read-only 'groups' lists the groups it is a member of",
    level=Level.SHOULD,
    ref="RFC 7643 §4.1.2 (groups: readOnly, direct and indirect memberships)",
    tags={"groups", "users"},
)
def user_groups(ctx: CheckContext) -> None:
    user = ctx.create_user()
    group = ctx.create_group(members=[user["id"]])
    doc = ctx.fetch(f"/Users/{user['id']}")
    listed = {str(item.get("value")) for item in doc.get("groups") or [] if isinstance(item, dict)}
    ctx.expect(
        group["id"] in listed,
        "the user's groups do not include its group",
        expected=json.dumps([group["id"]]),
        actual=json.dumps(sorted(listed)),
    )
