"""The built-in functions of the Entra expression subset, with their arities (docs/entra-idp.md §9).

Null handling is inferred where Microsoft's docs are silent: string functions return null for a
null source, Join and Coalesce skip nulls, and Switch compares keys with the source text
case-insensitively, so a lowercased ``active`` expression yields ``"false"`` (docs/entra-idp.md §5).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from emulators.core.mapping import is_empty


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
    text = as_text(args[0])
    return None if text is None else text[: max(_integer(args[1], "Left numChars"), 0)]


def _mid(args: list[Any]) -> Any:
    text = as_text(args[0])
    if text is None:
        return None
    start, length = _integer(args[1], "Mid start"), _integer(args[2], "Mid length")
    return text[max(start - 1, 0) : max(start - 1, 0) + max(length, 0)]


def _replace(args: list[Any]) -> Any:
    """Replace(source, oldValue, regexPattern, regexGroupName, replacementValue, replacementAttributeName, template)."""
    source, old, pattern, group, replacement, replacement_attr, template = (as_text(a) for a in args)
    new = replacement if replacement is not None else (replacement_attr or "")
    if template is not None and old is not None:
        return template.replace(old, source or "")
    if source is None:
        return None
    if old is not None:
        return source.replace(old, new)
    if pattern is not None:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise EvaluationError(f"Replace: bad regexPattern {pattern!r}: {exc}") from None
        if group is None:
            return compiled.sub(lambda _: new, source)
        return compiled.sub(lambda m: m.group(0).replace(m.group(group) or "", new), source)
    return source


def _single_app_role(args: list[Any]) -> Any:
    roles = args[0]
    if not isinstance(roles, list) or not roles:
        return None
    return roles[0]


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


@dataclass(frozen=True)
class Function:
    name: str
    min_args: int
    max_args: int | None
    apply: Callable[[list[Any]], Any]
    signature: str
    even_tail: bool = False  # Switch: key/value pairs after the first two arguments


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
    )
}
