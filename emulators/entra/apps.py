"""Named Entra app presets: the attribute mappings of a known SCIM app, merged over Entra's defaults (§9).

``aup sync --idp entra --app NAME`` (or ``aup entra-sync --app NAME``) picks one; ``--mapping FILE`` still
merges over it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from emulators.core.generator import SSH_KEY_ATTRIBUTE
from emulators.entra.mapping import DEFAULT_GROUP_MAPPING, DEFAULT_USER_MAPPING, EntraMapping, EntraRule
from scimcore.schemas.posix import DEFAULT_SSH_KEYS_SOURCE


@dataclass(frozen=True)
class EntraApp:
    """User and group rows merged over the defaults, and whether the app comes from the Entra gallery."""

    user_rules: tuple[EntraRule, ...] = ()
    group_rules: tuple[EntraRule, ...] = ()
    gallery_app: bool = False

    def mappings(
        self, user: EntraMapping = DEFAULT_USER_MAPPING, group: EntraMapping = DEFAULT_GROUP_MAPPING
    ) -> tuple[EntraMapping, EntraMapping]:
        return user.merged(self.user_rules), group.merged(self.group_rules)


# CoreWeave's AUP app is created as a non-gallery app ("Integrate any other application you don't find in the
# gallery (Non-gallery)", https://docs.coreweave.com/security/automated-user-provisioning/configure-microsoft-entra),
# whose custom extension attributes cannot be multi-valued (docs/entra-idp.md §4). Names, mail and active are
# Entra's default rows (§9). SUNK SSH keys come from a Graph extension attribute (docs/domain.md §1.2);
# inferred: that attribute is a string, mapped to the extension the server reads keys from as one key per
# line, which the server accepts (docs/posix.md "SSH keys"). Join joins every value of a multi-valued
# source, so the generated directory's key list becomes that string.
_COREWEAVE_KEYS = EntraRule(
    DEFAULT_SSH_KEYS_SOURCE,
    "expression",
    f'Join("\n", [{SSH_KEY_ATTRIBUTE}])',
    provenance="docs/domain.md §1.2 SUNK SSH keys (Entra: a Graph extension attribute); string form inferred",
)
COREWEAVE = EntraApp(user_rules=(_COREWEAVE_KEYS,), gallery_app=False)

APPS: Mapping[str, EntraApp] = {"coreweave": COREWEAVE}
