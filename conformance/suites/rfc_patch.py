"""PATCH (RFC 7644 §3.5.2): each operation with and without a path, valuePath forms, members, and errors."""

from __future__ import annotations

import json
from typing import Any

from conformance.context import CheckContext
from conformance.helpers import MISSING_ID, member_ids
from conformance.model import Level
from conformance.registry import Suite
from scimcore import urns

SUITE = Suite("rfc")

PATCH_REF = "RFC 7644 §3.5.2"


def patch(ctx: CheckContext, path: str, *operations: dict[str, Any]) -> dict[str, Any]:
    """Send a PatchOp; 200 with the resource or 204 are both success (§3.5.2). Returns the stored resource."""
    response = ctx.scim.patch(path, {"schemas": [urns.PATCH_OP], "Operations": list(operations)})
    ctx.expect_status(response, 200, 204)
    if response.status_code == 200 and response.content:
        ctx.json(response)
    return ctx.fetch(path)


def _work_email(doc: dict[str, Any]) -> str | None:
    for item in doc.get("emails") or []:
        if isinstance(item, dict) and item.get("type") == "work":
            return str(item.get("value"))
    return None


def _register_simple(slug: str, title: str, ref: str, build: Any, verify: Any) -> None:
    def run(ctx: CheckContext) -> None:
        user = ctx.create_user(title="Engineer")
        path = f"/Users/{user['id']}"
        doc = patch(ctx, path, *build(user))
        verify(ctx, user, doc)

    run.__name__ = f"patch_{slug.replace('-', '_')}"
    SUITE.check(
        f"rfc7644-3.5.2-{slug}", f"PATCH: {title}", level=Level.MUST, ref=ref, tags={"patch"}, requires={"patch"}
    )(run)


def _expect_value(ctx: CheckContext, doc: dict[str, Any], key: str, wanted: Any, what: str) -> bool:
    ctx.expect(doc.get(key) == wanted, what, expected=json.dumps(wanted), actual=json.dumps(doc.get(key)))
    return True


_register_simple(
    "replace-path",
    "replace with a path sets one attribute",
    PATCH_REF + ".3",
    lambda user: [{"op": "replace", "path": "displayName", "value": "Replaced"}],
    lambda ctx, user, doc: _expect_value(ctx, doc, "displayName", "Replaced", "replace displayName did not apply"),
)
_register_simple(
    "replace-no-path",
    "replace without a path merges the value object",
    PATCH_REF + ".3",
    lambda user: [{"op": "replace", "value": {"displayName": "Merged", "title": "Director"}}],
    lambda ctx, user, doc: (
        _expect_value(ctx, doc, "displayName", "Merged", "replace without path did not set displayName"),
        _expect_value(ctx, doc, "title", "Director", "replace without path did not set title"),
        _expect_value(ctx, doc, "userName", user["userName"], "replace without path touched another attribute"),
    ),
)
_register_simple(
    "add-path",
    "add with a path sets a new attribute",
    PATCH_REF + ".1",
    lambda user: [{"op": "add", "path": "nickName", "value": "Countess"}],
    lambda ctx, user, doc: _expect_value(ctx, doc, "nickName", "Countess", "add nickName did not apply"),
)
_register_simple(
    "add-no-path",
    "add without a path adds the attributes of the value object",
    PATCH_REF + ".1",
    lambda user: [{"op": "add", "value": {"nickName": "Countess"}}],
    lambda ctx, user, doc: _expect_value(ctx, doc, "nickName", "Countess", "add without path did not apply"),
)
_register_simple(
    "remove-path",
    "remove with a path removes the attribute",
    PATCH_REF + ".2",
    lambda user: [{"op": "remove", "path": "title"}],
    lambda ctx, user, doc: ctx.expect(
        "title" not in doc, "remove title left the attribute", expected="no title", actual=json.dumps(doc.get("title"))
    ),
)
_register_simple(
    "sub-attribute",
    "replace of a sub-attribute (name.givenName) keeps its siblings",
    PATCH_REF + ".3",
    lambda user: [{"op": "replace", "path": "name.givenName", "value": "Augusta"}],
    lambda ctx, user, doc: ctx.expect(
        (doc.get("name") or {}).get("givenName") == "Augusta"
        and (doc.get("name") or {}).get("familyName") == user["name"]["familyName"],
        "name.givenName was not replaced alone",
        expected=json.dumps({"givenName": "Augusta", "familyName": user["name"]["familyName"]}),
        actual=json.dumps(doc.get("name")),
    ),
)
_register_simple(
    "value-path-replace",
    'replace emails[type eq "work"].value changes that one value',
    PATCH_REF + ".3",
    lambda user: [{"op": "replace", "path": 'emails[type eq "work"].value', "value": "changed@example.com"}],
    lambda ctx, user, doc: _expect_value(
        ctx, {"work": _work_email(doc)}, "work", "changed@example.com", "the work email was not replaced"
    ),
)
_register_simple(
    "value-path-remove",
    'remove emails[type eq "work"] removes the matching value',
    PATCH_REF + ".2",
    lambda user: [{"op": "remove", "path": 'emails[type eq "work"]'}],
    lambda ctx, user, doc: ctx.expect(
        _work_email(doc) is None,
        "the work email is still there",
        expected="no work email",
        actual=json.dumps(doc.get("emails")),
    ),
)
_register_simple(
    "active-false",
    "replace active false deactivates",
    PATCH_REF + ".3",
    lambda user: [{"op": "replace", "path": "active", "value": False}],
    lambda ctx, user, doc: _expect_value(ctx, doc, "active", False, "active is still true"),
)
_register_simple(
    "multiple-operations",
    "operations apply in order within one request",
    PATCH_REF + " (applied sequentially)",
    lambda user: [
        {"op": "replace", "path": "displayName", "value": "First"},
        {"op": "replace", "path": "displayName", "value": "Second"},
        {"op": "add", "path": "nickName", "value": "Nick"},
    ],
    lambda ctx, user, doc: (
        _expect_value(ctx, doc, "displayName", "Second", "the later operation did not win"),
        _expect_value(ctx, doc, "nickName", "Nick", "the third operation did not apply"),
    ),
)


@SUITE.check(
    "rfc7644-3.5.2-members-add-remove",
    "PATCH add and remove of group members changes exactly those members",
    level=Level.MUST,
    ref=PATCH_REF + ".1, .2",
    tags={"patch", "groups"},
    requires={"patch"},
)
def members_add_remove(ctx: CheckContext) -> None:
    first, second, third = ctx.create_user(), ctx.create_user(), ctx.create_user()
    group = ctx.create_group(members=[first["id"], second["id"]])
    path = f"/Groups/{group['id']}"
    doc = patch(ctx, path, {"op": "add", "path": "members", "value": [{"value": third["id"]}]})
    wanted = {first["id"], second["id"], third["id"]}
    ctx.expect(
        member_ids(doc) == wanted,
        "add members did not add exactly the one member",
        expected=json.dumps(sorted(wanted)),
        actual=json.dumps(sorted(member_ids(doc))),
    )
    doc = patch(ctx, path, {"op": "remove", "path": f'members[value eq "{first["id"]}"]'})
    wanted = {second["id"], third["id"]}
    ctx.expect(
        member_ids(doc) == wanted,
        "remove members[value eq] did not remove exactly the one member",
        expected=json.dumps(sorted(wanted)),
        actual=json.dumps(sorted(member_ids(doc))),
    )


@SUITE.check(
    "rfc7644-3.5.2-members-add-duplicate",
    "Adding a member who is already a member keeps a single membership",
    level=Level.MUST,
    ref=PATCH_REF + ".1 (values already present are not duplicated)",
    tags={"patch", "groups"},
    requires={"patch"},
)
def members_add_duplicate(ctx: CheckContext) -> None:
    user = ctx.create_user()
    group = ctx.create_group(members=[user["id"]])
    doc = patch(ctx, f"/Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": user["id"]}]})
    values = [item.get("value") for item in doc.get("members") or [] if isinstance(item, dict)]
    ctx.expect(
        values == [user["id"]],
        "the member is listed more than once",
        expected=json.dumps([user["id"]]),
        actual=json.dumps(values),
    )


@SUITE.check(
    "rfc7644-3.5.2-members-replace-empty",
    "replace members with [] empties the group",
    level=Level.MUST,
    ref=PATCH_REF + ".3",
    tags={"patch", "groups"},
    requires={"patch"},
)
def members_replace_empty(ctx: CheckContext) -> None:
    user = ctx.create_user()
    group = ctx.create_group(members=[user["id"]])
    doc = patch(ctx, f"/Groups/{group['id']}", {"op": "replace", "path": "members", "value": []})
    ctx.expect(
        not member_ids(doc), "the group still has members", expected="[]", actual=json.dumps(sorted(member_ids(doc)))
    )


@SUITE.check(
    "rfc7644-3.5.2-remove-no-path-400",
    "remove without a path is refused with 400 noTarget",
    level=Level.MUST,
    ref=PATCH_REF + '.2 (no "path": 400 noTarget)',
    tags={"patch", "errors"},
    requires={"patch"},
)
def remove_without_path(ctx: CheckContext) -> None:
    user = ctx.create_user()
    body = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "remove"}]}
    ctx.expect_error(ctx.scim.patch(f"/Users/{user['id']}", body), 400, "noTarget")


@SUITE.check(
    "rfc7644-3.5.2-invalid-op-400",
    "An unknown op is refused with 400",
    level=Level.MUST,
    ref=PATCH_REF + " (op is add, remove or replace); §3.12",
    tags={"patch", "errors"},
    requires={"patch"},
)
def invalid_op(ctx: CheckContext) -> None:
    user = ctx.create_user()
    body = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "frobnicate", "path": "title", "value": "x"}]}
    ctx.expect_error(ctx.scim.patch(f"/Users/{user['id']}", body), 400)


@SUITE.check(
    "rfc7644-3.5.2-atomic",
    "A PATCH whose later operation fails changes nothing",
    level=Level.MUST,
    ref=PATCH_REF + " (each PATCH is atomic: on error the resource is not modified)",
    tags={"patch", "errors"},
    requires={"patch"},
)
def atomic(ctx: CheckContext) -> None:
    user = ctx.create_user()
    path = f"/Users/{user['id']}"
    body = {
        "schemas": [urns.PATCH_OP],
        "Operations": [
            {"op": "replace", "path": "displayName", "value": "Half Applied"},
            {"op": "remove"},
        ],
    }
    response = ctx.scim.patch(path, body)
    ctx.expect_status(response, 400)
    doc = ctx.fetch(path)
    ctx.expect(
        doc.get("displayName") == user["displayName"],
        "the first operation stuck although the PATCH failed",
        expected=json.dumps(user["displayName"]),
        actual=json.dumps(doc.get("displayName")),
    )


@SUITE.check(
    "rfc7644-3.5.2-read-only-400",
    "Replacing the readOnly id is refused with 400 mutability",
    level=Level.SHOULD,
    ref=PATCH_REF + " (readOnly: 400 mutability); §3.12",
    tags={"patch", "errors"},
    requires={"patch"},
)
def read_only(ctx: CheckContext) -> None:
    user = ctx.create_user()
    body = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": "id", "value": "other"}]}
    ctx.expect_error(ctx.scim.patch(f"/Users/{user['id']}", body), 400, "mutability")


@SUITE.check(
    "rfc7644-3.5.2-missing-404",
    "PATCH of an unknown id answers 404",
    level=Level.MUST,
    ref=PATCH_REF + "; §3.12",
    tags={"patch", "errors"},
    requires={"patch"},
)
def patch_missing(ctx: CheckContext) -> None:
    body = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": False}]}
    ctx.expect_error(ctx.scim.patch(f"/Users/{MISSING_ID}", body), 404)
