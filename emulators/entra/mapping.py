"""Entra attribute mappings: Direct, Constant, Expression and None rows, as the admin portal offers them.

Each row has a target path, "apply this mapping" (always or only during creation), a default value
used when the source is null (on create only) and an optional matching precedence
(docs/entra-idp.md §8 Matching, §9). Target paths and expressions are checked by the core mapping
engine with the Entra expression compiler, so a bad mapping fails before any request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from emulators.core.errors import ConfigurationError
from emulators.core.mapping import AttributeMapping, Expression, MappingRule, TargetPath, is_empty
from emulators.entra.expression import compile_expression, quote

Kind = Literal["direct", "constant", "expression", "none"]
Apply = Literal["always", "on_create"]
ObjectType = Literal["User", "Group"]
KINDS: tuple[Kind, ...] = ("direct", "constant", "expression", "none")

# The attribute-list editor's types a custom extension attribute of a non-gallery app may not have:
# "Custom attributes can't be referential attributes, multi-value, or complex-typed attributes. Custom
# multi-value and complex-typed extension attributes are currently supported only for applications in the
# gallery." (docs/entra-idp.md §4 (documented): learn.microsoft.com/entra/identity/app-provisioning/
# customize-application-attributes#provisioning-a-custom-extension-attribute-to-a-scim-compliant-application)
GALLERY_ONLY_TYPES = ("reference", "complex")
_STANDARD_URNS = (
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
)

# Group rows that are not attribute values: ``members`` turns membership provisioning on (§3.4).
MEMBERS = "members"
MANAGER_ATTRIBUTE = "manager"


@dataclass(frozen=True)
class EntraRule:
    target: str
    kind: Kind
    source: str = ""
    apply: Apply = "always"
    default: str | None = None
    matching: int | None = None
    provenance: str = ""
    # The target attribute as declared in the app's attribute list (docs/entra-idp.md §4 custom extensions).
    multi_valued: bool = False
    attribute_type: str = "string"

    def expression_text(self) -> str:
        if self.kind == "direct":
            return f"[{self.source}]"
        if self.kind == "constant":
            return quote(self.source)
        return self.source

    @property
    def is_reference(self) -> bool:
        """Manager is a reference: written in a separate PATCH after the object exists (§3.1 step 4)."""
        return self.kind == "direct" and self.source == MANAGER_ATTRIBUTE


@dataclass(frozen=True)
class EntraMapping:
    object_type: ObjectType
    rules: tuple[EntraRule, ...]

    def merged(self, overrides: Iterable[EntraRule]) -> EntraMapping:
        """Same target replaces (a ``none`` row removes it), new targets append."""
        rules = {rule.target.lower(): rule for rule in self.rules}
        for rule in overrides:
            if rule.kind == "none":
                rules.pop(rule.target.lower(), None)
            else:
                rules[rule.target.lower()] = rule
        return EntraMapping(self.object_type, tuple(rules.values()))

    def compile(self, known_attributes: Iterable[str], *, gallery: bool = False) -> CompiledEntraMapping:
        """Check every row, report every problem at once, and order the matching rows by precedence.

        ``gallery``: the app is from the Entra gallery, whose custom extension attributes may be
        multi-valued or complex; a non-gallery app's may not (``GALLERY_ONLY_TYPES``, docs/entra-idp.md §4).
        """
        value_rules = [rule for rule in self.rules if rule.kind != "none" and rule.target != MEMBERS]
        problems: list[str] = [] if gallery else [_gallery_only(rule) for rule in value_rules if _is_gallery_only(rule)]
        precedences = [rule.matching for rule in value_rules if rule.matching is not None]
        if not precedences:
            problems.append("no matching attribute: give one row a matching precedence (§8)")
        if len(set(precedences)) != len(precedences):
            problems.append(f"matching precedences must be distinct, got {sorted(precedences)}")
        core = AttributeMapping(tuple(MappingRule(r.target, r.expression_text()) for r in value_rules))
        try:
            compiled = core.compile(compile_expression, known_attributes) if self.object_type == "User" else None
        except ConfigurationError as exc:
            problems.append(str(exc))
            compiled = None
        if problems:
            raise ConfigurationError(f"the {self.object_type.lower()} mapping has errors: " + "; ".join(problems))
        known = frozenset(known_attributes)
        rows = []
        for index, rule in enumerate(value_rules):
            if compiled is not None:
                path, expression = compiled.rules[index]
            else:
                path, expression = _group_row(rule, known)
            rows.append(CompiledRule(rule, path, expression))
        members = any(rule.target == MEMBERS and rule.kind != "none" for rule in self.rules)
        return CompiledEntraMapping(self.object_type, tuple(rows), provision_members=members)


def _is_gallery_only(rule: EntraRule) -> bool:
    """A custom extension target declared multi-valued, reference or complex (the core and enterprise
    attributes are the schema's own, not custom ones)."""
    urn = TargetPath.parse(rule.target).urn
    custom = urn is not None and urn.lower() not in (u.lower() for u in _STANDARD_URNS)
    return custom and (rule.multi_valued or rule.attribute_type.lower() in GALLERY_ONLY_TYPES)


def _gallery_only(rule: EntraRule) -> str:
    kind = "multi-valued" if rule.multi_valued else rule.attribute_type.lower()
    return (
        f"{rule.target}: a non-gallery app cannot map a {kind} custom extension attribute (custom attributes "
        "can't be reference, multi-value or complex; those are supported only for gallery apps, docs/entra-idp.md "
        "§4); make it a single-valued string, or set the job's gallery_app when the app is from the gallery"
    )


def _group_row(rule: EntraRule, known: frozenset[str]) -> tuple[TargetPath, Expression]:
    """Group targets are core Group attributes or custom extension paths (not checked against the User schema)."""
    try:
        return TargetPath.parse(rule.target), compile_expression(rule.expression_text(), known)
    except ConfigurationError as exc:
        raise ConfigurationError(f"the group mapping has errors: {rule.target}: {exc}") from None


@dataclass(frozen=True)
class CompiledRule:
    rule: EntraRule
    path: TargetPath
    expression: Expression

    def value(self, attributes: Mapping[str, Any], *, creating: bool) -> Any:
        value = self.expression.evaluate(attributes)
        if is_empty(value) and creating and self.rule.default is not None:
            value = self.rule.default  # docs/entra-idp.md §9: default value if null applies on create only
        if self.rule.multi_valued and not is_empty(value) and not isinstance(value, list):
            return [value]  # a multi-valued attribute is sent as a JSON array, even with one value (inferred)
        return value


@dataclass(frozen=True)
class CompiledEntraMapping:
    object_type: ObjectType
    rows: tuple[CompiledRule, ...]
    provision_members: bool = True

    @property
    def matching(self) -> tuple[CompiledRule, ...]:
        """Matching rows in precedence order (§8: evaluated in order, stop at the first match)."""
        ranked = [row for row in self.rows if row.rule.matching is not None]
        return tuple(sorted(ranked, key=lambda row: row.rule.matching or 0))

    def has_target(self, name: str) -> bool:
        return any(row.path.attribute.lower() == name.lower() and row.path.sub is None for row in self.rows)

    def values(self, attributes: Mapping[str, Any], *, creating: bool) -> list[tuple[CompiledRule, Any]]:
        """Non-null values of the rows that apply now (null values are never sent, §9)."""
        out = []
        for row in self.rows:
            if row.rule.is_reference or (row.rule.apply == "on_create" and not creating):
                continue
            value = row.value(attributes, creating=creating)
            if not is_empty(value):
                out.append((row, value))
        return out

    @property
    def reference(self) -> CompiledRule | None:
        return next((row for row in self.rows if row.rule.is_reference), None)


def _rule(target: str, source: str, kind: Kind = "direct", **extra: Any) -> EntraRule:
    return EntraRule(target, kind, source, provenance=extra.pop("provenance", _DEFAULT_MAPPINGS), **extra)


_DEFAULT_MAPPINGS = "docs/entra-idp.md §9 default user mappings (documented; observed)"
_ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ACTIVE_EXPRESSION = 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'

DEFAULT_USER_MAPPING = EntraMapping(
    "User",
    (
        _rule("userName", "userPrincipalName", matching=1),
        _rule("active", ACTIVE_EXPRESSION, "expression"),
        _rule("displayName", "displayName"),
        _rule("title", "jobTitle"),
        _rule('emails[type eq "work"].value', "mail"),
        _rule("preferredLanguage", "preferredLanguage"),
        _rule("name.givenName", "givenName"),
        _rule("name.familyName", "surname"),
        _rule("name.formatted", 'Join(" ", [givenName], [surname])', "expression"),
        _rule(
            'addresses[type eq "work"].formatted',
            "physicalDeliveryOfficeName",
            provenance=(
                f'{_DEFAULT_MAPPINGS}; Microsoft\'s SCIM tutorial says addresses[type eq "other"]: '
                "the third-party default (work) is chosen"
            ),
        ),
        _rule('addresses[type eq "work"].streetAddress', "streetAddress"),
        _rule('addresses[type eq "work"].locality', "city"),
        _rule('addresses[type eq "work"].region', "state"),
        _rule('addresses[type eq "work"].postalCode', "postalCode"),
        _rule('addresses[type eq "work"].country', "country"),
        _rule('phoneNumbers[type eq "work"].value', "telephoneNumber"),
        _rule('phoneNumbers[type eq "mobile"].value', "mobile"),
        _rule('phoneNumbers[type eq "fax"].value', "facsimileTelephoneNumber"),
        _rule("externalId", "mailNickname"),
        _rule(f"{_ENTERPRISE}:employeeNumber", "employeeId"),
        _rule(f"{_ENTERPRISE}:department", "department"),
        _rule(f"{_ENTERPRISE}:manager", MANAGER_ATTRIBUTE),
    ),
)

_GROUP = "docs/entra-idp.md §9 default group mappings (documented)"
DEFAULT_GROUP_MAPPING = EntraMapping(
    "Group",
    (
        EntraRule("displayName", "direct", "displayName", matching=1, provenance=_GROUP),
        EntraRule("externalId", "direct", "objectId", provenance=_GROUP),
        EntraRule(MEMBERS, "direct", MEMBERS, provenance=_GROUP),
    ),
)


def rule_from_data(item: Any, source: str) -> EntraRule:
    """One YAML row: ``target`` plus one of ``source`` (Direct), ``constant``, ``expression`` or ``type: none``."""
    if not isinstance(item, dict) or not item.get("target"):
        raise ConfigurationError(f"{source}: each mapping row needs a target, got {item!r}")
    target = str(item["target"])
    given = [kind for kind, key in _KEYS.items() if key in item]
    kind = str(item.get("type", given[0] if len(given) == 1 else "")).lower()
    if kind not in KINDS or (kind != "none" and len(given) != 1):
        raise ConfigurationError(
            f"{source}: row {target}: give exactly one of source (Direct), constant or expression, or type: none"
        )
    apply = str(item.get("apply", "always"))
    if apply not in ("always", "on_create"):
        raise ConfigurationError(f"{source}: row {target}: apply must be 'always' or 'on_create', not {apply!r}")
    matching = item.get("matching")
    if matching is not None and (not isinstance(matching, int) or matching < 1):
        raise ConfigurationError(f"{source}: row {target}: matching must be a precedence 1, 2, ...")
    default = item.get("default")
    multi_valued = item.get("multi_valued", False)
    attribute_type = str(item.get("attribute_type", "string"))
    if not isinstance(multi_valued, bool):
        raise ConfigurationError(f"{source}: row {target}: multi_valued must be true or false")
    return EntraRule(
        target=target,
        kind=kind,
        source="" if kind == "none" else str(item[_KEYS[kind]]),
        apply=apply,  # type: ignore[arg-type]
        default=None if default is None else str(default),
        matching=matching,
        provenance=source,
        multi_valued=multi_valued,
        attribute_type=attribute_type,
    )


_KEYS: dict[str, str] = {"direct": "source", "constant": "constant", "expression": "expression"}


# Microsoft Graph's synchronizationSchema (what GET .../synchronization/jobs/{id}/schema returns):
# https://learn.microsoft.com/en-us/graph/api/resources/synchronization-synchronizationschema and its
# attributeMapping (https://learn.microsoft.com/en-us/graph/api/resources/synchronization-attributemapping).
_FLOW_TYPES = {"Always": "always", "ObjectAddOnly": "on_create"}


def schema_to_mapping_data(schema: Any, source: str) -> dict[str, Any]:
    """An exported Entra provisioning schema as this project's mapping file data (``user:`` and ``group:`` rows,
    replacing the defaults): each attributeMapping's targetAttributeName, its source (Attribute as a Direct row,
    Constant and Function as expressions), matchingPriority, defaultValue and flowType (Always, or ObjectAddOnly
    as "only during object creation"). A flowType the emulator does not model is refused, not dropped."""
    rules = schema.get("synchronizationRules") if isinstance(schema, dict) else None
    if not isinstance(rules, list) or not rules:
        raise ConfigurationError(f"{source}: not a Graph synchronizationSchema (no synchronizationRules)")
    out: dict[str, Any] = {"replace": True, "user": [], "group": []}
    for rule in rules:
        for mapping in (rule or {}).get("objectMappings") or ():
            kind = str(mapping.get("sourceObjectName", "")).lower()
            if kind not in ("user", "group") or mapping.get("enabled") is False:
                continue
            for attribute in mapping.get("attributeMappings") or ():
                out[kind].append(_schema_row(attribute, f"{source}: {mapping.get('sourceObjectName')}"))
    if not out["user"] and not out["group"]:
        raise ConfigurationError(f"{source}: the schema maps no User or Group objects")
    return out


def _schema_row(attribute: dict[str, Any], where: str) -> dict[str, Any]:
    target = attribute.get("targetAttributeName")
    origin = attribute.get("source") or {}
    if not target or not isinstance(origin, dict):
        raise ConfigurationError(f"{where}: an attributeMapping needs a targetAttributeName and a source")
    flow = str(attribute.get("flowType") or "Always")
    if flow not in _FLOW_TYPES:
        raise ConfigurationError(
            f"{where}: {target}: flowType {flow} is not emulated (Always and ObjectAddOnly are); "
            "change it in the schema or the mapping file"
        )
    kind, expression, name = str(origin.get("type", "")), origin.get("expression"), origin.get("name")
    row: dict[str, Any] = {"target": str(target), "apply": _FLOW_TYPES[flow]}
    if kind == "Attribute" and name:
        row["source"] = str(name)
    elif expression:
        row["expression"] = str(expression)
    elif kind == "Constant" and name is not None:
        row["constant"] = str(name)
    else:
        raise ConfigurationError(f"{where}: {target}: the source has no expression to read ({origin!r})")
    if int(attribute.get("matchingPriority") or 0) > 0:
        row["matching"] = int(attribute["matchingPriority"])
    if attribute.get("defaultValue") not in (None, ""):
        row["default"] = str(attribute["defaultValue"])
    return row


def mappings_from_data(
    data: Any, source: str, user: EntraMapping = DEFAULT_USER_MAPPING, group: EntraMapping = DEFAULT_GROUP_MAPPING
) -> tuple[EntraMapping, EntraMapping]:
    """User and group mappings from a mapping file's data: rows extend the defaults unless ``replace: true``.

    A row with ``matching: N`` takes precedence N from the default row that had it. An exported Graph
    synchronizationSchema (JSON) is read as its rows (``schema_to_mapping_data``).
    """
    if isinstance(data, dict) and "synchronizationRules" in data:
        data = schema_to_mapping_data(data, source)
    if not isinstance(data, dict) or not ({"user", "group"} & set(data)):
        raise ConfigurationError(f"{source}: a mapping file needs 'user:' and/or 'group:' lists of rows")
    out = []
    for key, default in (("user", user), ("group", group)):
        rows = [rule_from_data(item, source) for item in data.get(key) or ()]
        kept = () if data.get("replace") else default.rules
        taken = {row.matching for row in rows if row.matching is not None}
        base = tuple(replace(r, matching=None) if r.matching in taken else r for r in kept)
        out.append(EntraMapping(default.object_type, base).merged(rows))
    return out[0], out[1]


def load_mappings(
    path: str | Path, user: EntraMapping = DEFAULT_USER_MAPPING, group: EntraMapping = DEFAULT_GROUP_MAPPING
) -> tuple[EntraMapping, EntraMapping]:
    """A mapping file's rows over ``user`` and ``group`` (the defaults, or an app preset's)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"cannot read mapping file {path}: {exc}") from None
    return mappings_from_data(data, str(path), user, group)
