"""What a check's ``ref`` cites, as links a reader can follow: RFC sections, vendor documents, the project's docs.

A ``ref`` is one line of text, parts separated by ``;``. Each check cites at least one public source: an RFC
section (``RFC 7644 §3.5.2``, linked to the RFC Editor's HTML) or a vendor document (its URL, written out). Where
aup's own reading of IdP behaviour is involved it also cites the page of the project's docs that explains it
(``docs/okta-idp.md §7``). The public sources below are named once here so every check cites the same address.
"""

from __future__ import annotations

import re
from pathlib import Path

# -- public sources cited by more than one check ------------------------------------------------------------------

OKTA_SCIM = "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20/"
OKTA_CONCEPTS = "https://developer.okta.com/docs/concepts/scim/"
OKTA_FAQ = "https://developer.okta.com/docs/concepts/scim/faqs/"
OKTA_TEST = "https://developer.okta.com/docs/guides/scim-provisioning-integration-test/main/"
OKTA_SPEC_TEST = "https://developer.okta.com/standards/SCIM/SCIMFiles/Okta-SCIM-20-SPEC-Test.json"
OKTA_CRUD_TEST = "https://developer.okta.com/standards/SCIM/SCIMFiles/Okta-SCIM-20-CRUD-Test.json"
OKTA_WIZARD = "https://help.okta.com/en-us/content/topics/apps/oiw/provisioning-settings.htm"
OKTA_GROUP_PUSH = "https://help.okta.com/oie/en-us/Content/Topics/users-groups-profiles/usgp-group-push-operations.htm"

_LEARN = "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/"
ENTRA_TUTORIAL = _LEARN + "use-scim-to-provision-users-and-groups"
ENTRA_KNOWN_ISSUES = _LEARN + "application-provisioning-config-problem-scim-compatibility"
ENTRA_HOW = _LEARN + "how-provisioning-works"
ENTRA_QUARANTINE = _LEARN + "application-provisioning-quarantine-status"
ENTRA_ACCIDENTAL = _LEARN + "accidental-deletions"
ENTRA_SCOPING = _LEARN + "define-conditional-rules-for-provisioning-user-accounts"
ENTRA_RATE_LIMITS = "https://learn.microsoft.com/en-us/answers/questions/1233453"
ENTRA_TIMEOUT = "https://learn.microsoft.com/en-us/answers/questions/1151866"
ENTRA_ACTIVE_STRING = "https://github.com/AzureAD/SCIMReferenceCode/issues/21"

COREWEAVE_AUP = "https://docs.coreweave.com/security/automated-user-provisioning"
NSSCACHE_SCIM = "https://github.com/google/nsscache/blob/main/nss_cache/sources/scimsource.py"
SLURM_NSS = "https://slurm.schedmd.com/nss_slurm.html"


def scim_sdk(issue: int) -> str:
    """An issue of Captain-P-Goldfish/SCIM-SDK: where server authors reported what Entra sent them."""
    return f"https://github.com/Captain-P-Goldfish/SCIM-SDK/issues/{issue}"


def scim_patch(issue: int) -> str:
    """An issue of thomaspoignant/scim-patch, a PATCH library many Node servers use."""
    return f"https://github.com/thomaspoignant/scim-patch/issues/{issue}"


# -- turning a ref into links ---------------------------------------------------------------------------------------

RFC_BASE = "https://www.rfc-editor.org/rfc/rfc{number}"
DOCS_BASE = "docs/"  # the project's documentation, relative to the repository (and the source distribution)

_RFC = re.compile(r"RFC (?P<number>\d{4})(?: (?P<sections>§[\d.]+(?:(?:,| and| or|-) ?§?[\d.]+)*))?")
_SECTION = re.compile(r"§?(\d+(?:\.\d+)*)")
_URL = re.compile(r"https?://[^\s;,)]+")
_DOC = re.compile(r"docs/(?P<page>[a-z0-9-]+\.md)(?: (?P<section>§[\dA-Za-z.]+))?")
# Internal shorthand a reader cannot follow: evidence tags and source keys of research notes, code identifiers.
_RFC_HREF = re.compile(r"https://www\.rfc-editor\.org/rfc/rfc(?P<number>\d{4})")
_SHORTHAND = re.compile(
    r"\[(?:DOC|OBS|INF|MSQA)\b|\b(?:SDK|SP|SID|KC|GW|RC|AD|SCIMMY)\d{2,}\b|\bC\d{4}\b|\b[A-Z][a-z]+Profile\.\w+"
)


def rfc_url(number: str, section: str | None = None) -> str:
    base = RFC_BASE.format(number=number)
    return f"{base}#section-{section}" if section else base


def spans(ref: str) -> list[tuple[int, int, str]]:
    """``(start, end, href)`` of each followable piece of ``ref``, in order: every RFC section (``RFC 7644 §3.1,
    §8.1`` gives the first with its RFC number and ``§8.1`` on its own), every URL, every page of the project's
    docs (``href`` relative to the repository root)."""
    found: list[tuple[int, int, str]] = []
    for match in _RFC.finditer(ref):
        number, sections = match["number"], match["sections"]
        if not sections:
            found.append((match.start(), match.end(), rfc_url(number)))
            continue
        offset = match.start("sections")
        for index, section in enumerate(_SECTION.finditer(sections)):
            start = match.start() if index == 0 else offset + section.start()
            found.append((start, offset + section.end(), rfc_url(number, section.group(1).rstrip("."))))
    found += [(match.start(), match.end(), match.group(0)) for match in _URL.finditer(ref)]
    found += [(match.start(), match.end(), DOCS_BASE + match["page"]) for match in _DOC.finditer(ref)]
    return sorted(found)


def links(ref: str) -> list[tuple[str, str]]:
    """``(text, href)`` for everything in ``ref`` a reader can follow, in order of appearance; an RFC section
    after the first of a list is named with its RFC (``RFC 7644 §8.1``)."""
    out = []
    for start, end, href in spans(ref):
        text = ref[start:end]
        rfc = _RFC_HREF.match(href)
        if rfc and not text.startswith("RFC"):
            text = f"RFC {rfc['number']} §{text.lstrip('§')}"
        out.append((text, href))
    return out


def problems(ref: str, docs: Path | None = None) -> list[str]:
    """Why ``ref`` cannot be followed; empty when it can. With ``docs`` (the docs folder), cited pages and
    sections must exist there."""
    out = []
    if not any(href.startswith("http") for _, href in links(ref)):
        out.append("cites no RFC section and no public URL")
    out += [f"internal shorthand {match.group(0)!r}" for match in _SHORTHAND.finditer(ref)]
    if docs is not None:
        for match in _DOC.finditer(ref):
            page = docs / match["page"]
            if not page.is_file():
                out.append(f"docs/{match['page']} does not exist")
                continue
            if match["section"] and not _has_section(page.read_text(encoding="utf-8"), match["section"][1:]):
                out.append(f"docs/{match['page']} has no section {match['section']}")
    return out


def _has_section(text: str, number: str) -> bool:
    """A markdown heading that starts with the section number (``## 7.`` ``### 3.4`` ``### 11a.``), or for a
    numbered item inside a section (``§10.9``), the heading of its top-level section."""
    number = number.rstrip(".")
    for candidate in (number, number.split(".")[0]):
        heading = re.compile(rf"^#{{2,4}} (?:§)?{re.escape(candidate)}[.\s]", re.MULTILINE)
        if heading.search(text):
            return True
    return False
