"""Named Okta app presets: the attribute mappings of a known SCIM app, merged over Okta's default (§9).

``aup sync --app NAME`` picks one; ``--mapping FILE`` still merges over it.
"""

from __future__ import annotations

from collections.abc import Mapping

from emulators.core.generator import SSH_KEY_ATTRIBUTE
from emulators.core.mapping import AttributeMapping, MappingRule
from emulators.okta.default_mapping import OKTA_DEFAULT_MAPPING
from scimcore.schemas.posix import DEFAULT_SSH_KEYS_SOURCE

# CoreWeave's AUP app: first and last name, email and status come from Okta's default rows (docs/okta-idp.md §9;
# active is the payload's own, §4); SUNK SSH keys are a custom app-user attribute (string array) sent as
# ``sunkSshKeys`` in CoreWeave's extension (docs/domain.md §1.1, §1.2). The source is the directory's
# key attribute, ``sshPublicKeys`` as `aup directory generate` writes it (inferred: CoreWeave names no
# Okta source attribute).
COREWEAVE = (
    MappingRule(
        DEFAULT_SSH_KEYS_SOURCE,
        f"user.{SSH_KEY_ATTRIBUTE}",
        "docs/domain.md §1.2 SUNK SSH keys (Okta: sunkSshKeys); source attribute inferred",
    ),
)

APPS: Mapping[str, tuple[MappingRule, ...]] = {"coreweave": COREWEAVE}


def app_mapping(name: str, base: AttributeMapping = OKTA_DEFAULT_MAPPING) -> AttributeMapping:
    """The preset ``name`` merged over ``base``; KeyError for an unknown name."""
    return base.merged(APPS[name])
