"""Entra's attribute-mapping expression language, as the emulator evaluates it (docs/entra-idp.md §9a).

Grammar (a tokenizer and a recursive-descent parser; no regular expressions read the text)::

    expression := operand [ OPERATOR operand ]     OPERATOR: = <> < <= > >= (Microsoft: IIF's conditions)
    operand    := STRING | NUMBER | "[" attribute "]" | NAME "(" [ argument { "," argument } ] ")" | CONSTANT
    argument   := [ expression ]          (an empty argument is null, e.g. Switch([x], , ...))

Strings are double-quoted; ``\\"`` and ``\\\\`` escape a quote and a backslash. Numbers are decimal (``7``,
``-10``, ``1.5``) or VBA hexadecimal (``&HF7``, as BitAnd's example writes them). A bare name is one of VBA's
constants (``vbTextCompare``, ``vbBinaryCompare``). Function names are case-insensitive; the functions and their
null handling are in ``functions.py``. Unknown functions, wrong arity, functions Microsoft refuses for SCIM apps
and unknown attributes are ``ExpressionError`` at compile time, with their position.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emulators.core.errors import ConfigurationError
from emulators.entra.functions import CONSTANTS, FUNCTIONS, EvaluationError, as_text

MAX_LENGTH = 10_000  # docs/entra-idp.md §9: expressions are at most 10,000 characters


class ExpressionError(ConfigurationError):
    """An expression that cannot be used: a syntax error, an unknown function or attribute, a wrong arity."""


@dataclass(frozen=True)
class Literal:
    value: str | int | float | None


@dataclass(frozen=True)
class Attribute:
    name: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Compare:
    operator: str  # = <> < <= > >=
    left: Node
    right: Node


Node = Literal | Attribute | Call | Compare
OPERATORS = ("<>", "<=", ">=", "=", "<", ">")


@dataclass(frozen=True)
class Token:
    kind: str  # STRING NUMBER ATTR NAME ( ) , OP END
    text: str
    position: int


_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "(),":
            tokens.append(Token(ch, ch, i))
            i += 1
        elif ch in "=<>":
            operator = next(op for op in OPERATORS if text.startswith(op, i))
            tokens.append(Token("OP", operator, i))
            i += len(operator)
        elif ch == "&" and text[i + 1 : i + 2] in ("H", "h") and text[i + 2 : i + 3] in _HEX:
            start, i = i, i + 2
            while i < n and text[i] in _HEX:
                i += 1
            tokens.append(Token("NUMBER", str(int(text[start + 2 : i], 16)), start))
        elif ch == '"':
            value, i = _read_string(text, i)
            tokens.append(Token("STRING", value, i))
        elif ch == "[":
            end = text.find("]", i + 1)
            name = text[i + 1 : end].strip() if end != -1 else ""
            if end == -1 or not name:
                raise ExpressionError(f"position {i}: '[' must enclose an attribute name and close with ']'")
            tokens.append(Token("ATTR", name, i))
            i = end + 1
        elif ch in _DIGITS or (ch == "-" and i + 1 < n and text[i + 1] in _DIGITS):
            start = i
            i += 1
            while i < n and (text[i] in _DIGITS or (text[i] == "." and text[i + 1 : i + 2] in _DIGITS)):
                i += 1
            tokens.append(Token("NUMBER", text[start:i], start))
        elif ch.isalpha() or ch == "_":
            start = i
            while i < n and (text[i].isalnum() or text[i] == "_"):
                i += 1
            tokens.append(Token("NAME", text[start:i], start))
        else:
            raise ExpressionError(f"position {i}: unexpected character {ch!r}")
    tokens.append(Token("END", "", n))
    return tokens


def _read_string(text: str, start: int) -> tuple[str, int]:
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in '"\\':
            out.append(text[i + 1])
            i += 2
        elif ch == '"':
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise ExpressionError(f"position {start}: the string that starts here is not closed with '\"'")


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def take(self, kind: str) -> Token:
        token = self.token
        if token.kind != kind:
            found = "the end" if token.kind == "END" else repr(token.text)
            raise ExpressionError(f"position {token.position}: expected {_describe(kind)}, found {found}")
        self.index += 1
        return token

    def parse(self) -> Node:
        node = self.expression()
        self.take("END")
        return node

    def expression(self) -> Node:
        left = self.operand()
        if self.token.kind == "OP":
            operator = self.token.text
            self.index += 1
            return Compare(operator, left, self.operand())
        return left

    def operand(self) -> Node:
        token = self.token
        if token.kind == "STRING":
            self.index += 1
            return Literal(token.text)
        if token.kind == "NUMBER":
            self.index += 1
            return Literal(float(token.text) if "." in token.text else int(token.text))
        if token.kind == "ATTR":
            self.index += 1
            return Attribute(token.text, token.position)
        if token.kind == "NAME":
            self.index += 1
            if self.token.kind != "(" and token.text.lower() in CONSTANTS:
                return Literal(CONSTANTS[token.text.lower()])
            self.take("(")
            return Call(token.text, self.arguments(token), token.position)
        found = "the end" if token.kind == "END" else repr(token.text)
        raise ExpressionError(
            f"position {token.position}: expected a string, an [attribute] or a function, found {found}"
        )

    def arguments(self, name: Token) -> tuple[Node, ...]:
        if self.token.kind == ")":
            self.index += 1
            return ()
        args: list[Node] = []
        while True:
            args.append(Literal(None) if self.token.kind in (",", ")") else self.expression())
            if self.token.kind == ",":
                self.index += 1
                continue
            if self.token.kind == ")":
                self.index += 1
                return tuple(args)
            raise ExpressionError(
                f"position {self.token.position}: expected ',' or ')' in the arguments of {name.text}"
            )


def _describe(kind: str) -> str:
    return {"END": "the end of the expression", "STRING": "a string"}.get(kind, repr(kind))


def parse(text: str) -> Node:
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(text)} characters long; Entra allows {MAX_LENGTH}")
    return _Parser(text).parse()


def _check(node: Node, known: frozenset[str]) -> None:
    if isinstance(node, Attribute):
        if known and node.name not in known:
            close = difflib.get_close_matches(node.name, sorted(known), n=1)
            hint = f"; did you mean [{close[0]}]?" if close else ""
            raise ExpressionError(f"position {node.position}: unknown attribute [{node.name}]{hint}")
    elif isinstance(node, Compare):
        _check(node.left, known)
        _check(node.right, known)
    elif isinstance(node, Call):
        where = f"position {node.position}"
        function = FUNCTIONS.get(node.function.lower())
        if function is None:
            close = difflib.get_close_matches(node.function, [f.name for f in FUNCTIONS.values()], n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ExpressionError(f"{where}: unknown function {node.function}{hint}")
        if function.refused:
            raise ExpressionError(f"{where}: {function.name} cannot map to a SCIM app: {function.refused}")
        count = len(node.args)
        too_many = function.max_args is not None and count > function.max_args
        odd = function.even_tail and (count - 2) % 2 != 0
        if count < function.min_args or too_many or odd:
            raise ExpressionError(f"{where}: {function.name} takes {function.signature}; got {count} argument(s)")
        for arg in node.args:
            _check(arg, known)


def _compare(operator: str, left: Any, right: Any) -> bool:
    """``=`` and ``<>`` compare text (``True`` equals "True"); the ordering operators compare numbers when both
    sides are numbers (DateDiff(...) > 5), else text (inferred: Microsoft documents the operators only)."""
    if operator in ("=", "<>"):
        same = as_text(left) == as_text(right)
        return same if operator == "=" else not same
    a, b = _numeric(left), _numeric(right)
    pair: tuple[Any, Any] = (a, b) if a is not None and b is not None else (as_text(left), as_text(right))
    if pair[0] is None or pair[1] is None:
        raise EvaluationError(f"the condition compares a null value with {operator}")
    low, high = pair
    return bool({"<": low < high, "<=": low <= high, ">": low > high, ">=": low >= high}[operator])


def _numeric(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def evaluate(node: Node, attributes: Mapping[str, Any]) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Attribute):
        return attributes.get(node.name)
    if isinstance(node, Compare):
        return _compare(node.operator, evaluate(node.left, attributes), evaluate(node.right, attributes))
    return FUNCTIONS[node.function.lower()].apply([evaluate(arg, attributes) for arg in node.args])


@dataclass(frozen=True)
class CompiledExpression:
    """A checked expression; satisfies the core mapping engine's ``Expression`` protocol."""

    source: str
    tree: Node

    def evaluate(self, attributes: Mapping[str, Any]) -> Any:
        return evaluate(self.tree, attributes)


def compile_expression(text: str, known_attributes: frozenset[str] = frozenset()) -> CompiledExpression:
    """Parse and check ``text``; with ``known_attributes`` every ``[name]`` must be one of them."""
    tree = parse(text)
    _check(tree, known_attributes)
    return CompiledExpression(text, tree)


def quote(value: str) -> str:
    """A string literal for ``value`` (a Constant mapping becomes one)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
