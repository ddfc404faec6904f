"""The RFC 7643 core schemas: common attributes (§3.1), User (§4.1), Group (§4.2), Enterprise User (§4.3)."""

from __future__ import annotations

from scimcore import urns
from scimcore.schemas.model import Attribute, ResourceType, Schema, SchemaExtension, SchemaRegistry


def _multi(name: str, description: str, *, value_type: str = "string", types: tuple[str, ...] = ()) -> Attribute:
    """The usual multi-valued complex attribute: value, display, type, primary (RFC 7643 §2.4)."""
    return Attribute(
        name,
        "complex",
        multi_valued=True,
        description=description,
        sub_attributes=(
            Attribute("value", value_type, description=f"The {name} value."),  # type: ignore[arg-type]
            Attribute("display", mutability="readOnly", description="A human-readable name."),
            Attribute("type", canonical_values=types, description="A label indicating the attribute's function."),
            Attribute("primary", "boolean", description="Whether this is the preferred value."),
        ),
    )


COMMON = Schema(
    "",
    "Common",
    "Attributes every resource carries (RFC 7643 §3.1).",
    (
        Attribute(
            "id",
            case_exact=True,
            mutability="readOnly",
            returned="always",
            uniqueness="server",
            description="Unique, stable identifier issued by the service provider.",
        ),
        Attribute("externalId", case_exact=True, description="Identifier issued by the provisioning client."),
        Attribute(
            "meta",
            "complex",
            mutability="readOnly",
            description="Resource metadata.",
            sub_attributes=(
                Attribute("resourceType", case_exact=True, mutability="readOnly"),
                Attribute("created", "dateTime", mutability="readOnly"),
                Attribute("lastModified", "dateTime", mutability="readOnly"),
                Attribute("location", "reference", case_exact=True, mutability="readOnly", reference_types=("uri",)),
                Attribute("version", case_exact=True, mutability="readOnly"),
            ),
        ),
    ),
)

_NAME = Attribute(
    "name",
    "complex",
    description="The components of the user's name.",
    sub_attributes=(
        Attribute("formatted", description="The full name, formatted for display."),
        Attribute("familyName", description="The family name."),
        Attribute("givenName", description="The given name."),
        Attribute("middleName", description="The middle name(s)."),
        Attribute("honorificPrefix", description="The honorific prefix, e.g. 'Ms.'."),
        Attribute("honorificSuffix", description="The honorific suffix, e.g. 'III'."),
    ),
)

_ADDRESSES = Attribute(
    "addresses",
    "complex",
    multi_valued=True,
    description="Physical mailing addresses.",
    sub_attributes=(
        Attribute("formatted"),
        Attribute("streetAddress"),
        Attribute("locality"),
        Attribute("region"),
        Attribute("postalCode"),
        Attribute("country"),
        Attribute("type", canonical_values=("work", "home", "other")),
        Attribute("primary", "boolean"),
    ),
)

_GROUPS = Attribute(
    "groups",
    "complex",
    multi_valued=True,
    mutability="readOnly",
    description="Groups the user belongs to, computed from group memberships.",
    sub_attributes=(
        Attribute("value", mutability="readOnly"),
        Attribute("$ref", "reference", mutability="readOnly", reference_types=("User", "Group")),
        Attribute("display", mutability="readOnly"),
        Attribute("type", mutability="readOnly", canonical_values=("direct", "indirect")),
    ),
)

_X509 = Attribute(
    "x509Certificates",
    "complex",
    multi_valued=True,
    description="DER-encoded X.509 certificates.",
    sub_attributes=(
        Attribute("value", "binary"),
        Attribute("display"),
        Attribute("type"),
        Attribute("primary", "boolean"),
    ),
)

USER = Schema(
    urns.USER,
    "User",
    "User Account",
    (
        Attribute(
            "userName",
            required=True,
            uniqueness="server",
            description="Unique identifier for the user, used to sign in; compared case-insensitively.",
        ),
        _NAME,
        Attribute("displayName", description="The name displayed to end users."),
        Attribute("nickName", description="The casual way to address the user."),
        Attribute("profileUrl", "reference", reference_types=("external",), description="Online profile URL."),
        Attribute("title", description="The user's title, such as 'Vice President'."),
        Attribute("userType", description="Relationship to the organisation, e.g. 'Employee'."),
        Attribute("preferredLanguage", description="Preferred written or spoken language (RFC 7231)."),
        Attribute("locale", description="Default location for localising, e.g. 'en-US'."),
        Attribute("timezone", description="Time zone in IANA format, e.g. 'America/Los_Angeles'."),
        Attribute("active", "boolean", description="The user's administrative status."),
        Attribute(
            "password",
            mutability="writeOnly",
            returned="never",
            description="The cleartext password; accepted, never returned.",
        ),
        _multi("emails", "Email addresses.", types=("work", "home", "other")),
        _multi("phoneNumbers", "Phone numbers.", types=("work", "home", "mobile", "fax", "pager", "other")),
        _multi(
            "ims",
            "Instant messaging addresses.",
            types=("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"),
        ),
        _multi("photos", "URLs of images of the user.", value_type="reference", types=("photo", "thumbnail")),
        _ADDRESSES,
        _GROUPS,
        _multi("entitlements", "Entitlements of the user."),
        _multi("roles", "Roles of the user."),
        _X509,
    ),
)

GROUP = Schema(
    urns.GROUP,
    "Group",
    "Group",
    (
        Attribute("displayName", required=True, description="A human-readable name for the group."),
        Attribute(
            "members",
            "complex",
            multi_valued=True,
            description="The members of the group.",
            sub_attributes=(
                Attribute("value", case_exact=True, mutability="immutable", description="The member's id."),
                Attribute("$ref", "reference", mutability="immutable", reference_types=("User", "Group")),
                Attribute("display", mutability="readOnly", description="The member's display name."),
                Attribute("type", mutability="immutable", canonical_values=("User", "Group")),
                # Not in RFC 7643 §4.2: nsscache builds a group map from a username-valued member
                # sub-attribute (docs/domain.md §1.4); sent only for active POSIX users.
                Attribute(
                    "username",
                    case_exact=True,
                    mutability="readOnly",
                    description="The member's POSIX username (servers with the POSIX extension).",
                ),
            ),
        ),
    ),
)

ENTERPRISE_USER = Schema(
    urns.ENTERPRISE_USER,
    "EnterpriseUser",
    "Enterprise User",
    (
        Attribute("employeeNumber", description="Identifier assigned by the organisation."),
        Attribute("costCenter"),
        Attribute("organization"),
        Attribute("division"),
        Attribute("department"),
        Attribute(
            "manager",
            "complex",
            description="The user's manager.",
            sub_attributes=(
                Attribute("value", description="The id of the manager's SCIM resource."),
                Attribute("$ref", "reference", reference_types=("User",)),
                Attribute("displayName", mutability="readOnly"),
            ),
        ),
    ),
)

USER_TYPE = ResourceType("User", "/Users", urns.USER, "User Account", (SchemaExtension(urns.ENTERPRISE_USER),))
GROUP_TYPE = ResourceType("Group", "/Groups", urns.GROUP, "Group")


def core_registry(extensions: tuple[tuple[str, Schema], ...] = ()) -> SchemaRegistry:
    """The registry of the core schemas plus configured extensions, given as (resource type, schema) pairs."""
    user_ext = list(USER_TYPE.extensions)
    group_ext = list(GROUP_TYPE.extensions)
    for resource_type, schema in extensions:
        target = user_ext if resource_type == "User" else group_ext
        target.append(SchemaExtension(schema.id))
    user = ResourceType(USER_TYPE.name, USER_TYPE.endpoint, USER_TYPE.schema, USER_TYPE.description, tuple(user_ext))
    group = ResourceType(
        GROUP_TYPE.name, GROUP_TYPE.endpoint, GROUP_TYPE.schema, GROUP_TYPE.description, tuple(group_ext)
    )
    schemas = [USER, GROUP, ENTERPRISE_USER, *(schema for _, schema in extensions)]
    return SchemaRegistry.build(schemas, [user, group], common=COMMON)
