"""The provisioning job between processes: one versioned JSON file per directory, Entra's alone.

A real Entra job keeps, between its cycles, what it sent for each object and membership, the users it
left unmanaged, the watermark, escrows and quarantine, and its provisioning log (docs/entra-idp.md §7,
§8). Successive ``aup sync --idp entra`` runs over an edited directory must behave as that one job over
time, so all of it is saved here, with the job's virtual clock and the target it was made against.
Okta keeps nothing of this kind (its state is links and failed tasks), so the file is never shared.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from emulators.core.errors import ConfigurationError
from emulators.entra.log import Action, LogEntry, Outcome
from emulators.entra.state import JobState

JOB_VERSION = 1
# Provisioning logs are kept 30 days:
# https://learn.microsoft.com/en-us/entra/identity/monitoring-health/reference-reports-data-retention
LOG_RETENTION_S = 30 * 24 * 3600.0


@dataclass
class JobRecord:
    """What one directory's Entra job carries from one run to the next."""

    state: JobState = field(default_factory=JobState)
    clock_offset: float = 0.0  # idle time skipped so far by the job's clock (cycles 40 minutes apart)
    target: str | None = None
    log: list[LogEntry] = field(default_factory=list)

    def to_data(self, now: float) -> dict[str, Any]:
        recent = [asdict(entry) for entry in self.log if now - entry.time <= LOG_RETENTION_S]
        return {
            "version": JOB_VERSION,
            "idp": "entra",
            "target": self.target,
            "clock_offset": self.clock_offset,
            "state": self.state.to_data(),
            "log": recent,
        }

    @classmethod
    def from_data(cls, data: Any, where: str) -> JobRecord:
        if not isinstance(data, dict) or data.get("idp") != "entra":
            raise ConfigurationError(f"{where} is not an Entra job file")
        if data.get("version") != JOB_VERSION:
            raise ConfigurationError(f"{where} is job file version {data.get('version')!r}; {JOB_VERSION} is read")
        try:
            return cls(
                state=JobState.from_data(data.get("state") or {}),
                clock_offset=float(data.get("clock_offset") or 0.0),
                target=None if data.get("target") is None else str(data["target"]),
                log=[_entry(item) for item in data.get("log") or ()],
            )
        except (TypeError, ValueError, KeyError) as exc:
            raise ConfigurationError(f"{where} is damaged: {exc}; --reset starts the job afresh") from None


def _entry(item: dict[str, Any]) -> LogEntry:
    return LogEntry(**{**item, "action": Action(item["action"]), "outcome": Outcome(item["outcome"])})


def job_path_for(directory_path: str | Path) -> Path:
    """``people.yaml`` -> ``people.entra-job.json``."""
    path = Path(directory_path)
    return path.with_name(f"{path.stem}.entra-job.json")


def entra_links_path_for(directory_path: str | Path) -> Path:
    """``people.yaml`` -> ``people.entra-links.json`` (Okta's links stay in ``people.links.json``)."""
    path = Path(directory_path)
    return path.with_name(f"{path.stem}.entra-links.json")


def load_job(path: Path) -> JobRecord:
    """The saved job, or a new one when the file does not exist."""
    if not path.exists():
        return JobRecord()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the Entra job file {path}: {exc}") from None
    return JobRecord.from_data(data, str(path))


def save_job(path: Path, record: JobRecord, now: float) -> None:
    """Write atomically: a temporary file renamed over the old one, so an interrupted save loses nothing."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record.to_data(now), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
