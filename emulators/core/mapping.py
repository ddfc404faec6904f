"""Attribute mapping: a table of SCIM target path <- source expression, evaluated per user.

The engine is language-neutral: each IdP supplies a compiler for its expression language. Target
paths accept the IdP notations ``emails.^[primary==true].value`` (Okta) and
``emails[type eq "work"].value`` (SCIM filter style), optionally prefixed by an extension URN.
Everything is checked when the mapping is compiled, so a bad mapping fails before any request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from emulators.core.errors import ConfigurationError
from scimcore.schemas import SchemaRegistry, core_registry


class Expression(Protocol):
    @property
    def source(self) -> str: ...

    def evaluate(self, attributes: Mapping[str, Any]) -> Any: ...


# (expression text, attribute names it may read) -> compiled expression; raises ConfigurationError.
ExpressionCompiler = Callable[[str, frozenset[str]], Expression]

_PATH = re.compile(
    r"""^(?:(?P<urn>urn:.+):)?(?P<attr>[A-Za-z_$][\w$-]*)
        (?:\.\^\[\s*(?P<okey>\w+)\s*==\s*(?P<oval>[^\]]+?)\s*\]
          |\[\s*(?P<skey>\w+)\s+eq\s+(?P<sval>[^\]]+?)\s*\])?
        (?:\.(?P<sub>[A-Za-z_$][\w$-]*))?$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class TargetPath:
    """Where a mapped value goes in a SCIM resource document."""

    attribute: str
    sub: str | None = None
    selector: tuple[str, Any] | None = None
    urn: str | None = None

    @classmethod
    def parse(cls, text: str) -> TargetPath:
        match = _PATH.match(text.strip())
        if match is None:
            raise ConfigurationError(
                f"cannot read target path {text!r}; write attr, attr.sub, attr.^[key==value].sub "
                "or urn:...:attr, e.g. emails.^[primary==true].value"
            )
        key = match["okey"] or match["skey"]
        selector = (key, _literal(match["oval"] or match["sval"], text)) if key else None
        if selector is not None and match["sub"] is None:
            raise ConfigurationError(f"target path {text!r} selects an element but names no sub-attribute")
        return cls(attribute=match["attr"], sub=match["sub"], selector=selector, urn=match["urn"])

    def __str__(self) -> str:
        text = f"{self.urn}:{self.attribute}" if self.urn else self.attribute
        if self.selector is not None:
            text += f".^[{self.selector[0]}=={json.dumps(self.selector[1])}]"
        return f"{text}.{self.sub}" if self.sub else text


def _literal(text: str, path: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    try:
        return json.loads(text)
    except ValueError:
        raise ConfigurationError(
            f"target path {path!r}: selector value {text!r} must be true, false, a number or a quoted string"
        ) from None


def is_empty(value: Any) -> bool:
    """Empty values are not sent on create and remove the attribute on replace."""
    return value is None or value in ("", [])


def _key(container: dict[str, Any], name: str) -> str:
    """The existing key spelling for ``name`` (attribute names are case-insensitive, RFC 7643 §2.1)."""
    folded = name.lower()
    return next((key for key in container if key.lower() == folded), name)


def set_value(doc: dict[str, Any], path: TargetPath, value: Any) -> None:
    container = doc if path.urn is None else doc.setdefault(_key(doc, path.urn), {})
    attr = _key(container, path.attribute)
    if path.selector is not None and path.sub is not None:
        key, wanted = path.selector
        items = container.setdefault(attr, [])
        element = next((item for item in items if isinstance(item, dict) and item.get(key) == wanted), None)
        if element is None:
            element = {key: wanted}
            items.append(element)
        element[_key(element, path.sub)] = value
    elif path.sub is not None:
        parent = container.setdefault(attr, {})
        parent[_key(parent, path.sub)] = value
    else:
        container[attr] = value


def remove_value(doc: dict[str, Any], path: TargetPath) -> None:
    """Remove the value at ``path`` and any container left empty (element, complex value, extension)."""
    container = doc if path.urn is None else doc.get(_key(doc, path.urn))
    if not isinstance(container, dict):
        return
    attr = _key(container, path.attribute)
    current = container.get(attr)
    if path.selector is not None and path.sub is not None and isinstance(current, list):
        key, wanted = path.selector
        for element in [item for item in current if isinstance(item, dict) and item.get(key) == wanted]:
            element.pop(_key(element, path.sub), None)
            if set(element) <= {key}:
                current.remove(element)
    elif path.sub is not None and isinstance(current, dict):
        current.pop(_key(current, path.sub), None)
    elif path.sub is None:
        container.pop(attr, None)
    if attr in container and (is_empty(container[attr]) or container[attr] == {}):
        container.pop(attr, None)
    if path.urn is not None and not container:
        doc.pop(_key(doc, path.urn), None)


@dataclass(frozen=True)
class MappingRule:
    target: str
    expression: str
    provenance: str = ""


@dataclass(frozen=True)
class AttributeMapping:
    """An ordered table of rules; later rules for the same target replace earlier ones."""

    rules: tuple[MappingRule, ...]

    def merged(self, overrides: Iterable[MappingRule]) -> AttributeMapping:
        """These rules with ``overrides`` applied: same target replaces, new target appends, "" removes."""
        rules = {str(TargetPath.parse(rule.target)).lower(): rule for rule in self.rules}
        for rule in overrides:
            key = str(TargetPath.parse(rule.target)).lower()
            if rule.expression.strip():
                rules[key] = rule
            else:
                rules.pop(key, None)
        return AttributeMapping(tuple(rules.values()))

    def compile(
        self, compiler: ExpressionCompiler, known_attributes: Iterable[str], registry: SchemaRegistry | None = None
    ) -> CompiledMapping:
        """Check every rule (target path, expression) and report all problems at once."""
        registry = registry or core_registry()
        known = frozenset(known_attributes)
        compiled: list[tuple[TargetPath, Expression]] = []
        problems: list[str] = []
        for rule in self.rules:
            try:
                path = TargetPath.parse(rule.target)
                _check_target(path, registry)
                compiled.append((path, compiler(rule.expression, known)))
            except ConfigurationError as exc:
                problems.append(f"{rule.target} <- {rule.expression}: {exc}")
        if problems:
            raise ConfigurationError("the attribute mapping has errors: " + "; ".join(problems))
        return CompiledMapping(tuple(compiled))


def _check_target(path: TargetPath, registry: SchemaRegistry) -> None:
    """Core and known extension paths must exist and be writable; custom namespaces are free-form."""
    if path.urn is not None and registry.schema(path.urn) is None:
        return
    dotted = f"{path.attribute}.{path.sub}" if path.sub else path.attribute
    resolved = registry.resolve("User", f"{path.urn}:{dotted}" if path.urn else dotted)
    if resolved is None:
        raise ConfigurationError(f"{dotted} is not an attribute of the {path.urn or 'core User'} schema")
    if resolved.target.mutability == "readOnly" or resolved.attribute.mutability == "readOnly":
        raise ConfigurationError(f"{dotted} is readOnly; a client cannot set it")


@dataclass(frozen=True)
class CompiledMapping:
    rules: tuple[tuple[TargetPath, Expression], ...]

    @property
    def targets(self) -> tuple[TargetPath, ...]:
        return tuple(path for path, _ in self.rules)

    def values(self, attributes: Mapping[str, Any]) -> list[tuple[TargetPath, Any]]:
        return [(path, expression.evaluate(attributes)) for path, expression in self.rules]

    def value(self, attribute: str, attributes: Mapping[str, Any]) -> Any:
        """The mapped value of one plain core attribute (``userName``), or None when unmapped or empty.

        Evaluates one rule instead of the whole mapping: group pushes need only each member's userName.
        """
        for path, expression in self.rules:
            if path.urn is None and path.sub is None and path.attribute.lower() == attribute.lower():
                value = expression.evaluate(attributes)
                return None if is_empty(value) else value
        return None

    def build(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """A fresh document holding the non-empty mapped values, in rule order."""
        return self.write_into({}, attributes)

    def write_into(self, doc: dict[str, Any], attributes: Mapping[str, Any]) -> dict[str, Any]:
        """Overwrite the mapped attributes of ``doc`` in place; empty values remove the attribute."""
        for path, value in self.values(attributes):
            if is_empty(value):
                remove_value(doc, path)
            else:
                set_value(doc, path, value)
        return doc


def rules_from_data(data: Any, source: str) -> tuple[list[MappingRule], bool]:
    """Rules from a mapping file's data, and whether they replace the default mapping."""
    if not isinstance(data, dict) or not isinstance(data.get("rules"), dict):
        raise ConfigurationError(f"{source}: a mapping file needs 'rules:', a table of target path: expression")
    rules = [
        MappingRule(str(target), "" if expression is None else str(expression), provenance=source)
        for target, expression in data["rules"].items()
    ]
    return rules, bool(data.get("replace", False))


def load_mapping(path: str | Path, base: AttributeMapping) -> AttributeMapping:
    """A custom mapping from YAML: it extends ``base`` (``null`` removes a rule) unless ``replace: true``."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"cannot read mapping file {path}: {exc}") from None
    rules, replace = rules_from_data(data, str(path))
    return AttributeMapping(()).merged(rules) if replace else base.merged(rules)


def folded(container: Any, name: str) -> Any:
    """``container[name]`` with the name compared case-insensitively (SCIM attribute names, RFC 7643 §2.1)."""
    if not isinstance(container, dict):
        return None
    return next((value for key, value in container.items() if key.lower() == name.lower()), None)


def get_value(doc: dict[str, Any], path: TargetPath) -> Any:
    """The value at ``path`` in a returned resource, or None (names compared case-insensitively)."""
    container = doc if path.urn is None else folded(doc, path.urn)
    current = folded(container, path.attribute)
    if path.selector is not None:
        key, wanted = path.selector
        items = current if isinstance(current, list) else []
        current = next((item for item in items if isinstance(item, dict) and folded(item, key) == wanted), None)
    if path.sub is not None:
        current = folded(current, path.sub)
    return current
