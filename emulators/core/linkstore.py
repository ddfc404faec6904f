"""Links between IdP objects and the SCIM resources they were provisioned as, persisted as JSON.

An IdP stores the SCIM ``id`` returned on create and uses it in every later URL; keeping the links
in a file lets a sync stop and resume in another process without provisioning anyone twice.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from emulators.core.errors import ConfigurationError

LINKS_VERSION = 1
Kind = Literal["user", "group"]
_KINDS: tuple[Kind, ...] = ("user", "group")


class LinkStore:
    """IdP id <-> SCIM id per kind; in memory when ``path`` is None, else saved to ``path``.

    Changes are written every ``save_every`` changes and on ``save()``; a lost tail is harmless
    because provisioning looks a user up by its unique identifier before creating it.
    """

    def __init__(self, path: str | Path | None = None, *, save_every: int = 1) -> None:
        self.path = Path(path) if path is not None else None
        self.save_every = max(1, save_every)
        self._links: dict[Kind, dict[str, str]] = {kind: {} for kind in _KINDS}
        self._unsaved = 0
        if self.path is not None and self.path.exists():
            self._load(self.path)

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read link store {path}: {exc}") from None
        if not isinstance(data, dict) or data.get("version") != LINKS_VERSION:
            raise ConfigurationError(f"{path} is not a version {LINKS_VERSION} link store")
        for kind in _KINDS:
            self._links[kind] = {str(k): str(v) for k, v in (data.get(f"{kind}s") or {}).items()}

    def scim_id(self, kind: Kind, idp_id: str) -> str | None:
        return self._links[kind].get(idp_id)

    def idp_id(self, kind: Kind, scim_id: str) -> str | None:
        return next((idp for idp, scim in self._links[kind].items() if scim == scim_id), None)

    def links(self, kind: Kind) -> dict[str, str]:
        """A copy of the links of one kind, IdP id -> SCIM id."""
        return dict(self._links[kind])

    def link(self, kind: Kind, idp_id: str, scim_id: str) -> None:
        if self._links[kind].get(idp_id) != scim_id:
            self._links[kind][idp_id] = scim_id
            self._changed()

    def unlink(self, kind: Kind, idp_id: str) -> None:
        if self._links[kind].pop(idp_id, None) is not None:
            self._changed()

    def _changed(self) -> None:
        self._unsaved += 1
        if self._unsaved >= self.save_every:
            self.save()

    def save(self) -> None:
        """Write the links atomically (a temporary file renamed over the old one)."""
        self._unsaved = 0
        if self.path is None:
            return
        data = {"version": LINKS_VERSION, **{f"{kind}s": self._links[kind] for kind in _KINDS}}
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)


def links_path_for(directory_path: str | Path, idp: str | None = None) -> Path:
    """The default link store next to a directory file: ``people.yaml`` -> ``people.links.json`` (Okta's),
    or ``people.<idp>-links.json`` for another IdP, so two IdPs syncing one directory keep apart."""
    path = Path(directory_path)
    return path.with_name(f"{path.stem}.{idp}-links.json" if idp else f"{path.stem}.links.json")
