"""The Okta Expression Language of attribute mappings (docs/okta-idp.md §9a; Okta's reference, OKTA_EL_URL).

Supported: ``user.<attribute>``, string literals (``'…'`` or ``"…"``, a quote doubled inside), numbers
(``1234``, ``3.141``), array literals (``{10, 20}``), ``null``/``true``/``false``, ``+`` and ``-``, ``==``,
``!=``, ``<``, ``<=``, ``>``, ``>=``, ``!``, ``&&``/``AND``, ``||``/``OR``, ``test ? a : b``, parentheses;
every ``String.*`` function of the reference and its deprecated forms (``toUpperCase``, ``toLowerCase``,
``substringBefore``, ``substringAfter``, ``substring``), ``Arrays.*``, ``Convert.*`` and the group functions
(``isMemberOfGroupName`` and the others, ``getFilteredGroups``), which read the groups the engine binds beside
the profile (``with_groups``).

Okta's language is built on Spring's SpEL, so null handling follows SpEL and Java: ``+`` writes a
null operand as ``"null"``, and ``substringBefore``/``substringAfter`` behave like Apache Commons
``StringUtils`` when the separator is missing. These semantics are inferred, not documented by Okta.
Everything that can be checked without data (syntax, function names and arity, attribute names,
conditions that are plainly strings) is checked by ``compile_expression``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pycountry

from emulators.core.errors import ConfigurationError
from emulators.okta import times


class ExpressionError(ConfigurationError):
    """An expression that cannot be used: a syntax error, an unknown function or attribute."""


class EvaluationError(ValueError):
    """An expression that failed on a user's data (e.g. a condition that is not a boolean)."""


OKTA_EL_URL = "https://developer.okta.com/docs/reference/okta-expression-language/"


@dataclass(frozen=True)
class Literal:
    value: str | bool | int | float | None


@dataclass(frozen=True)
class Array:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Member:
    """An attribute of a user a function returns: ``getManagerUser("active_directory").firstName``."""

    target: Node
    name: str


@dataclass(frozen=True)
class Attribute:
    name: str


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Conditional:
    test: Node
    then: Node
    otherwise: Node


Node = Literal | Attribute | Call | Binary | Conditional | Array | Not | Member


def _text(value: Any) -> str:
    """Java's string conversion: null -> "null", booleans lower case, lists as [a, b]."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_text(item) for item in value) + "]"
    return str(value)


def _lower(value: Any) -> str | None:
    return None if value is None else _text(value).lower()


def _upper(value: Any) -> str | None:
    return None if value is None else _text(value).upper()


def _before(value: Any, separator: Any) -> str | None:
    if value is None:
        return None
    text = _text(value)
    if separator is None:
        return text
    found = text.find(_text(separator))
    return text if found < 0 else text[:found]


def _after(value: Any, separator: Any) -> str | None:
    if value is None:
        return None
    text = _text(value)
    if separator is None:
        return ""
    sep = _text(separator)
    found = text.find(sep)
    return "" if found < 0 else text[found + len(sep) :]


def _join(separator: Any, *items: Any) -> str:
    flat = [inner for item in items for inner in (item if isinstance(item, list) else [item])]
    return _text(separator).join(_text(item) for item in flat)


def _each(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Applied to every element when the input is an array (Okta applies String.replace to a list of group
    names; support.okta.com's "flattening filtered groups" article), else to the value."""

    def apply(value: Any, *args: Any) -> Any:
        if isinstance(value, list):
            return [fn(item, *args) for item in value]
        return fn(value, *args)

    return apply


def _append(value: Any, suffix: Any) -> Any:
    return None if value is None else _text(value) + _text(suffix)


def _len(value: Any) -> int:
    return 0 if value is None else len(_text(value))  # inferred: an absent value has no characters


def _replace(value: Any, match: Any, replacement: Any, count: int = -1) -> Any:
    """Every occurrence of ``match`` (``count`` -1), or the first; the documented examples read as literal text
    (inferred: Okta does not say whether ``match`` is a regular expression)."""
    if value is None:
        return None
    return _text(value).replace(_text(match), _text(replacement), count)


def _contains(value: Any, search: Any) -> bool:
    return value is not None and search is not None and _text(search) in _text(value)


def _string_switch(value: Any, default: Any, *pairs: Any) -> Any:
    """The value of the first key (in the given order) that occurs in the input; keys match as substrings."""
    text = "" if value is None else _text(value)
    for key, result in zip(pairs[::2], pairs[1::2], strict=True):
        if key is not None and _text(key) in text:
            return result
    return default


def _substring(value: Any, start: Any, end: Any) -> Any:
    """Java's substring(begin, end): the characters from ``start`` up to, not including, ``end``; indexes outside
    the text fail as Java's do."""
    if value is None:
        return None
    text, begin, stop = _text(value), _whole(start), _whole(end)
    if not 0 <= begin <= stop <= len(text):
        raise EvaluationError(f"substring({text!r}, {begin}, {stop}): the indexes are outside the text")
    return text[begin:stop]


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise EvaluationError(f"{_text(value)!r} is not a number")
    try:
        return int(float(value))
    except ValueError:
        raise EvaluationError(f"{value!r} is not a number") from None


def _array(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _flatten(*values: Any) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, list):
            out.extend(_flatten(*value))
        else:
            out.append(value)
    return out


def _remove(values: Any, value: Any) -> list[Any]:
    out = _array(values)
    if value in out:
        out.remove(value)  # Java's List.remove(Object): the first occurrence
    return out


def _get(values: Any, position: Any) -> Any:
    items, index = _array(values), _whole(position)
    return items[index] if 0 <= index < len(items) else None


def _to_int(value: Any) -> Any:
    """Convert.toInt: a whole number from text, a double rounded to the nearest (Java's Math.round: halves up)."""
    if value is None:
        return None
    if isinstance(value, float):
        return math.floor(value + 0.5)
    try:
        return int(_text(value).strip())
    except ValueError:
        raise EvaluationError(f"Convert.toInt: {_text(value)!r} is not a whole number") from None


def _to_num(value: Any) -> Any:
    if value is None:
        return None
    try:
        return float(_text(value).strip())
    except ValueError:
        raise EvaluationError(f"Convert.toNum: {_text(value)!r} is not a number") from None


def _time(fn: Callable[..., str]) -> Callable[..., Any]:
    """A Time function: null in, null out; a value Okta would not read fails the user (inferred)."""

    def apply(*args: Any) -> Any:
        if any(arg is None for arg in args):
            return None
        try:
            return fn(*(_text(arg) for arg in args))
        except times.TimeError as exc:
            raise EvaluationError(str(exc)) from None

    return apply


def _country(field: str) -> Callable[[Any], Any]:
    """Iso3166Convert.toAlpha2/toAlpha3/toNumeric/toName: the input may be any of alpha-2, alpha-3 or numeric, and
    the function finds which (Okta's note); an unknown code fails the user (inferred)."""

    def apply(code: Any) -> Any:
        if code is None:
            return None
        text = _text(code).strip()
        key = "numeric" if text.isdigit() else {2: "alpha_2", 3: "alpha_3"}.get(len(text))
        found = pycountry.countries.get(**{key: text.zfill(3) if key == "numeric" else text}) if key else None
        if found is None:
            raise EvaluationError(f"Iso3166Convert: {text!r} is not an ISO 3166-1 country code")
        return str(getattr(found, field))

    return apply


def _now(zone_id: Any = None, pattern: Any = None) -> str:
    try:
        moment = datetime.now(times.zone(None if zone_id is None else _text(zone_id)))
    except times.TimeError as exc:
        raise EvaluationError(str(exc)) from None
    return times.iso(moment) if pattern is None else times.format_joda(moment, _text(pattern))


# The user's groups, as the engine binds them beside the profile attributes: (group id, group name) pairs; and the
# user's manager's profile (getManagerUser).
GROUPS = "$groups"
MANAGER = "$manager"
MANAGER_SOURCES = ("active_directory",)  # Okta: "active_directory is the only supported value for managerSource"


def with_groups(
    profile: Mapping[str, Any],
    groups: Callable[[], list[tuple[str, str]]],
    manager: Callable[[], Mapping[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """The attributes an expression sees: the user's profile, and (read only when a function asks, since finding
    them walks the directory) the user's groups as (id, name) pairs and the manager's profile."""
    return {**profile, GROUPS: groups, MANAGER: manager or (lambda: None)}


def _linked_object(context: Mapping[str, Any], primary: Any) -> Any:
    """user.getLinkedObject(primaryName): the user on the other end of a linked-object relationship; the directory
    models one, ``manager`` (its managerId or manager), so any other relationship is null (inferred)."""
    if _text(primary) != "manager":
        return None
    found = context.get(MANAGER)
    return found() if callable(found) else None


def _manager(context: Mapping[str, Any], source: Any) -> Any:
    if _text(source) not in MANAGER_SOURCES:
        raise EvaluationError(f"getManagerUser: Okta reads managers from {', '.join(MANAGER_SOURCES)} only")
    found = context.get(MANAGER)
    return found() if callable(found) else None


def _groups(context: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    found = context.get(GROUPS)
    return tuple(found() if callable(found) else found or ())


def _name_regex(context: Mapping[str, Any], pattern: Any) -> bool:
    """isMemberOfGroupNameRegex: a group name matching the whole pattern; the reference's example writes a
    leading "/" (``"/.*admin.*"``), read here as a delimiter (inferred)."""
    text = _text(pattern).removeprefix("/")
    try:
        compiled = re.compile(text)
    except re.error as exc:
        raise EvaluationError(f"isMemberOfGroupNameRegex: {text!r} is not a regular expression: {exc}") from None
    return any(compiled.fullmatch(name) for _, name in _groups(context))


def _filtered_groups(context: Mapping[str, Any], ids: Any, expression: Any, limit: Any) -> list[Any]:
    """getFilteredGroups(group ids, "group.name" or "group.id", limit): the user's groups among ``ids``."""
    wanted = {_text(i) for i in _array(ids)}
    field = _text(expression)
    if field not in ("group.name", "group.id"):
        raise EvaluationError(f"getFilteredGroups: {field!r}; the emulator reads group.name or group.id")
    found = [gid if field == "group.id" else name for gid, name in _groups(context) if gid in wanted]
    return found[: _whole(limit)]


@dataclass(frozen=True)
class Function:
    fewest: int
    most: int | None  # None: any number
    apply: Callable[..., Any]
    kind: str = "string"  # what it returns, for the compile-time condition check: string, boolean, number, array
    even_tail: bool = False  # String.stringSwitch: key/value pairs after the first two arguments
    context: bool = False  # takes the evaluation's attributes first (the group functions read the user's groups)
    refused: str = ""  # why an attribute mapping cannot use it (Okta's words), checked at compile time


FUNCTIONS: dict[str, Function] = {
    "String.append": Function(2, 2, _append),
    "String.join": Function(1, None, _join),
    "String.len": Function(1, 1, _len, "number"),
    "String.removeSpaces": Function(1, 1, _each(lambda v: None if v is None else _text(v).replace(" ", ""))),
    "String.replace": Function(3, 3, _each(_replace)),
    "String.replaceFirst": Function(3, 3, _each(lambda v, m, r: _replace(v, m, r, 1))),
    "String.stringContains": Function(2, 2, _contains, "boolean"),
    "String.stringSwitch": Function(2, None, _string_switch, "any", even_tail=True),
    "String.substring": Function(3, 3, _substring),
    "String.substringAfter": Function(2, 2, _after),
    "String.substringBefore": Function(2, 2, _before),
    "String.toLowerCase": Function(1, 1, _lower),
    "String.toUpperCase": Function(1, 1, _upper),
    # deprecated forms, still accepted (OKTA_EL_URL, String Functions)
    "toUpperCase": Function(1, 1, _upper),
    "toLowerCase": Function(1, 1, _lower),
    "substringBefore": Function(2, 2, _before),
    "substringAfter": Function(2, 2, _after),
    "substring": Function(3, 3, _substring),
    "Arrays.add": Function(2, 2, lambda a, v: [*_array(a), v], "array"),
    "Arrays.remove": Function(2, 2, _remove, "array"),
    "Arrays.clear": Function(1, 1, lambda a: [], "array"),
    "Arrays.get": Function(2, 2, _get, "any"),
    "Arrays.flatten": Function(1, None, _flatten, "array"),
    "Arrays.contains": Function(2, 2, lambda a, v: v in _array(a), "boolean"),
    "Arrays.size": Function(1, 1, lambda a: len(_array(a)), "number"),
    "Arrays.isEmpty": Function(1, 1, lambda a: not _array(a), "boolean"),
    "Arrays.toCsvString": Function(1, 1, lambda a: ",".join(_text(v) for v in _array(a))),
    "Convert.toInt": Function(1, 1, _to_int, "number"),
    "Convert.toNum": Function(1, 1, _to_num, "number"),
    # Manager function: the manager's Okta user, whose attributes follow a "." (Manager/Assistant Functions)
    "getManagerUser": Function(1, 1, _manager, "user", context=True),
    # Linked Object Function: user.getLinkedObject("manager").lastName
    "user.getLinkedObject": Function(1, 1, _linked_object, "user", context=True),
    # Directory and Workday Functions: the emulated org has no Active Directory or Workday integration (the
    # directory file is its only source), so no user has such an assignment and the app user found is null
    "hasDirectoryUser": Function(0, 0, lambda: False, "boolean"),
    "hasWorkdayUser": Function(0, 0, lambda: False, "boolean"),
    "findDirectoryUser": Function(0, 0, lambda: None, "appuser"),
    "findWorkdayUser": Function(0, 0, lambda: None, "appuser"),
    # Country Code Conversion Functions (ISO 3166-1)
    "Iso3166Convert.toAlpha2": Function(1, 1, _country("alpha_2")),
    "Iso3166Convert.toAlpha3": Function(1, 1, _country("alpha_3")),
    "Iso3166Convert.toNumeric": Function(1, 1, _country("numeric")),
    "Iso3166Convert.toName": Function(1, 1, _country("name")),
    # Time Functions
    "Time.now": Function(0, 2, _now),
    "Time.fromWindowsToIso8601": Function(1, 1, _time(times.from_windows)),
    "Time.fromUnixToIso8601": Function(1, 1, _time(times.from_unix)),
    "Time.fromStringToIso8601": Function(2, 2, _time(lambda t, p: times.iso(times.parse_joda(t, p)))),
    "Time.fromIso8601ToWindows": Function(1, 1, _time(times.to_windows)),
    "Time.fromIso8601ToUnix": Function(1, 1, _time(times.to_unix)),
    "Time.fromIso8601ToString": Function(2, 2, _time(lambda t, p: times.format_joda(times.parse_iso(t), p))),
    # Group Functions
    "isMemberOfGroupName": Function(
        1, 1, lambda c, n: any(name == _text(n) for _, name in _groups(c)), "boolean", context=True
    ),
    "isMemberOfGroup": Function(
        1, 1, lambda c, i: any(gid == _text(i) for gid, _ in _groups(c)), "boolean", context=True
    ),
    "isMemberOfAnyGroup": Function(
        1, None, lambda c, *ids: any(gid in {_text(i) for i in ids} for gid, _ in _groups(c)), "boolean", context=True
    ),
    "isMemberOfGroupNameStartsWith": Function(
        1, 1, lambda c, p: any(name.startswith(_text(p)) for _, name in _groups(c)), "boolean", context=True
    ),
    "isMemberOfGroupNameContains": Function(
        1, 1, lambda c, p: any(_text(p) in name for _, name in _groups(c)), "boolean", context=True
    ),
    "isMemberOfGroupNameRegex": Function(1, 1, _name_regex, "boolean", context=True),
    "getFilteredGroups": Function(3, 3, _filtered_groups, "array", context=True),
    **{
        f"Groups.{name}": Function(
            3,
            3,
            lambda *a: None,
            "array",
            refused="Okta: designed to work only with group claims; "
            "you can't use these functions with property mappings",
        )
        for name in ("contains", "startsWith", "endsWith")
    },
}

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      |(?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
      |(?P<number>\d+(?:\.\d+)?)
      |(?P<op>==|!=|<=|>=|&&|\|\||[-+?:(),.{}<>!])
      |(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _tokens(source: str) -> Iterator[_Token]:
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise ExpressionError(f"unexpected character {source[pos]!r} at column {pos + 1}")
        kind = match.lastgroup or ""
        if kind != "ws":
            yield _Token(kind, match.group(), pos)
        pos = match.end()
    yield _Token("end", "", pos)


class _Parser:
    """Recursive descent, lowest precedence first: ?:, || (OR), && (AND), == !=, < <= > >=, + -, ! (NOT),
    primary."""

    def __init__(self, source: str, known: frozenset[str]) -> None:
        self.tokens = list(_tokens(source))
        self.index = 0
        self.known = known

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def take(self, text: str | None = None) -> _Token:
        token = self.token
        if text is not None and token.text != text:
            found = "the end" if token.kind == "end" else repr(token.text)
            raise ExpressionError(f"expected {text!r} at column {token.pos + 1}, found {found}")
        self.index += 1
        return token

    def parse(self) -> Node:
        node = self.conditional()
        if self.token.kind != "end":
            raise ExpressionError(f"unexpected {self.token.text!r} at column {self.token.pos + 1}")
        return node

    def conditional(self) -> Node:
        test = self.binary(0)
        if self.token.text != "?":
            return test
        self.take("?")
        then = self.conditional()
        self.take(":")
        return Conditional(test, then, self.conditional())

    _LEVELS: tuple[tuple[str, ...], ...] = (("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="), ("+", "-"))
    _WORDS = {"or": "||", "and": "&&"}  # SpEL's textual operators, as Okta's samples write them (AND, OR)

    def _operator(self, level: int) -> str | None:
        token = self.token
        text = self._WORDS.get(token.text.lower(), "") if token.kind == "name" else token.text
        return text if token.kind in ("op", "name") and text in self._LEVELS[level] else None

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while (op := self._operator(level)) is not None:
            self.take()
            node = Binary(op, node, self.binary(level + 1))
        return node

    def unary(self) -> Node:
        if self.token.text == "!" or (self.token.kind == "name" and self.token.text.lower() == "not"):
            self.take()
            return Not(self.unary())
        if self.token.text == "-" and self.tokens[self.index + 1].kind == "number":
            self.take()
            number = self.take().text
            return Literal(-(float(number) if "." in number else int(number)))
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "string":
            quote = token.text[0]
            return Literal(token.text[1:-1].replace(quote * 2, quote))
        if token.kind == "number":
            return Literal(float(token.text) if "." in token.text else int(token.text))
        if token.text == "{":
            items: list[Node] = []
            if self.token.text != "}":
                items.append(self.conditional())
                while self.token.text == ",":
                    self.take(",")
                    items.append(self.conditional())
            self.take("}")
            return Array(tuple(items))
        if token.text == "(":
            node = self.conditional()
            self.take(")")
            return node
        if token.kind != "name":
            found = "the end" if token.kind == "end" else repr(token.text)
            raise ExpressionError(f"expected a value at column {token.pos + 1}, found {found}")
        keyword = token.text.lower()
        if keyword in ("null", "true", "false") and self.token.text not in (".", "("):
            return Literal(None if keyword == "null" else keyword == "true")
        name = token.text
        if self.token.text == ".":
            self.take(".")
            name += "." + self.take_name()
        if self.token.text == "(":
            call = self.call(name, token.pos)
            kind = FUNCTIONS[call.function].kind
            if kind == "appuser":  # another app's user: its attributes are that app's, not Okta's
                self.take(".")
                return Member(call, self.take_name())
            if kind != "user":
                return call
            source = call.args[0]
            if (
                call.function == "getManagerUser"
                and isinstance(source, Literal)
                and source.value not in MANAGER_SOURCES
            ):
                raise ExpressionError(
                    f"{call.function} at column {token.pos + 1}: Okta reads managers from "
                    f"{', '.join(MANAGER_SOURCES)} only, not {_text(source.value)!r}"
                )
            self.take(".")
            attr = self.take_name()
            if attr not in self.known:
                raise ExpressionError(f"unknown attribute {attr} of {call.function} at column {token.pos + 1}")
            return Member(call, attr)
        return self.attribute(name, token.pos)

    def take_name(self) -> str:
        token = self.take()
        if token.kind != "name":
            raise ExpressionError(f"expected a name after '.' at column {token.pos + 1}")
        return token.text

    def call(self, name: str, pos: int) -> Call:
        if name not in FUNCTIONS:
            hint = _suggest(name, FUNCTIONS) or f"; supported: {', '.join(FUNCTIONS)}"
            raise ExpressionError(f"unknown function {name} at column {pos + 1}{hint}")
        if FUNCTIONS[name].refused:
            raise ExpressionError(f"{name} at column {pos + 1} cannot be used in a mapping: {FUNCTIONS[name].refused}")
        self.take("(")
        args: list[Node] = []
        if self.token.text != ")":
            args.append(self.conditional())
            while self.token.text == ",":
                self.take(",")
                args.append(self.conditional())
        self.take(")")
        function = FUNCTIONS[name]
        fewest, most = function.fewest, function.most
        odd = function.even_tail and (len(args) - fewest) % 2 != 0
        if len(args) < fewest or (most is not None and len(args) > most) or odd:
            wanted = f"{fewest}" if fewest == most else f"at least {fewest}"
            if function.even_tail:
                wanted += " and then key/value pairs"
            raise ExpressionError(f"{name} takes {wanted} argument(s), not {len(args)} (column {pos + 1})")
        return Call(name, tuple(args))

    def attribute(self, name: str, pos: int) -> Attribute:
        scope, _, attr = name.partition(".")
        if scope != "user" or not attr:
            raise ExpressionError(f"unknown name {name} at column {pos + 1}; attributes are written user.<name>")
        if attr not in self.known:
            hint = _suggest(attr, self.known, prefix="user.")
            raise ExpressionError(f"unknown attribute user.{attr} at column {pos + 1}{hint}")
        return Attribute(attr)


def _suggest(name: str, choices: Mapping[str, Any] | frozenset[str], prefix: str = "") -> str:
    bare = name.rsplit(".", 1)[-1].lower()
    namespace = name.rsplit(".", 1)[0] if "." in name else ""
    # the same namespace first ("String.toLowercase" -> String.toLowerCase, "toLowercase" -> toLowerCase)
    ranked = sorted(choices, key=lambda choice: (choice.rsplit(".", 1)[0] if "." in choice else "") == namespace)
    by_bare = {choice.rsplit(".", 1)[-1].lower(): choice for choice in ranked}
    close = difflib.get_close_matches(bare, list(by_bare), n=1)
    return f" (did you mean {prefix}{by_bare[close[0]]}?)" if close else ""


def _kind(node: Node) -> str:
    """The static type of a node: string, boolean, number, array, null or any (an attribute, or a ?: of mixed
    kinds)."""
    if isinstance(node, Literal):
        if node.value is None:
            return "null"
        if isinstance(node.value, bool):
            return "boolean"
        return "number" if isinstance(node.value, (int, float)) else "string"
    if isinstance(node, Array):
        return "array"
    if isinstance(node, Not):
        return "boolean"
    if isinstance(node, Member):
        return "any"
    if isinstance(node, Binary):
        return "any" if node.op in ("+", "-") else "boolean"
    if isinstance(node, Call):
        return FUNCTIONS[node.function].kind
    if isinstance(node, Conditional):
        kinds = {_kind(node.then), _kind(node.otherwise)}
        return kinds.pop() if len(kinds) == 1 else "any"
    return "any"


def _check_conditions(node: Node) -> None:
    tests: list[Node] = []
    if isinstance(node, Conditional):
        tests.append(node.test)
    elif isinstance(node, Binary) and node.op in ("&&", "||"):
        tests.extend((node.left, node.right))
    elif isinstance(node, Not):
        tests.append(node.operand)
    for test in tests:
        if _kind(test) in ("string", "null", "number", "array"):
            raise ExpressionError(
                f"{render(test)} is used as a condition but is not a boolean; compare it, e.g. x != null"
            )
    for child in _children(node):
        _check_conditions(child)


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Array):
        return node.items
    if isinstance(node, Not):
        return (node.operand,)
    if isinstance(node, Member):
        return (node.target,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Conditional):
        return (node.test, node.then, node.otherwise)
    return ()


def _boolean(value: Any, node: Node) -> bool:
    if not isinstance(value, bool):
        raise EvaluationError(f"{render(node)} is {_text(value)!r}, not true or false")
    return value


def evaluate(node: Node, attributes: Mapping[str, Any]) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Attribute):
        return attributes.get(node.name)
    if isinstance(node, Call):
        function = FUNCTIONS[node.function]
        args = [evaluate(arg, attributes) for arg in node.args]
        return function.apply(attributes, *args) if function.context else function.apply(*args)
    if isinstance(node, Array):
        return [evaluate(item, attributes) for item in node.items]
    if isinstance(node, Not):
        return not _boolean(evaluate(node.operand, attributes), node.operand)
    if isinstance(node, Member):
        holder = evaluate(node.target, attributes)
        return holder.get(node.name) if isinstance(holder, Mapping) else None
    if isinstance(node, Conditional):
        chosen = node.then if _boolean(evaluate(node.test, attributes), node.test) else node.otherwise
        return evaluate(chosen, attributes)
    if node.op == "&&":
        return _boolean(evaluate(node.left, attributes), node.left) and _boolean(
            evaluate(node.right, attributes), node.right
        )
    if node.op == "||":
        return _boolean(evaluate(node.left, attributes), node.left) or _boolean(
            evaluate(node.right, attributes), node.right
        )
    left, right = evaluate(node.left, attributes), evaluate(node.right, attributes)
    if node.op == "==":
        return _equal(left, right)
    if node.op == "!=":
        return not _equal(left, right)
    if node.op in ("<", "<=", ">", ">="):
        return _order(node.op, left, right, node)
    if node.op == "-":
        if not (_is_number(left) and _is_number(right)):
            raise EvaluationError(f"{render(node)}: '-' takes two numbers, not {_text(left)!r} and {_text(right)!r}")
        return left - right
    if _is_number(left) and _is_number(right):
        return left + right  # SpEL adds numbers; anything else concatenates as text
    return None if left is None and right is None else _text(left) + _text(right)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _equal(left: Any, right: Any) -> bool:
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    if _is_number(left) != _is_number(right):
        return False  # SpEL: a number never equals a string (Integer.equals)
    return bool(left == right)


def _order(op: str, left: Any, right: Any, node: Node) -> bool:
    """SpEL's relational operators: numbers by value, strings in code-point order; null fails (inferred)."""
    comparable = (_is_number(left) and _is_number(right)) or (isinstance(left, str) and isinstance(right, str))
    if not comparable:
        raise EvaluationError(f"{render(node)}: {_text(left)!r} and {_text(right)!r} cannot be compared")
    return bool({"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op])


def render(node: Node) -> str:
    """Source text for a node, fully parenthesised, so that parsing it gives the same node back."""
    if isinstance(node, Literal):
        if node.value is None or isinstance(node.value, (bool, int, float)):
            return _text(node.value) if not isinstance(node.value, float) else repr(node.value)
        return "'" + node.value.replace("'", "''") + "'"
    if isinstance(node, Array):
        return "{" + ", ".join(render(item) for item in node.items) + "}"
    if isinstance(node, Not):
        return f"(!{render(node.operand)})"
    if isinstance(node, Member):
        return f"{render(node.target)}.{node.name}"
    if isinstance(node, Attribute):
        return f"user.{node.name}"
    if isinstance(node, Call):
        return f"{node.function}({', '.join(render(arg) for arg in node.args)})"
    if isinstance(node, Conditional):
        return f"({render(node.test)} ? {render(node.then)} : {render(node.otherwise)})"
    return f"({render(node.left)} {node.op} {render(node.right)})"


@dataclass(frozen=True)
class CompiledExpression:
    source: str
    node: Node

    def evaluate(self, attributes: Mapping[str, Any]) -> Any:
        return evaluate(self.node, attributes)


def parse(source: str, known_attributes: frozenset[str]) -> Node:
    """Parse and check an expression; ExpressionError says what is wrong and where."""
    node = _Parser(source, known_attributes).parse()
    _check_conditions(node)
    return node


def compile_expression(source: str, known_attributes: frozenset[str]) -> CompiledExpression:
    """The ``ExpressionCompiler`` for Okta mappings."""
    return CompiledExpression(source, parse(source, known_attributes))
