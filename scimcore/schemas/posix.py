"""The POSIX extension: the uid/gid, username, home, shell and SSH keys a cluster reads (nsscache, SUNK).

The URNs are the ones CoreWeave's sunk-anywhere nsscache example reads SSH keys from
(``urn:ietf:params:scim:schemas:extension:posix:2.0:User/sshPublicKey``, docs/domain.md §1.3),
so an nsscache config written for it works unchanged. Every attribute is readOnly: the server assigns
ids and derives the rest (§4 "IDs are immutable, expose them read-only").
"""

from __future__ import annotations

from scimcore.schemas.model import Attribute, AttrType, Schema, Uniqueness

POSIX_USER_URN = "urn:ietf:params:scim:schemas:extension:posix:2.0:User"
POSIX_GROUP_URN = "urn:ietf:params:scim:schemas:extension:posix:2.0:Group"

# Where CoreWeave's Okta mapping sends SUNK SSH keys (docs/domain.md §1.2): the default source.
COREWEAVE_USER_URN = "urn:coreweave:params:scim:schemas:extension:coreweave:2.0:CoreWeaveUser"
DEFAULT_SSH_KEYS_SOURCE = f"{COREWEAVE_USER_URN}:sunkSshKeys"

# The attribute names, shared by the server that fills them and the clients that read them.
UID = "uidNumber"
GID = "gidNumber"
USERNAME = "username"
HOME = "homeDirectory"
SHELL = "loginShell"
SSH_KEYS = "sshPublicKey"
MEMBER_USERNAME = "username"  # the sub-attribute of Group.members an nsscache group map reads


def _read_only(
    name: str, kind: AttrType, description: str, *, uniqueness: Uniqueness = "none", multi_valued: bool = False
) -> Attribute:
    return Attribute(
        name,
        kind,
        multi_valued=multi_valued,
        case_exact=True,
        mutability="readOnly",
        uniqueness=uniqueness,
        description=description,
    )


POSIX_USER = Schema(
    POSIX_USER_URN,
    "PosixUser",
    "POSIX account of a user, assigned by the service provider",
    (
        _read_only(UID, "integer", "User id; allocated once, never changed and never reused.", uniqueness="server"),
        _read_only(GID, "integer", "Primary group id: the user's private group, equal to the uid."),
        _read_only(
            USERNAME,
            "string",
            "Login name derived from userName: lower case, ^[a-z_][a-z0-9_-]*$, at most 32 characters.",
            uniqueness="server",
        ),
        _read_only(HOME, "string", "Home directory."),
        _read_only(SHELL, "string", "Login shell."),
        _read_only(
            SSH_KEYS,
            "string",
            "Validated OpenSSH public keys of an active user; empty while the user is inactive.",
            multi_valued=True,
        ),
    ),
)

POSIX_GROUP = Schema(
    POSIX_GROUP_URN,
    "PosixGroup",
    "POSIX group, assigned by the service provider",
    (_read_only(GID, "integer", "Group id; allocated once, never changed and never reused.", uniqueness="server"),),
)


def ssh_source_schema(urn: str, attribute: str) -> Schema:
    """A one-attribute extension that holds the SSH keys an IdP sends, when no configured extension does."""
    return Schema(
        urn,
        urn.rsplit(":", 1)[-1],
        "SSH public keys as the IdP sends them",
        (
            Attribute(
                attribute,
                multi_valued=True,
                case_exact=True,
                description="OpenSSH public key lines: an array, or one string with a key per line.",
                text_lines=True,  # a non-gallery Entra app sends one string (docs/entra-idp.md §4, docs/posix.md)
            ),
        ),
    )
