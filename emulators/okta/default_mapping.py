"""Okta's default Okta-to-app attribute mapping for a SCIM 2.0 app (docs/okta-idp.md §9), as data.

``active``, ``externalId``, ``groups`` and ``password`` are not mapping rows: the payload builders
add them (docs/okta-idp.md §4, §9).
"""

from __future__ import annotations

from emulators.core.mapping import AttributeMapping, MappingRule

_MAP = "docs/okta-idp.md §9 default mappings (observed)"
_SAMPLE = "docs/okta-idp.md §4 create body (documented)"
_VALUE_ROW = "inferred: §9 lists only the type row; the value row it implies is added"


def _rule(target: str, expression: str, provenance: str) -> MappingRule:
    return MappingRule(target, expression, provenance)


OKTA_DEFAULT_MAPPING = AttributeMapping(
    (
        _rule("userName", "user.login", f"{_MAP}: the Okta username (Sign On settings default)"),
        _rule("name.givenName", "user.firstName", _MAP),
        _rule("name.familyName", "user.lastName", _MAP),
        _rule("name.middleName", "user.middleName", _MAP),
        _rule("name.honorificPrefix", "user.honorificPrefix", _MAP),
        _rule("name.honorificSuffix", "user.honorificSuffix", _MAP),
        _rule("emails.^[primary==true].value", "user.email", _MAP),
        _rule("emails.^[primary==true].type", "(user.email != null && user.email != '') ? 'work' : ''", _MAP),
        _rule("displayName", "user.displayName", _SAMPLE),
        _rule("locale", "user.locale", _SAMPLE),
        _rule("phoneNumbers.^[primary==true].value", "user.primaryPhone", _VALUE_ROW),
        _rule(
            "phoneNumbers.^[primary==true].type",
            "(user.primaryPhone != null && user.primaryPhone != '') ? 'work' : ''",
            _MAP,
        ),
        _rule("addresses.^[primary==true].streetAddress", "user.streetAddress", _VALUE_ROW),
        _rule(
            "addresses.^[primary==true].type",
            "(user.streetAddress != null && user.streetAddress != '') ? 'work' : ''",
            _MAP,
        ),
    )
)
