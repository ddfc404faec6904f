"""The subset of the Okta Expression Language used in attribute mappings (docs/okta-idp.md §9).

Supported: ``user.<attribute>``, string literals (``'…'`` or ``"…"``, a quote doubled inside),
``null``/``true``/``false``, ``+``, ``==``, ``!=``, ``&&``, ``||``, ``test ? a : b``, parentheses, and
``String.toLowerCase``, ``toUpperCase``, ``substringBefore``, ``substringAfter``, ``join``.

Okta's language is built on Spring's SpEL, so null handling follows SpEL and Java: ``+`` writes a
null operand as ``"null"``, and ``substringBefore``/``substringAfter`` behave like Apache Commons
``StringUtils`` when the separator is missing. These semantics are inferred, not documented by Okta.
Everything that can be checked without data (syntax, function names and arity, attribute names,
conditions that are plainly strings) is checked by ``compile_expression``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from emulators.core.errors import ConfigurationError


class ExpressionError(ConfigurationError):
    """An expression that cannot be used: a syntax error, an unknown function or attribute."""


class EvaluationError(ValueError):
    """An expression that failed on a user's data (e.g. a condition that is not a boolean)."""


@dataclass(frozen=True)
class Literal:
    value: str | bool | None


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


Node = Literal | Attribute | Call | Binary | Conditional


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


# name -> (fewest arguments, most arguments or None for any, implementation)
FUNCTIONS: dict[str, tuple[int, int | None, Callable[..., Any]]] = {
    "String.toLowerCase": (1, 1, _lower),
    "String.toUpperCase": (1, 1, _upper),
    "String.substringBefore": (2, 2, _before),
    "String.substringAfter": (2, 2, _after),
    "String.join": (1, None, _join),
}

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      |(?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
      |(?P<op>==|!=|&&|\|\||[+?:(),.])
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
    """Recursive descent, lowest precedence first: ?:, ||, &&, == !=, +, primary."""

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

    _LEVELS: tuple[tuple[str, ...], ...] = (("||",), ("&&",), ("==", "!="), ("+",))

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.primary()
        node = self.binary(level + 1)
        while self.token.kind == "op" and self.token.text in self._LEVELS[level]:
            op = self.take().text
            node = Binary(op, node, self.binary(level + 1))
        return node

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "string":
            quote = token.text[0]
            return Literal(token.text[1:-1].replace(quote * 2, quote))
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
            return self.call(name, token.pos)
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
        self.take("(")
        args: list[Node] = []
        if self.token.text != ")":
            args.append(self.conditional())
            while self.token.text == ",":
                self.take(",")
                args.append(self.conditional())
        self.take(")")
        fewest, most, _ = FUNCTIONS[name]
        if len(args) < fewest or (most is not None and len(args) > most):
            wanted = f"{fewest}" if fewest == most else f"at least {fewest}"
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
    by_bare = {choice.rsplit(".", 1)[-1].lower(): choice for choice in choices}
    close = difflib.get_close_matches(bare, list(by_bare), n=1)
    return f" (did you mean {prefix}{by_bare[close[0]]}?)" if close else ""


def _kind(node: Node) -> str:
    """The static type of a node: string, boolean, null or any (an attribute or a ?: of mixed kinds)."""
    if isinstance(node, Literal):
        return "null" if node.value is None else "boolean" if isinstance(node.value, bool) else "string"
    if isinstance(node, Binary):
        return "string" if node.op == "+" else "boolean"
    if isinstance(node, Call):
        return "string"
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
    for test in tests:
        if _kind(test) in ("string", "null"):
            raise ExpressionError(
                f"{render(test)} is used as a condition but is not a boolean; compare it, e.g. x != null"
            )
    for child in _children(node):
        _check_conditions(child)


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Call):
        return node.args
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
        return FUNCTIONS[node.function][2](*(evaluate(arg, attributes) for arg in node.args))
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
        return left == right
    if node.op == "!=":
        return left != right
    return None if left is None and right is None else _text(left) + _text(right)


def render(node: Node) -> str:
    """Source text for a node, fully parenthesised, so that parsing it gives the same node back."""
    if isinstance(node, Literal):
        if node.value is None or isinstance(node.value, bool):
            return _text(node.value)
        return "'" + node.value.replace("'", "''") + "'"
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
