"""Who is in scope: the assignment setting plus attribute scoping filters (docs/entra-idp.md §3.3, §8).

A scoping filter is a set of clause groups: an object is in scope when every clause of at least one
group holds. The operators are those of the admin portal's scoping-filter editor (Microsoft's
"scoping filters" page; the reference lists the limits: no appRoleAssignments, userType, manager or
date attributes, §8). Values compare as text, case-sensitively (inferred).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emulators.core.errors import ConfigurationError
from emulators.entra.functions import as_text

OPERATORS = (
    "EQUALS",
    "NOT EQUALS",
    "IS TRUE",
    "IS FALSE",
    "IS NULL",
    "IS NOT NULL",
    "REGEX MATCH",
    "NOT REGEX MATCH",
    "GREATER_THAN",
    "GREATER_THAN_OR_EQUALS",
    "INCLUDES",
)
_UNARY = ("IS TRUE", "IS FALSE", "IS NULL", "IS NOT NULL")
SCOPING_DOCS = "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/define-conditional-rules-for-provisioning-user-accounts"
# docs/entra-idp.md §8: scoping filters cannot use these (nor date attributes).
FORBIDDEN = frozenset({"appRoleAssignments", "userType", "manager", "createdDateTime", "employeeHireDate"})


@dataclass(frozen=True)
class Clause:
    attribute: str
    operator: str
    value: str = ""

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise ConfigurationError(f"scoping operator {self.operator!r} is not one of: {', '.join(OPERATORS)}")
        if self.attribute in FORBIDDEN:
            raise ConfigurationError(
                f"scoping filters cannot use {self.attribute} (see 'Scoping filter' limitations: {SCOPING_DOCS})"
            )
        if self.operator.endswith("REGEX MATCH"):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ConfigurationError(
                    f"scoping clause on {self.attribute}: bad regex {self.value!r}: {exc}"
                ) from None
        if self.operator.startswith("GREATER") and not _is_int(self.value):
            raise ConfigurationError(f"scoping clause on {self.attribute}: {self.operator} needs a whole number")

    def holds(self, attributes: Mapping[str, Any]) -> bool:
        raw = attributes.get(self.attribute)
        text = as_text(raw)
        op = self.operator
        if op in _UNARY:
            return {
                "IS TRUE": text is not None and text.lower() == "true",
                "IS FALSE": text is not None and text.lower() == "false",
                "IS NULL": text in (None, ""),
                "IS NOT NULL": text not in (None, ""),
            }[op]
        if op == "EQUALS":
            return text == self.value
        if op == "NOT EQUALS":
            return text != self.value
        if op == "INCLUDES":
            values = raw if isinstance(raw, list) else [raw]
            return self.value in [as_text(v) for v in values] or (text is not None and self.value in text)
        if op.endswith("REGEX MATCH"):
            matched = text is not None and re.search(self.value, text) is not None
            return matched if op == "REGEX MATCH" else not matched
        if text is None or not _is_int(text):
            return False
        limit = int(self.value)
        return int(text) > limit if op == "GREATER_THAN" else int(text) >= limit


def _is_int(text: str) -> bool:
    return text.strip().lstrip("-").isdigit()


@dataclass(frozen=True)
class ScopingFilter:
    groups: tuple[tuple[Clause, ...], ...] = ()

    def fingerprint(self) -> str:
        """A stable text of the filter: a changed one restarts the job (docs/entra-idp.md §8)."""
        return repr([[(c.attribute, c.operator, c.value) for c in group] for group in self.groups])

    def admits(self, attributes: Mapping[str, Any]) -> bool:
        if not self.groups:
            return True
        return any(all(clause.holds(attributes) for clause in group) for group in self.groups)

    @classmethod
    def from_data(cls, data: Sequence[Any] | None) -> ScopingFilter:
        """``[[{attribute, operator, value}, ...], ...]``: a list of clause groups."""
        groups = []
        for group in data or ():
            if not isinstance(group, list) or not group:
                raise ConfigurationError("a scoping filter is a list of clause groups, each a non-empty list")
            clauses = []
            for item in group:
                if not isinstance(item, dict) or "attribute" not in item or "operator" not in item:
                    raise ConfigurationError(f"a scoping clause needs attribute and operator, got {item!r}")
                clauses.append(
                    Clause(str(item["attribute"]), str(item["operator"]).upper(), str(item.get("value", "")))
                )
            groups.append(tuple(clauses))
        return cls(tuple(groups))
