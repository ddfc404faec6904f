"""The Toy IdP's own conformance suite, named by a spec's ``checks`` (the registry proof for IdP suites)."""

from __future__ import annotations

from conformance.context import CheckContext
from conformance.idp import Console, directory, person
from conformance.model import Level
from conformance.registry import Suite
from emulators.registry import idps
from scimcore.client import eq_filter

SUITE = Suite("toy")


@SUITE.check(
    "toy-user-found-by-username",
    "The Toy IdP finds the user it created by a userName eq filter",
    level=Level.MUST,
    ref="RFC 7644 §3.4.2.2; tests/idps/toy.py",
    tags={"users"},
)
def user_found(ctx: CheckContext) -> None:
    ann = person(ctx, "toy")
    run = Console(ctx, idps().get("toy"), directory([ann], assigned=[ann]))
    run.console.provision_all()
    run.expect_done("provision a user")
    found = ctx.search("/Users", eq_filter("userName", ann.login)).get("Resources") or []
    ctx.expect(len(found) == 1, "the created user is not found by its userName", expected="1", actual=str(len(found)))
