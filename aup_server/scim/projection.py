"""Which attributes a response carries: ``attributes`` and ``excludedAttributes`` (RFC 7644 §3.4.2.5, §3.9).

The ``returned`` characteristic of each attribute decides first (RFC 7643 §2.2): ``always`` (``id``)
is returned whatever was asked, ``never`` (``password``) never is, ``request`` only when named in
``attributes``; ``default`` attributes are returned unless ``attributes`` leaves them out or
``excludedAttributes`` names them. ``schemas`` is always returned. When a request gives both
parameters, ``attributes`` selects and ``excludedAttributes`` then removes from that selection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aup_server.errors import InvalidPathError
from aup_server.scim.resource import resolve
from scimcore.schemas import Attribute, ResolvedPath, Schema, SchemaRegistry

# (extension URN or None, attribute name) -> the sub-attributes named, or None for the whole attribute.
_Selection = dict[tuple[str | None, str], set[str] | None]


def parse_attribute_list(param: str | None, registry: SchemaRegistry, resource_type: str) -> tuple[ResolvedPath, ...]:
    """The comma-separated attribute names of a query parameter, resolved (names are case-insensitive).

    A name no resource type of the server defines is a 400 invalidPath: silently ignoring a typo would
    return (or leak) attributes the client asked not to get. A name only another resource type defines
    selects nothing here, so ``attributes=userName`` works on a root-level search over Users and Groups.
    """
    if not param:
        return ()
    found: list[ResolvedPath] = []
    for raw in param.split(","):
        name = raw.strip()
        if not name or name.lower() == "schemas":  # schemas is always returned
            continue
        resolved = resolve(registry, resource_type, name)
        if resolved is not None:
            found.append(resolved)
            continue
        if not any(resolve(registry, other, name) for other in registry.resource_types):
            raise InvalidPathError(
                f"{name!r} is not an attribute of any resource type on this server; name attributes "
                "as attr, attr.subAttr or urn:...:attr, separated by commas"
            )
    return tuple(found)


def _selection(paths: tuple[ResolvedPath, ...]) -> _Selection:
    selection: _Selection = {}
    for path in paths:
        key = (path.extension, path.attribute.name)
        if path.sub_attribute is None or (key in selection and selection[key] is None):
            selection[key] = None
        else:
            subs = selection.setdefault(key, set())
            assert subs is not None
            subs.add(path.sub_attribute.name)
    return selection


@dataclass(frozen=True)
class Projection:
    """The attribute selection of one request, applied to every resource it returns.

    ``attributes`` is None when the request did not ask for specific attributes.
    """

    registry: SchemaRegistry
    resource_type: str
    attributes: tuple[ResolvedPath, ...] | None = None
    excluded: tuple[ResolvedPath, ...] = ()
    _included: _Selection = field(init=False, repr=False, compare=False)
    _excluded: _Selection = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_included", _selection(self.attributes or ()))
        object.__setattr__(self, "_excluded", _selection(self.excluded))

    @classmethod
    def parse(
        cls, attributes: str | None, excluded: str | None, registry: SchemaRegistry, resource_type: str
    ) -> Projection:
        """Build from the raw ``attributes`` and ``excludedAttributes`` parameters."""
        selected = None
        if attributes is not None and attributes.replace(",", "").strip():
            selected = parse_attribute_list(attributes, registry, resource_type)
        return cls(registry, resource_type, selected, parse_attribute_list(excluded, registry, resource_type))

    def needs(self, name: str) -> bool:
        """Whether attribute ``name`` would be returned, so the store can skip loading ``members``/``groups``."""
        resolved = resolve(self.registry, self.resource_type, name)
        if resolved is None:
            return False
        return self._subs_wanted(resolved.extension, resolved.attribute) is not False

    def project(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``doc`` holding only the attributes and sub-attributes to return."""
        schemas = list(self.registry.schemas_of(self.resource_type))
        core = schemas[0]
        extensions = {schema.id: schema for schema in schemas[1:]}
        out: dict[str, Any] = {}
        for key, value in doc.items():
            if key == "schemas":
                out[key] = value
            elif key in extensions:
                block = self._block(key, value, extensions[key])
                if block:
                    out[key] = block
            else:
                attr = self.registry.common.attribute(key) or core.attribute(key)
                kept = None if attr is None else self._attribute(None, attr, value)
                if kept is not None and attr is not None:
                    out[attr.name] = kept
        return out

    def _block(self, urn: str, value: Any, schema: Schema) -> dict[str, Any]:
        block: dict[str, Any] = {}
        for name, item in value.items() if isinstance(value, Mapping) else ():
            attr = schema.attribute(name)
            kept = None if attr is None else self._attribute(urn, attr, item)
            if attr is not None and kept is not None:
                block[attr.name] = kept
        return block

    # -- one attribute -------------------------------------------------------------------------

    def _subs_wanted(self, extension: str | None, attr: Attribute) -> set[str] | None | bool:
        """False when the attribute is not returned; else the sub-attributes asked for (None: all)."""
        if attr.returned == "never":
            return False
        if attr.returned == "always":
            return None
        key = (extension, attr.name)
        if self.attributes is not None:
            if key not in self._included:
                return False
            wanted = self._included[key]
        elif attr.returned == "request":
            return False
        else:
            wanted = None
        if key in self._excluded and self._excluded[key] is None:
            return False
        return wanted

    def _attribute(self, extension: str | None, attr: Attribute, value: Any) -> Any:
        wanted = self._subs_wanted(extension, attr)
        if wanted is False or value is None:
            return None
        if attr.type != "complex" or not value:
            return value  # an empty array stays: a group without members shows "members": [] (docs/entra-idp.md §4)
        dropped = self._excluded.get((extension, attr.name)) or set()
        if attr.returned == "always":
            dropped = set()
        if isinstance(value, list):
            if wanted is None and not dropped and _returnable_as_is(attr, value):
                return value  # nothing to drop: a 50k-member list is returned without copying each member
            items = [self._element(attr, item, wanted, dropped) for item in value]
            kept = [item for item in items if item]
            return kept or None
        return self._element(attr, value, wanted, dropped) or None

    @staticmethod
    def _element(attr: Attribute, value: Any, wanted: set[str] | None | bool, dropped: set[str]) -> Any:
        """One complex value reduced to the sub-attributes to return (RFC 7644 §3.4.2.5 ``name.givenName``)."""
        if not isinstance(value, Mapping):
            return value
        out = {}
        for name, item in value.items():
            sub = attr.sub(name)
            if sub is None or sub.returned == "never":
                continue
            if sub.returned != "always":
                if isinstance(wanted, set) and sub.name not in wanted:
                    continue
                if wanted is None and sub.returned == "request":
                    continue
                if sub.name in dropped:
                    continue
            out[sub.name] = item
        return out


def _returnable_as_is(attr: Attribute, items: list[Any]) -> bool:
    """Whether every value already holds only returnable sub-attributes, under their canonical names."""
    if any(sub.returned not in ("default", "always") for sub in attr.sub_attributes):
        return False
    names = {sub.name for sub in attr.sub_attributes}
    return all(isinstance(item, Mapping) and item and item.keys() <= names for item in items)
