"""SCIM filters and PATCH paths: parse (RFC 7644 §3.4.2.2, §3.5.2), print, evaluate, plan and sort.

This module is the public entry point. Parsing is a hand-written tokenizer plus recursive descent.
Any malformed input raises InvalidFilterError (InvalidPathError for PATCH paths) saying what is wrong
and at which character offset, never another exception: an unparseable filter must not fail open
(docs/domain.md §3 item 8). Node count and nesting depth are capped so no input can exhaust
the stack. Evaluation against a schema lives in ``filter_eval``; the syntax tree in ``filter_ast``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NoReturn

from aup_server.errors import InvalidFilterError, InvalidPathError, ScimError
from aup_server.scim.filter_ast import (
    COMPARE_OPS,
    And,
    AttrPath,
    Compare,
    CompareOp,
    CompValue,
    Filter,
    Not,
    Or,
    PatchPath,
    Present,
    ValuePath,
    to_text,
    top_level_attributes,
)
from aup_server.scim.filter_eval import (
    IndexedKey,
    Predicate,
    SortKey,
    compile_filter,
    compile_value_filter,
    equality_lookup,
    fold_case,
    sort_key,
    sort_key_for,
)

__all__ = [
    "COMPARE_OPS",
    "MAX_DEPTH",
    "MAX_NODES",
    "And",
    "AttrPath",
    "CompValue",
    "Compare",
    "CompareOp",
    "Filter",
    "IndexedKey",
    "Not",
    "Or",
    "PatchPath",
    "Predicate",
    "Present",
    "SortKey",
    "ValuePath",
    "compile_filter",
    "compile_value_filter",
    "equality_lookup",
    "fold_case",
    "parse_filter",
    "parse_path",
    "sort_key",
    "sort_key_for",
    "to_text",
    "top_level_attributes",
]

MAX_NODES = 200  # Databricks' cap on filter nodes (docs/domain.md §2.1)
MAX_DEPTH = 32  # nesting of (...), not (...) and [...]
_MAX_HEIGHT = 256  # tree height, so printing and evaluating stay far from the recursion limit

# RFC 7644 Figure 1: ATTRNAME = ALPHA *(nameChar); "$ref" is the RFC 7643 §2.4 sub-attribute.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*|\$ref", re.ASCII | re.IGNORECASE)
_URN = re.compile(r"urn(?::[A-Za-z0-9._\-]+)+", re.ASCII | re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z$][A-Za-z0-9_$:.\-]*", re.ASCII)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)
_RUN = re.compile(r"[A-Za-z0-9_$:.+\-]+", re.ASCII)  # what an unquoted value runs to
_SPACE = " \t\r\n"
_LITERALS: dict[str, CompValue] = {"true": True, "false": False, "null": None}
_OPS: dict[str, CompareOp] = {op: op for op in COMPARE_OPS}
_OP_LIST = "eq, ne, co, sw, ew, gt, ge, lt, le or pr"
_VALUE_RULE = "must be a quoted JSON string, a number, true, false or null"
_DECODER = json.JSONDecoder()
# writeOnly attributes of the core schemas (RFC 7643 §4.1.1); filters are parsed before any schema is known
_SECRET_NAMES = frozenset({"password"})


@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "string", "number", one of "()[].", or "end"
    text: str
    pos: int
    value: CompValue = None


def _encodable(value: object) -> bool:
    """Whether a decoded JSON string is valid Unicode (UTF-8 encodable): RFC 8259 §8.2 allows unpaired escapes."""
    if not isinstance(value, str):
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _show(token: _Token) -> str:
    if token.kind == "end":
        return "the end of the input"
    text = token.text if len(token.text) <= 40 else token.text[:37] + "..."
    return f"{text!r} at offset {token.pos}"


class _Parser:
    """Recursive descent over the RFC 7644 Figure 1 grammar with errata 4690/7322 for value filters."""

    def __init__(self, text: str, *, max_nodes: int, error: type[ScimError], what: str) -> None:
        self.error = error
        self.what = what
        self.max_nodes = max_nodes
        self.nodes = 0
        self.depth = 0
        self.tokens = self._tokenize(text)  # lazily, so a huge malformed input fails at its first error
        self.ahead: list[_Token] = []

    def problem(self, message: str) -> ScimError:
        return self.error(f"invalid {self.what}: {message}")

    def fail(self, message: str) -> NoReturn:
        raise self.problem(message)

    def _tokenize(self, text: str) -> Iterator[_Token]:
        """The tokens of ``text``, then "end" tokens for ever."""
        pos = 0
        while True:
            while pos < len(text) and text[pos] in _SPACE:
                pos += 1
            if pos >= len(text):
                yield _Token("end", "", pos)
                continue
            char = text[pos]
            if char in "()[].":
                yield _Token(char, char, pos)
                pos += 1
            elif char == '"':
                try:
                    value, end = _DECODER.raw_decode(text, pos)
                except json.JSONDecodeError as exc:
                    reason = exc.msg.removesuffix(" at").removesuffix(" starting").lower()
                    self.fail(f"bad JSON string starting at offset {pos}: {reason} at offset {exc.pos}")
                if not _encodable(value):
                    # "\ud800" decodes to a lone surrogate: no stored value (all UTF-8) can equal or contain one.
                    self.fail(f"the string at offset {pos} has an unpaired UTF-16 surrogate escape")
                yield _Token("string", text[pos:end], pos, value)
                pos = end
            elif (number := _NUMBER.match(text, pos)) is not None:
                yield self._number(text, number.group(), pos)
                pos = number.end()
            elif (word := _WORD.match(text, pos)) is not None:
                yield _Token("word", word.group(), pos)
                pos = word.end()
            else:
                self.fail(f"unexpected character {char!r} at offset {pos}")

    def _number(self, text: str, literal: str, pos: int) -> _Token:
        run = _RUN.match(text, pos)
        if run is not None and run.end() > pos + len(literal):
            # e.g. an unquoted id such as 2819c223-7f76 (docs/entra-idp.md §2)
            self.fail(f"value {_show(_Token('word', run.group(), pos))} {_VALUE_RULE}")
        try:
            value: int | float = float(literal) if any(c in literal for c in ".eE") else int(literal)
        except ValueError:
            self.fail(f"number at offset {pos} has too many digits")
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(f"number at offset {pos} is out of range")
        return _Token("number", literal, pos, value)

    # -- token access ------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> _Token:
        while len(self.ahead) <= ahead:
            self.ahead.append(next(self.tokens))
        return self.ahead[ahead]

    def advance(self) -> _Token:
        token = self.peek()
        del self.ahead[0]
        return token

    def at_keyword(self, *words: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "word" and token.text.lower() in words

    def close(self, kind: str, opened: _Token) -> None:
        token = self.advance()
        if token.kind != kind:
            self.fail(f"expected {kind!r} to close the {opened.text!r} at offset {opened.pos}, found {_show(token)}")
        self.depth -= 1

    def enter(self, opened: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"nested deeper than {MAX_DEPTH} levels at offset {opened.pos}; flatten the expression")

    def node(self, node: Filter) -> Filter:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            self.fail(f"more than {self.max_nodes} nodes (comparisons and logical operators); split the query")
        return node

    def end(self, expected: str) -> None:
        token = self.peek()
        if token.kind in (")", "]"):
            self.fail(f"unbalanced {_show(token)}: nothing open to close")
        if token.kind != "end":
            self.fail(f"unexpected {_show(token)}; expected {expected}")

    # -- grammar -----------------------------------------------------------------------------

    def disjunction(self, nested: bool) -> Filter:
        left = self.conjunction(nested)
        while self.at_keyword("or"):
            self.advance()
            left = self.node(Or(left, self.conjunction(nested)))
        return left

    def conjunction(self, nested: bool) -> Filter:
        left = self.unary(nested)
        while self.at_keyword("and"):
            self.advance()
            left = self.node(And(left, self.unary(nested)))
        return left

    def unary(self, nested: bool) -> Filter:
        token = self.peek()
        if token.kind == "(":
            self.advance()
            self.enter(token)
            inner = self.disjunction(nested)
            self.close(")", token)
            return inner
        if self.at_keyword("not") and self.peek(1).kind == "(":
            self.advance()
            opened = self.advance()
            self.enter(opened)
            inner = self.disjunction(nested)
            self.close(")", opened)
            return self.node(Not(inner))
        if self.at_keyword("not") and self.peek(1).kind == "word" and not self.at_keyword(*_OPS, "pr", ahead=1):
            self.fail(f"'not' at offset {token.pos} must be followed by a parenthesised filter: not (...)")
        if token.kind != "word":
            self.fail(f"expected an attribute path, '(' or 'not (', found {_show(token)}")
        return self.expression(nested)

    def expression(self, nested: bool) -> Filter:
        """attrExp, or valuePath optionally followed by ``.sub op value`` (the form Entra sends)."""
        token = self.advance()
        path = self.attr_path(token)
        if path.sub is None and path.attr.lower() in _SECRET_NAMES:
            # what follows could be a password: say where the expression is wrong, never what it holds
            try:
                return self._expression(path, nested)
            except ScimError:
                raise self.problem(f"the comparison on '{path}' at offset {token.pos} is malformed") from None
        return self._expression(path, nested)

    def _expression(self, path: AttrPath, nested: bool) -> Filter:
        if self.peek().kind != "[":
            return self.attr_expression(path)
        if nested:
            self.fail(f"value filters cannot be nested: '[' at offset {self.peek().pos} (RFC 7644 errata 4690)")
        value_filter = self.bracket(path)
        sub = self.sub_attribute()
        if sub is None:
            return self.node(ValuePath(path, value_filter))
        condition = self.attr_expression(AttrPath(None, sub))
        return self.node(ValuePath(path, self.node(And(value_filter, condition))))

    def bracket(self, path: AttrPath) -> Filter:
        """``[valFilter]`` after ``path``."""
        opened = self.advance()
        if path.sub is not None:
            self.fail(f"'[' at offset {opened.pos} must follow an attribute, not the sub-attribute '{path}'")
        self.enter(opened)
        inner = self.disjunction(nested=True)
        self.close("]", opened)
        return inner

    def sub_attribute(self) -> str | None:
        """The ``.sub`` after a ``]``, if any."""
        if self.peek().kind != ".":
            return None
        self.advance()
        token = self.advance()
        if token.kind != "word" or not _NAME.fullmatch(token.text):
            self.fail(f"expected a sub-attribute name after '.', found {_show(token)}")
        return token.text

    def attr_path(self, token: _Token) -> AttrPath:
        uri, colon, rest = token.text.rpartition(":")
        if colon and not _URN.fullmatch(uri):
            self.fail(f"{_show(token)} has a schema prefix that is not a URN such as urn:ietf:params:scim:...")
        attr, dot, sub = rest.partition(".")
        if not _NAME.fullmatch(attr) or (dot and not _NAME.fullmatch(sub)):
            self.fail(f"{_show(token)} is not an attribute path; write attr, attr.subAttr or urn:...:attr")
        return AttrPath(uri if colon else None, attr, sub if dot else None)

    def attr_expression(self, path: AttrPath) -> Filter:
        token = self.advance()
        name = token.text.lower() if token.kind == "word" else ""
        if name == "pr":
            return self.node(Present(path))
        if name not in _OPS:
            if token.kind == "word":
                self.fail(f"unknown operator {_show(token)}; use one of {_OP_LIST}")
            self.fail(f"expected an operator ({_OP_LIST}) after '{path}', found {_show(token)}")
        return self.node(Compare(path, _OPS[name], self.comparison_value()))

    def comparison_value(self) -> CompValue:
        token = self.advance()
        if token.kind in ("string", "number"):
            return token.value
        if token.kind == "word" and token.text.lower() in _LITERALS:
            return _LITERALS[token.text.lower()]
        if token.kind == "word":
            raise self.problem(f"value {_show(token)} {_VALUE_RULE}")
        raise self.problem(f"expected a comparison value after the operator, found {_show(token)}")


def _height(node: Filter) -> int:
    """Height of the tree, computed without recursion."""
    best = 0
    stack: list[tuple[Filter, int]] = [(node, 1)]
    while stack:
        current, level = stack.pop()
        best = max(best, level)
        if isinstance(current, And | Or):
            stack += [(current.left, level + 1), (current.right, level + 1)]
        elif isinstance(current, Not):
            stack.append((current.inner, level + 1))
        elif isinstance(current, ValuePath):
            stack.append((current.filter, level + 1))
    return best


def parse_filter(text: str, *, max_nodes: int = MAX_NODES) -> Filter:
    """Parse a ``filter`` parameter; InvalidFilterError (400 invalidFilter) for anything malformed."""
    parser = _Parser(text, max_nodes=max_nodes, error=InvalidFilterError, what="filter")
    if parser.peek().kind == "end":
        parser.fail('the filter is empty; write an expression such as userName eq "bjensen"')
    node = parser.disjunction(nested=False)
    parser.end("'and', 'or' or the end of the filter")
    if _height(node) > _MAX_HEIGHT:
        parser.fail(f"more than {_MAX_HEIGHT} levels of operators; split the query")
    return node


def parse_path(text: str) -> PatchPath:
    """Parse a PATCH ``path`` (RFC 7644 §3.5.2): ``attrPath / valuePath [subAttr]``; else InvalidPathError."""
    parser = _Parser(text, max_nodes=MAX_NODES, error=InvalidPathError, what="PATCH path")
    token = parser.advance()
    if token.kind != "word":
        parser.fail(f'expected an attribute path such as members or emails[type eq "work"].value, found {_show(token)}')
    attr = parser.attr_path(token)
    if attr.sub is None and attr.attr.lower() in _SECRET_NAMES:
        try:
            return _path_rest(parser, attr)
        except ScimError:  # the rest could hold a password: never quote it
            raise parser.problem(f"the path on '{attr}' is malformed after offset {token.pos}") from None
    return _path_rest(parser, attr)


def _path_rest(parser: _Parser, attr: AttrPath) -> PatchPath:
    if parser.peek().kind != "[":
        parser.end("'[' or the end of the path")
        return PatchPath(AttrPath(attr.uri, attr.attr), None, attr.sub)
    value_filter = parser.bracket(attr)
    sub = parser.sub_attribute()
    parser.end("'.subAttr' or the end of the path")
    return PatchPath(attr, value_filter, sub)
