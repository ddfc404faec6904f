"""The SCIM filter and PATCH path syntax tree (RFC 7644 §3.4.2.2, §3.5.2) and its canonical printer.

Nodes are frozen dataclasses, so equal filters compare and hash equal; ``to_text`` prints a string that
``parse_filter`` turns back into an equal tree.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Literal, TypeAlias

CompareOp = Literal["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]
COMPARE_OPS: tuple[CompareOp, ...] = ("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le")

# RFC 7644 §3.4.2.2 compValue: a JSON string, number, true, false or null.
CompValue: TypeAlias = str | bool | int | float | None


@dataclass(frozen=True)
class AttrPath:
    """``[uri:]attr[.sub]`` with the names as written; resolution against a schema folds their case."""

    uri: str | None
    attr: str
    sub: str | None = None

    def __str__(self) -> str:
        prefix = f"{self.uri}:" if self.uri is not None else ""
        suffix = f".{self.sub}" if self.sub is not None else ""
        return f"{prefix}{self.attr}{suffix}"


@dataclass(frozen=True)
class Compare:
    """``path op value``, e.g. ``userName eq "bjensen"``."""

    path: AttrPath
    op: CompareOp
    value: CompValue


@dataclass(frozen=True)
class Present:
    """``path pr``: the attribute has a non-empty value."""

    path: AttrPath


@dataclass(frozen=True)
class And:
    left: Filter
    right: Filter


@dataclass(frozen=True)
class Or:
    left: Filter
    right: Filter


@dataclass(frozen=True)
class Not:
    """``not (inner)``; RFC 7644 Figure 1 always puts the operand in parentheses."""

    inner: Filter


@dataclass(frozen=True)
class ValuePath:
    """``path[filter]``: some element of a complex attribute matches ``filter`` as a whole.

    Paths inside ``filter`` name sub-attributes of ``path``. ``emails[type eq "work"].value eq "x"``
    parses as ``emails[type eq "work" and value eq "x"]``, which means the same.
    """

    path: AttrPath
    filter: Filter


Filter: TypeAlias = Compare | Present | And | Or | Not | ValuePath


@dataclass(frozen=True)
class PatchPath:
    """A PATCH ``path`` (RFC 7644 §3.5.2): ``attr``, an optional value filter, an optional sub-attribute.

    ``attr.sub`` is always None: the sub-attribute of ``name.givenName`` and of
    ``emails[type eq "work"].value`` both live in ``sub_attr``, so callers look in one place.
    """

    attr: AttrPath
    value_filter: Filter | None = None
    sub_attr: str | None = None


def top_level_attributes(node: Filter) -> set[str]:
    """Folded names of the top-level attributes a filter reads (``members`` for ``members[value eq "x"]``).

    The store uses it to load computed attributes (a group's members, a user's groups) only when asked.
    """
    match node:
        case Compare(path=path) | Present(path=path) | ValuePath(path=path):
            return {path.attr.lower()}
        case And(left=left, right=right) | Or(left=left, right=right):
            return top_level_attributes(left) | top_level_attributes(right)
        case Not(inner=inner):
            return top_level_attributes(inner)
    raise TypeError(f"not a filter node: {node!r}")  # pragma: no cover


def to_text(node: Filter | PatchPath) -> str:
    """The canonical text of a filter or PATCH path: lower-case keywords, single spaces, minimal parentheses."""
    match node:
        case Compare(path, op, value):
            return f"{path} {op} {value_text(value)}"
        case Present(path):
            return f"{path} pr"
        case Or(left, right):
            return f"{_operand(left, 1)} or {_operand(right, 2)}"
        case And(left, right):
            return f"{_operand(left, 2)} and {_operand(right, 3)}"
        case Not(inner):
            return f"not ({to_text(inner)})"
        case ValuePath(path, inner):
            return f"{path}[{to_text(inner)}]"
        case PatchPath(attr, value_filter, sub_attr):
            text = str(attr) if value_filter is None else f"{attr}[{to_text(value_filter)}]"
            return text if sub_attr is None else f"{text}.{sub_attr}"
    raise TypeError(f"not a filter node: {node!r}")


def value_text(value: CompValue) -> str:
    """A comparison value as JSON; ValueError for NaN and infinities, which JSON cannot spell."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} is not a JSON number")
    return repr(value)


def _precedence(node: Filter) -> int:
    """Binding strength (RFC 7644 §3.4.2.2): or < and < everything else."""
    if isinstance(node, Or):
        return 1
    if isinstance(node, And):
        return 2
    return 3


def _operand(node: Filter, minimum: int) -> str:
    """An operand of and/or, parenthesised when it binds more loosely than its position needs.

    The right operand needs one level more than the left because chains parse left-associatively.
    """
    text = to_text(node)
    return f"({text})" if _precedence(node) < minimum else text
