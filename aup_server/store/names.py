"""userName identity: the one rule by which two userNames are the same user, for uniqueness and for filters.

RFC 7643 §4.1.1 makes userName unique and (§8.7.1) caseExact=false, so "the same" must at least ignore
case; it says nothing about Unicode, so two strings that render alike but differ in code points (NFC and
NFD, fullwidth letters, an invisible zero-width space, a trailing blank) would be two identities. The
PRECIS UsernameCaseMapped profile (RFC 8265 §3.3, which obsoletes RFC 7613) is the reference for
comparing usernames: width mapping, case mapping, NFC, and its IdentifierClass refuses controls,
spaces and default-ignorable code points.

We compare by NFKC, not NFC: NFKC performs PRECIS's width mapping (fullwidth and halfwidth forms) and
also folds the other compatibility characters (ligatures, superscripts, mathematical letters, the
ohm and Kelvin signs) that PRECIS would refuse outright. The stored value stays as the IdP sent it, so
folding loses nothing, and a lookalike can never become a second identity; refusing them instead would
turn an IdP's legal name into a provisioning error. Case is folded with full Unicode case folding
(``str.casefold``, so ``ß`` equals ``ss``), and NFKC is applied again after it, because case folding can
leave a string unnormalised (the Unicode NFKC_Casefold closure).

What PRECIS refuses and no folding could make visible is refused on write (400 invalidValue): control
and format characters (zero-width space and joiners, BOM, bidi controls, soft hyphen), other
default-ignorable code points, lone surrogates, and leading or trailing whitespace. The key function
still drops them, so a filter value or a row stored before this rule finds the same user.
"""

from __future__ import annotations

import re
import unicodedata

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties) outside general category Cf, which is
# tested separately: the combining grapheme joiner, Hangul fillers, Mongolian and variation selectors.
_IGNORABLE = re.compile("[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


def _invisible(char: str) -> bool:
    return unicodedata.category(char) in _INVISIBLE_CATEGORIES or _IGNORABLE.match(char) is not None


def user_name_problem(name: str) -> str | None:
    """Why a userName cannot be stored as a distinct identity, or None when it can."""
    if not name.strip():
        return "userName must not be empty or blank"
    if name != name.strip():
        return "userName must not begin or end with whitespace (it would look like another user's name)"
    invisible = sorted({f"U+{ord(c):04X}" for c in name if _invisible(c)})
    if invisible:
        shown = ", ".join(invisible[:5]) + (" …" if len(invisible) > 5 else "")
        return f"userName must not contain control, format or invisible characters ({shown})"
    return None


def user_name_key(name: str) -> str:
    """The form in which userNames are compared: NFKC, case-folded, without invisible or edge whitespace."""
    text = "".join(c for c in name if not _invisible(c)).strip()
    for _ in range(3):  # NFKC can yield capitals (U+1D2C is "A"): fold until stable, so the key is idempotent
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold()).strip()
        if folded == text:
            break
        text = folded
    return text
