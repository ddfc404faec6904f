"""Every check cites what a reader can follow: an RFC section or a public URL, and the project's docs by section."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.references import links, problems, rfc_url
from conformance.suites import default_registry

DOCS = Path(__file__).resolve().parents[2] / "docs"
CHECKS = default_registry().checks()


@pytest.mark.parametrize("check", CHECKS, ids=[check.id for check in CHECKS])
def test_every_check_cites_a_followable_source(check: object) -> None:
    ref = check.ref  # type: ignore[attr-defined]
    assert problems(ref, docs=DOCS) == [], ref


def test_rfc_sections_link_to_the_rfc_editor() -> None:
    found = links("RFC 7644 §3.5.2.1, .2; RFC 7643 §4.1.1 (userName); RFC 6585 §4")
    assert found[0] == ("RFC 7644 §3.5.2.1", "https://www.rfc-editor.org/rfc/rfc7644#section-3.5.2.1")
    assert ("RFC 7643 §4.1.1", rfc_url("7643", "4.1.1")) in found
    assert found[-1] == ("RFC 6585 §4", "https://www.rfc-editor.org/rfc/rfc6585#section-4")


def test_several_sections_of_one_rfc_each_get_a_link() -> None:
    assert [text for text, _ in links("RFC 7644 §3.1, §8.1")] == ["RFC 7644 §3.1", "RFC 7644 §8.1"]


def test_urls_and_docs_pages_are_links_in_order_of_appearance() -> None:
    ref = "Okta expects 201: https://developer.okta.com/docs/x/; RFC 7644 §3.3; docs/okta-idp.md §4 (empty user)"
    assert links(ref) == [
        ("https://developer.okta.com/docs/x/", "https://developer.okta.com/docs/x/"),
        ("RFC 7644 §3.3", "https://www.rfc-editor.org/rfc/rfc7644#section-3.3"),
        ("docs/okta-idp.md §4", "docs/okta-idp.md"),
    ]


@pytest.mark.parametrize(
    ("ref", "problem"),
    [
        ("docs/okta-idp.md §7 (group push)", "cites no RFC section and no public URL"),
        ("RFC 7644 §3.5.2 [OBS SID269]", "internal shorthand '[OBS'"),
        ("RFC 7644 §3.5.2; reported in SDK541", "internal shorthand 'SDK541'"),
        ("RFC 7644 §3.4.2; OktaProfile.integer_list_counts", "internal shorthand 'OktaProfile.integer_list_counts'"),
        ("RFC 7644 §3.3; docs/nowhere.md §1", "docs/nowhere.md does not exist"),
        ("RFC 7644 §3.3; docs/okta-idp.md §99", "docs/okta-idp.md has no section §99"),
    ],
)
def test_unfollowable_refs_are_named(ref: str, problem: str) -> None:
    assert problem in problems(ref, docs=DOCS)
