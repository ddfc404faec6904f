"""Filtering (RFC 7644 §3.4.2.2): every operator, logical combinations, valuePath, and the case rules.

Each check creates three users whose userNames share a fresh prefix, and every filter is combined with
``userName sw "<prefix>"`` so that other data on a shared server never changes the answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from conformance.context import CheckContext
from conformance.model import Level
from conformance.references import ENTRA_TUTORIAL
from conformance.registry import Suite
from scimcore import urns

SUITE = Suite("rfc")

FILTER_REF = "RFC 7644 §3.4.2.2"


@dataclass(frozen=True)
class Population:
    prefix: str
    alpha: dict[str, object]
    beta: dict[str, object]
    gamma: dict[str, object]

    def id_of(self, label: str) -> str:
        return str(getattr(self, label)["id"])

    def name_of(self, label: str) -> str:
        return str(getattr(self, label)["userName"])


def populate(ctx: CheckContext) -> Population:
    """alpha (.com, title Engineer, work email), beta (.org, inactive, Manager, home+work), gamma (no title)."""
    prefix = ctx.name("f")
    alpha = ctx.create_user(
        f"{prefix}-alpha@example.com",
        title="Engineer",
        externalId=f"{prefix}-ext-A",
        name={"givenName": "Ada", "familyName": "Zeta"},
    )
    beta = ctx.create_user(
        f"{prefix}-beta@example.org",
        title="Manager",
        active=False,
        emails=[
            {"value": f"{prefix}-beta@home.example", "type": "home"},
            {"value": f"{prefix}-beta@example.org", "type": "work", "primary": True},
        ],
    )
    gamma = ctx.create_user(f"{prefix}-gamma@example.com")
    return Population(prefix, alpha, beta, gamma)


def expect_matches(ctx: CheckContext, endpoint: str, flt: str, expected: dict[str, str]) -> None:
    """``expected`` maps ids to labels; the filter must return exactly those, with totalResults agreeing."""
    doc = ctx.search(endpoint, flt, count=50)
    found = set(ctx.ids(doc))
    label = dict(expected)
    ctx.expect(
        found == set(expected),
        f"filter {flt} matched the wrong resources",
        expected=json.dumps(sorted(label.values())) + f" (ids {sorted(expected)})",
        actual=json.dumps(sorted(label.get(rid, rid) for rid in found)),
    )
    ctx.expect(
        doc.get("totalResults") == len(expected),
        f"totalResults disagrees with the filter {flt}",
        expected=str(len(expected)),
        actual=json.dumps(doc.get("totalResults")),
    )


@dataclass(frozen=True)
class Case:
    slug: str
    title: str
    level: Level
    build: Callable[[Population], str]
    matches: tuple[str, ...]
    section: str = ""


CASES = (
    Case("eq", "eq matches the one user", Level.MUST, lambda p: f'userName eq "{p.name_of("alpha")}"', ("alpha",)),
    Case(
        "eq-case-insensitive",
        "eq on userName ignores case (caseExact false)",
        Level.MUST,
        lambda p: f'userName eq "{p.name_of("alpha").upper()}"',
        ("alpha",),
        "; RFC 7643 §2.1",
    ),
    Case(
        "ne", "ne excludes the one user", Level.MUST, lambda p: f'userName ne "{p.name_of("alpha")}"', ("beta", "gamma")
    ),
    Case("co", "co matches a substring", Level.MUST, lambda p: 'userName co "-beta@"', ("beta",)),
    Case("sw", "sw matches a prefix", Level.MUST, lambda p: f'userName sw "{p.prefix}-g"', ("gamma",)),
    Case("ew", "ew matches a suffix", Level.MUST, lambda p: 'userName ew "example.org"', ("beta",)),
    Case("pr", "pr matches users that have the attribute", Level.MUST, lambda p: "title pr", ("alpha", "beta")),
    Case(
        "gt",
        "gt compares strings lexicographically",
        Level.MUST,
        lambda p: f'userName gt "{p.name_of("beta")}"',
        ("gamma",),
    ),
    Case("ge", "ge includes the bound", Level.MUST, lambda p: f'userName ge "{p.name_of("beta")}"', ("beta", "gamma")),
    Case(
        "lt",
        "lt compares strings lexicographically",
        Level.MUST,
        lambda p: f'userName lt "{p.name_of("beta")}"',
        ("alpha",),
    ),
    Case("le", "le includes the bound", Level.MUST, lambda p: f'userName le "{p.name_of("beta")}"', ("alpha", "beta")),
    Case(
        "gt-datetime",
        "gt on a dateTime compares instants",
        Level.MUST,
        lambda p: 'meta.lastModified gt "2001-01-01T00:00:00Z"',
        ("alpha", "beta", "gamma"),
    ),
    Case("boolean", "eq false matches a boolean attribute", Level.MUST, lambda p: "active eq false", ("beta",)),
    Case(
        "and-or",
        "and binds tighter than or, parentheses group",
        Level.MUST,
        lambda p: f'(userName eq "{p.name_of("alpha")}" or userName eq "{p.name_of("beta")}") and active eq true',
        ("alpha",),
    ),
    Case(
        "not",
        "not negates a group",
        Level.MUST,
        lambda p: f'not (userName eq "{p.name_of("alpha")}")',
        ("beta", "gamma"),
    ),
    Case(
        "sub-attribute",
        "a sub-attribute path (name.familyName) filters",
        Level.MUST,
        lambda p: 'name.familyName eq "Zeta"',
        ("alpha",),
    ),
    Case(
        "multi-valued-sub-attribute",
        "emails.value matches any of the values",
        Level.MUST,
        lambda p: f'emails.value eq "{p.prefix}-beta@home.example"',
        ("beta",),
    ),
    Case(
        "value-path",
        'a valuePath filter (emails[type eq "home"]) matches',
        Level.MUST,
        lambda p: 'emails[type eq "home"]',
        ("beta",),
    ),
    Case(
        "value-path-and",
        "a valuePath with and inside the brackets",
        Level.MUST,
        lambda p: 'emails[type eq "work" and value co "-alpha@"]',
        ("alpha",),
    ),
    Case(
        "attribute-name-case",
        "attribute names are case-insensitive (USERNAME)",
        Level.MUST,
        lambda p: f'USERNAME eq "{p.name_of("alpha")}"',
        ("alpha",),
    ),
    Case(
        "operator-case",
        "operators are case-insensitive (EQ)",
        Level.MUST,
        lambda p: f'userName EQ "{p.name_of("alpha")}"',
        ("alpha",),
    ),
    Case(
        "urn-path",
        "a fully qualified attribute (core User URN) filters",
        Level.MUST,
        lambda p: f'{urns.USER}:userName eq "{p.name_of("alpha")}"',
        ("alpha",),
        "; RFC 7644 §3.10",
    ),
    Case(
        "external-id",
        "externalId eq finds the user (IdP matching)",
        Level.MUST,
        lambda p: f'externalId eq "{p.prefix}-ext-A"',
        ("alpha",),
        "; RFC 7643 §3.1 (externalId); docs/okta-idp.md §4 and docs/entra-idp.md §3.1 (how the IdPs match)",
    ),
    Case(
        "no-match",
        "a filter matching nothing answers 200 with totalResults 0",
        Level.MUST,
        lambda p: 'userName eq "nobody-at-all@example.invalid"',
        (),
    ),
)


def _register(case: Case) -> None:
    def run(ctx: CheckContext) -> None:
        population = populate(ctx)
        flt = f'({case.build(population)}) and userName sw "{population.prefix}"'
        expected = {population.id_of(label): label for label in case.matches}
        expect_matches(ctx, "/Users", flt, expected)

    run.__name__ = f"filter_{case.slug.replace('-', '_')}"
    SUITE.check(
        f"rfc7644-3.4.2.2-filter-{case.slug}",
        f"Filter: {case.title}",
        level=case.level,
        ref=FILTER_REF + case.section,
        tags={"filter"},
        requires={"filter"},
    )(run)


for _case in CASES:
    _register(_case)


@SUITE.check(
    "rfc7644-3.4.2.2-filter-group-display-name",
    "Filter: displayName eq finds a group (IdP group lookup)",
    level=Level.MUST,
    ref="RFC 7644 §3.4.2.2; docs/okta-idp.md §7 and docs/entra-idp.md §3.4 (groups are matched by displayName)",
    tags={"filter", "groups"},
    requires={"filter"},
)
def group_display_name(ctx: CheckContext) -> None:
    group = ctx.create_group()
    expect_matches(ctx, "/Groups", f'displayName eq "{group["displayName"]}"', {group["id"]: "group"})


@SUITE.check(
    "rfc7644-3.4.2.2-filter-group-member",
    'Filter: members[value eq "id"] finds the groups a user belongs to',
    level=Level.SHOULD,
    ref=f"RFC 7644 §3.4.2.2; Entra's membership query: {ENTRA_TUTORIAL}; docs/entra-idp.md §3.4",
    tags={"filter", "groups"},
    requires={"filter"},
)
def group_member(ctx: CheckContext) -> None:
    user = ctx.create_user()
    group = ctx.create_group(members=[user["id"]])
    ctx.create_group()
    flt = f'members[value eq "{user["id"]}"] and displayName sw "{ctx.run_id}"'
    expect_matches(ctx, "/Groups", flt, {group["id"]: "group"})


@SUITE.check(
    "rfc7644-3.4.2.2-filter-invalid-400",
    "A malformed filter is refused with 400 invalidFilter",
    level=Level.MUST,
    ref=FILTER_REF + "; §3.12 (invalidFilter)",
    tags={"filter", "errors"},
    requires={"filter"},
)
def invalid_filter(ctx: CheckContext) -> None:
    for flt in ("userName eq", 'userName zz "x"', '(userName eq "x"'):
        ctx.expect_error(ctx.scim.get("/Users", [("filter", flt)]), 400, "invalidFilter")
