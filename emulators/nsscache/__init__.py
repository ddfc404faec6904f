"""nsscache's SCIM source, emulated: the read side of SUNK user provisioning (docs/domain.md §1.3-§1.4).

``fetch_maps`` pages through /Users and /Groups the way nsscache does (only ``startIndex``, trusting
``itemsPerPage`` and ``totalResults``) and builds the passwd, group and sshkey maps with its fallbacks;
``write_caches`` writes them in nsscache's files-cache format; ``compare_exports`` checks two exports
for uid/gid changes and reuse.
"""

from emulators.nsscache.cache import Export, read_export, write_export
from emulators.nsscache.check import Finding, compare_exports
from emulators.nsscache.source import (
    AUP_PATHS,
    GroupEntry,
    Maps,
    NsscacheError,
    PasswdEntry,
    ScimPaths,
    fetch_maps,
    nsscache_client,
)

__all__ = [
    "AUP_PATHS",
    "Export",
    "Finding",
    "GroupEntry",
    "Maps",
    "NsscacheError",
    "PasswdEntry",
    "ScimPaths",
    "compare_exports",
    "fetch_maps",
    "nsscache_client",
    "read_export",
    "write_export",
]
