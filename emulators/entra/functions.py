"""The built-in functions of Entra's expression language, with their arities (docs/entra-idp.md §9a):
every function of Microsoft's "Reference for writing expressions for attribute mappings" (FUNCTIONS_URL), and
Trim from Cloud Sync's reference.

Null handling is inferred where Microsoft's docs are silent: string functions return null for a
null source, Join and Coalesce skip nulls, and Switch compares keys with the source text
case-insensitively, so a lowercased ``active`` expression yields ``"false"`` (docs/entra-idp.md §5).
"""

from __future__ import annotations

import base64
import re
import secrets
import string
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from emulators.core.mapping import is_empty
from emulators.entra import datetimes

FUNCTIONS_URL = (
    "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/functions-for-customizing-application-data"
)
CLOUD_SYNC_URL = "https://learn.microsoft.com/en-us/entra/identity/hybrid/cloud-sync/reference-expressions"


class EvaluationError(ValueError):
    """An expression that failed on one object's data (e.g. Mid with a non-numeric start)."""


def as_text(value: Any) -> str | None:
    """Entra's text form of a value: booleans as True/False, null stays null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = as_text(value)
    if text is None or text.lower() not in ("true", "false"):
        raise EvaluationError(f"a condition must be True or False, not {value!r}")
    return text.lower() == "true"


def _present(value: Any) -> bool:
    return not is_empty(value)


def _text_fn(fn: Callable[[str], Any]) -> Callable[[list[Any]], Any]:
    def apply(args: list[Any]) -> Any:
        text = as_text(args[0])
        return None if text is None else fn(text)

    return apply


def _integer(value: Any, what: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise EvaluationError(f"{what} must be a whole number, not {value!r}") from None


def _join(args: list[Any]) -> Any:
    separator = as_text(args[0]) or ""
    parts: list[str] = []
    for value in args[1:]:
        values = value if isinstance(value, list) else [value]
        parts.extend(text for text in map(as_text, values) if text)
    return separator.join(parts) if parts else None


def _switch(args: list[Any]) -> Any:
    source = as_text(args[0])
    pairs = args[2:]
    for key, value in zip(pairs[::2], pairs[1::2], strict=True):
        key_text = as_text(key)
        if source is not None and key_text is not None and key_text.lower() == source.lower():
            return value
    return args[1]


def _append(args: list[Any]) -> Any:
    text = as_text(args[0])
    return None if text is None else text + (as_text(args[1]) or "")


def _left(args: list[Any]) -> Any:
    """Microsoft: numChars 0 gives an empty string, below 0 the input, and a null string an empty string."""
    text = as_text(args[0])
    if text is None:
        return ""
    count = _integer(args[1], "Left numChars")
    return text if count < 0 else text[:count]


def _mid(args: list[Any]) -> Any:
    text = as_text(args[0])
    if text is None:
        return None
    start, length = _integer(args[1], "Mid start"), _integer(args[2], "Mid length")
    return text[max(start - 1, 0) : max(start - 1, 0) + max(length, 0)]


_NET_GROUP = re.compile(r"\(\?<(?![=!])")  # .NET's named group (?<name>...), not a lookbehind
_NET_SUBSTITUTION = re.compile(r"\$\{(\w+)\}|\$(\d+)|\$\$")


def _net_regex(pattern: str) -> re.Pattern[str]:
    """A .NET regular expression (Microsoft's examples use named groups ``(?<name>...)``) as Python's."""
    try:
        return re.compile(_NET_GROUP.sub("(?P<", pattern))
    except re.error as exc:
        raise EvaluationError(f"Replace: bad regexPattern {pattern!r}: {exc}") from None


def _expand(replacement: str, match: re.Match[str]) -> str:
    """.NET's substitutions in a replacement: ``${name}``, ``$1`` and ``$$``."""

    def one(found: re.Match[str]) -> str:
        if found.group(0) == "$$":
            return "$"
        try:
            return match.group(found.group(1) or int(found.group(2))) or ""
        except (IndexError, KeyError, re.error):
            return found.group(0)

    return _NET_SUBSTITUTION.sub(one, replacement)


def _replace(args: list[Any]) -> Any:
    """Replace(source, oldValue, regexPattern, regexGroupName, replacementValue, replacementAttributeName, template),
    in the five ways Microsoft describes: oldValue with replacementValue; oldValue with template; regexPattern with
    replacementValue (its group references expanded); regexPattern, regexGroupName and replacementValue (each
    match's group replaced); regexPattern, regexGroupName and replacementAttributeName (source when it has a
    value, else the group matched in the replacement attribute)."""
    source, old, pattern, group, replacement, replacement_attr, template = (as_text(a) for a in args)
    if template is not None and old is not None:
        return template.replace(old, source or "")
    if pattern is not None and group is not None and replacement is None and replacement_attr is not None:
        if _present(source):
            return source
        found = _net_regex(pattern).search(replacement_attr)
        return found.group(group) if found is not None else None
    new = replacement if replacement is not None else (replacement_attr or "")
    if source is None:
        return None
    if old is not None:
        return source.replace(old, new)
    if pattern is not None:
        compiled = _net_regex(pattern)
        if group is None:
            return compiled.sub(lambda m: _expand(new, m), source)
        return compiled.sub(lambda m: m.group(0).replace(m.group(group) or "", new), source)
    return source


def _single_app_role(args: list[Any]) -> Any:
    roles = args[0]
    if not isinstance(roles, list) or not roles:
        return None
    return roles[0]


class RoleList(list[dict[str, Any]]):
    """The roles AppRoleAssignmentsComplex (``assertive`` False) or AssertiveAppRoleAssignmentsComplex (True)
    gives: the user's app role assignments, each ``{"id", "value", "displayName"}``; the payloads send them as
    Microsoft's examples show (docs/entra-idp.md §4 Roles)."""

    def __init__(self, roles: list[dict[str, Any]], *, assertive: bool) -> None:
        super().__init__(roles)
        self.assertive = assertive


def _role_list(assertive: bool) -> Callable[[list[Any]], Any]:
    def apply(args: list[Any]) -> Any:
        roles = args[0]
        if not isinstance(roles, list) or not roles:
            return None
        return RoleList([role for role in roles if isinstance(role, dict)], assertive=assertive)

    return apply


def _strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _case(upper: bool) -> Callable[[list[Any]], Any]:
    def apply(args: list[Any]) -> Any:
        text = as_text(args[0])
        if text is None:
            return None
        return text.upper() if upper else text.lower()

    return apply


def _values(value: Any) -> list[Any]:
    """A multi-valued attribute's values; a single value is one, null none."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _number(value: Any, what: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    return _integer(value, what)


def _cbool(args: list[Any]) -> Any:
    """CBool: True for a non-zero value (Microsoft); a True/False text reads as itself (inferred)."""
    value = args[0]
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    text = as_text(value)
    if text is None:
        return False
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return float(text) != 0
    except ValueError:
        raise EvaluationError(f"CBool: {value!r} is neither a number nor True or False") from None


def _cstr(args: list[Any]) -> Any:
    value = args[0]
    return as_text(value) if not isinstance(value, (list, dict)) else None


def _date(value: Any, what: str) -> Any:
    text = as_text(value)
    if text is None:
        return None
    try:
        return datetimes.parse(text)
    except datetimes.DateError as exc:
        raise EvaluationError(f"{what}: {exc}") from None


def _cdate(args: list[Any]) -> Any:
    moment = _date(args[0], "CDate")
    return None if moment is None else datetimes.render(moment)


def _date_add(args: list[Any]) -> Any:
    moment = _date(args[2], "DateAdd dateTime")
    if moment is None:
        return None
    try:
        return datetimes.render(datetimes.add(as_text(args[0]) or "", _number(args[1], "DateAdd value"), moment))
    except datetimes.DateError as exc:
        raise EvaluationError(f"DateAdd: {exc}") from None


def _date_diff(args: list[Any]) -> Any:
    first, second = _date(args[1], "DateDiff date1"), _date(args[2], "DateDiff date2")
    if first is None or second is None:
        return None
    try:
        return datetimes.difference(as_text(args[0]) or "", first, second)
    except datetimes.DateError as exc:
        raise EvaluationError(f"DateDiff: {exc}") from None


def _date_from_num(args: list[Any]) -> Any:
    if args[0] is None:
        return None
    return datetimes.render(datetimes.from_filetime(_number(args[0], "DateFromNum value")))


def _num_from_date(args: list[Any]) -> Any:
    moment = _date(args[0], "NumFromDate")
    return None if moment is None else datetimes.to_filetime(moment)


def _format_date_time(args: list[Any]) -> Any:
    """FormatDateTime(source, dateTimeStyles, inputFormat, outputFormat); the styles are accepted and not applied
    (inferred: their default allows the white space around the value, which is stripped)."""
    text = as_text(args[0])
    if text is None:
        return None
    try:
        moment = datetimes.parse_exact(text, as_text(args[2]) or "")
        return datetimes.format_exact(moment, as_text(args[3]) or "")
    except datetimes.DateError as exc:
        raise EvaluationError(f"FormatDateTime: {exc}") from None


def _instr(args: list[Any]) -> Any:
    """InStr(value1, value2, start, compareType): the 1-based position of value2 in value1 from ``start``, 0 when
    absent; vbTextCompare ignores case, vbBinaryCompare (the default, as in VBA) does not."""
    haystack, needle = as_text(args[0]), as_text(args[1])
    if haystack is None or needle is None:
        return None
    start = _number(args[2], "InStr start") if len(args) > 2 and args[2] is not None else 1
    text_compare = len(args) > 3 and args[3] == VB_TEXT_COMPARE
    if text_compare:
        haystack, needle = haystack.lower(), needle.lower()
    return haystack.find(needle, max(start, 1) - 1) + 1


def _item(args: list[Any]) -> Any:
    index = _number(args[1], "Item index")
    if index < 1:
        raise EvaluationError("Item: the index of the first item is 1 (Microsoft: index 0 shouldn't be used)")
    values = _values(args[0])
    return values[index - 1] if index <= len(values) else None


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN"


def _pcase(args: list[Any]) -> Any:
    """PCase: the first character of each word upper case, the rest lower; words are split by
    ``wordSeparators`` when given, else (as .NET's ToTitleCase) by anything that is not a letter, mark or digit."""
    text = as_text(args[0])
    if text is None:
        return None
    separators = as_text(args[1]) if len(args) > 1 else None
    out, start = [], True
    for ch in text:
        separator = ch in separators if separators else not _is_word_char(ch)
        out.append(ch.upper() if start and not separator else ch.lower())
        start = separator
    return "".join(out)


# The special characters of Windows' password complexity rules, which RandomString draws from (Microsoft).
SPECIAL_CHARACTERS = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/"


def _random_string(args: list[Any]) -> Any:
    """RandomString(Length, MinimumNumbers, MinimumSpecialCharacters, MinimumCapital, MinimumLowerCase,
    CharactersToAvoid): at most 256 characters, at least the minimums, never a character to avoid."""
    length = _number(args[0], "RandomString Length")
    minimums = [_number(arg, "RandomString minimum") for arg in args[1:5]]
    avoid = set(as_text(args[5]) or "") if len(args) > 5 else set()
    if length > 256 or length < sum(minimums):
        raise EvaluationError(f"RandomString: Length {length} must be at most 256 and at least the minimums' sum")
    pools = [
        [c for c in chars if c not in avoid]
        for chars in (string.digits, SPECIAL_CHARACTERS, string.ascii_uppercase, string.ascii_lowercase)
    ]
    if any(minimum and not pool for minimum, pool in zip(minimums, pools, strict=True)):
        raise EvaluationError("RandomString: CharactersToAvoid leaves no character for a minimum")
    chosen = [secrets.choice(pool) for minimum, pool in zip(minimums, pools, strict=True) for _ in range(minimum)]
    every = [c for pool in pools for c in pool]
    chosen += [secrets.choice(every) for _ in range(length - len(chosen))]
    for i in range(len(chosen) - 1, 0, -1):  # shuffle, so the minimums are not at the front
        j = secrets.randbelow(i + 1)
        chosen[i], chosen[j] = chosen[j], chosen[i]
    return "".join(chosen)


def _remove_duplicates(args: list[Any]) -> Any:
    values = _values(args[0])
    unique: list[Any] = []
    for value in values:
        if value not in unique:
            unique.append(value)
    return unique if isinstance(args[0], (list, tuple)) else (unique[0] if unique else None)


def _split(args: list[Any]) -> Any:
    """Split: the parts without the white space around them, empty ones dropped (Microsoft's example turns
    "PermissionSetOne, PermissionSetTwo" into ["PermissionSetOne", "PermissionSetTwo"])."""
    text, delimiter = as_text(args[0]), as_text(args[1])
    if text is None:
        return None
    if not delimiter:
        raise EvaluationError("Split: the delimiter is empty")
    return [part.strip() for part in text.split(delimiter) if part.strip()]


def _word(args: list[Any]) -> Any:
    """Word: the n-th run of characters between delimiters; an empty string when there is none (Microsoft)."""
    text = as_text(args[0])
    number = _number(args[1], "Word WordNumber")
    delimiters = as_text(args[2]) or ""
    if text is None or number < 1:
        return ""
    words = [w for w in re.split("|".join(map(re.escape, delimiters)), text) if w] if delimiters else [text]
    return words[number - 1] if number <= len(words) else ""


def _bit_and(args: list[Any]) -> Any:
    return _number(args[0], "BitAnd value1") & _number(args[1], "BitAnd value2")


def _unsupported(name: str, why: str) -> Callable[[list[Any]], Any]:
    def apply(args: list[Any]) -> Any:
        raise EvaluationError(f"{name}: {why}")

    return apply


VB_BINARY_COMPARE, VB_TEXT_COMPARE = 0, 1  # VBA's constants, the values InStr's compareType takes
CONSTANTS: Mapping[str, int] = {"vbbinarycompare": VB_BINARY_COMPARE, "vbtextcompare": VB_TEXT_COMPARE}


@dataclass(frozen=True)
class Function:
    name: str
    min_args: int
    max_args: int | None
    apply: Callable[[list[Any]], Any]
    signature: str
    even_tail: bool = False  # Switch: key/value pairs after the first two arguments
    refused: str = ""  # why a mapping to a SCIM app cannot use it (Microsoft's own words), checked at compile time


FUNCTIONS: Mapping[str, Function] = {
    f.name.lower(): f
    for f in (
        Function("Append", 2, 2, _append, "Append(source, suffix)"),
        Function("Join", 2, None, _join, "Join(separator, source1, source2, ...)"),
        Function("ToLower", 1, 2, _case(False), "ToLower(source, culture)"),
        Function("ToUpper", 1, 2, _case(True), "ToUpper(source, culture)"),
        Function("Switch", 4, None, _switch, "Switch(source, defaultValue, key1, value1, ...)", even_tail=True),
        Function("IIF", 3, 3, lambda a: a[1] if truthy(a[0]) else a[2], "IIF(condition, valueIfTrue, valueIfFalse)"),
        Function(
            "Coalesce",
            1,
            None,
            lambda a: next((v for v in a if _present(v)), None),
            "Coalesce(source1, source2, ..., defaultValue)",
        ),
        Function("Not", 1, 1, lambda a: not truthy(a[0]), "Not(source)"),
        Function("IsNull", 1, 1, lambda a: a[0] is None, "IsNull(expression)"),
        Function("IsPresent", 1, 1, lambda a: _present(a[0]), "IsPresent(expression)"),
        Function("Left", 2, 2, _left, "Left(string, numChars)"),
        Function("Mid", 3, 3, _mid, "Mid(source, start, length)"),
        Function(
            "Replace",
            7,
            7,
            _replace,
            "Replace(source, oldValue, regexPattern, regexGroupName, replacementValue, "
            "replacementAttributeName, template)",
        ),
        Function("StripSpaces", 1, 1, _text_fn(lambda t: "".join(t.split(" "))), "StripSpaces(source)"),
        Function("NormalizeDiacritics", 1, 1, _text_fn(_strip_diacritics), "NormalizeDiacritics(source)"),
        Function("SingleAppRoleAssignment", 1, 1, _single_app_role, "SingleAppRoleAssignment([appRoleAssignments])"),
        Function(
            "AppRoleAssignmentsComplex", 1, 1, _role_list(False), "AppRoleAssignmentsComplex([appRoleAssignments])"
        ),
        Function(
            "AssertiveAppRoleAssignmentsComplex",
            1,
            1,
            _role_list(True),
            "AssertiveAppRoleAssignmentsComplex([appRoleAssignments])",
        ),
        Function("BitAnd", 2, 2, _bit_and, "BitAnd(value1, value2)"),
        Function("CBool", 1, 1, _cbool, "CBool(expression)"),
        Function("CDate", 1, 1, _cdate, "CDate(expression)"),
        Function(
            "ConvertToBase64",
            1,
            1,
            _text_fn(lambda t: base64.b64encode(t.encode("utf-16-le")).decode()),
            "ConvertToBase64(source)",
        ),
        Function(
            "ConvertToUTF8Hex", 1, 1, _text_fn(lambda t: t.encode("utf-8").hex().upper()), "ConvertToUTF8Hex(source)"
        ),
        Function("Count", 1, 1, lambda a: len(_values(a[0])), "Count(attribute)"),
        Function("CStr", 1, 1, _cstr, "CStr(value)"),
        Function("DateAdd", 3, 3, _date_add, "DateAdd(interval, value, dateTime)"),
        Function("DateDiff", 3, 3, _date_diff, "DateDiff(interval, date1, date2)"),
        Function("DateFromNum", 1, 1, _date_from_num, "DateFromNum(value)"),
        Function(
            "FormatDateTime",
            4,
            4,
            _format_date_time,
            "FormatDateTime(source, dateTimeStyles, inputFormat, outputFormat)",
        ),
        Function("Guid", 0, 0, lambda a: str(uuid.uuid4()), "Guid()"),
        Function(
            "IgnoreFlowIfNullOrEmpty",
            1,
            1,
            lambda a: a[0] if _present(a[0]) else None,
            "IgnoreFlowIfNullOrEmpty(expression)",
        ),
        Function("InStr", 2, 4, _instr, "InStr(value1, value2, start, compareType)"),
        Function("IsNullOrEmpty", 1, 1, lambda a: not _present(a[0]), "IsNullOrEmpty(expression)"),
        Function("IsString", 1, 1, lambda a: isinstance(a[0], str), "IsString(expression)"),
        Function("Item", 2, 2, _item, "Item(attribute, index)"),
        Function("Now", 0, 0, lambda a: datetimes.render(datetimes.now()), "Now()"),
        Function("NumFromDate", 1, 1, _num_from_date, "NumFromDate(value)"),
        Function("PCase", 1, 2, _pcase, "PCase(source, wordSeparators)"),
        Function(
            "RandomString",
            5,
            6,
            _random_string,
            "RandomString(Length, MinimumNumbers, MinimumSpecialCharacters, MinimumCapital, MinimumLowerCase, "
            "CharactersToAvoid)",
        ),
        # The provisioning log keeps no attribute values (emulators/entra/log.py), so there is nothing to redact.
        Function("Redact", 1, 1, lambda a: a[0], "Redact(attribute or value)"),
        Function("RemoveDuplicates", 1, 1, _remove_duplicates, "RemoveDuplicates(attribute)"),
        Function(
            "SelectUniqueValue",
            2,
            None,
            _unsupported("SelectUniqueValue", "not for SCIM apps"),
            "SelectUniqueValue(uniqueValueRule1, uniqueValueRule2, ...)",
            refused="Microsoft supports it only for provisioning to Active Directory (Workday, SuccessFactors, "
            'API-driven inbound): "SelectUniqueValue isn\'t supported for use with other provisioning applications"',
        ),
        Function("Split", 2, 2, _split, "Split(source, delimiter)"),
        Function("Trim", 1, 1, _text_fn(str.strip), "Trim(source)"),  # Cloud Sync's reference (CLOUD_SYNC_URL)
        Function("Word", 3, 3, _word, "Word(String, WordNumber, Delimiters)"),
    )
}
