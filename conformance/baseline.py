"""Compare a run with an earlier JSON report: what broke since (regressions), what was fixed, what stays known.

A team whose server does not pass everything yet commits a report as its baseline; CI then fails only when a check
that passed (or did not exist) starts failing. A check "fails" here when it makes a run fail or leaves it unjudged:
FAIL, BLOCKED or ERROR, and with ``strict`` a SHOULD that WARNs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.model import Level, Status
from conformance.report.jsonreport import REPORT_FORMAT
from conformance.runner import Run

READABLE_VERSIONS = (1, 2)


class BaselineError(Exception):
    """The file is not a report this version can compare with (one line, for the CLI)."""


@dataclass(frozen=True)
class Entry:
    """One check of a report: its status and level."""

    status: Status
    level: Level


def load(path: Path) -> dict[str, Entry]:
    """Each check of the JSON report at ``path`` (versions 1 and 2); BaselineError names what is wrong."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path} is not JSON: {exc}") from None
    return entries(doc, str(path))


def entries(doc: Any, name: str = "the report") -> dict[str, Entry]:
    if not isinstance(doc, dict) or doc.get("format") != REPORT_FORMAT:
        raise BaselineError(f"{name} is not an aup conformance JSON report (written by --json)")
    if doc.get("version") not in READABLE_VERSIONS:
        raise BaselineError(f"{name} is report version {doc.get('version')!r}; this aup reads versions 1 and 2")
    out: dict[str, Entry] = {}
    for item in doc.get("results") or []:
        try:
            out[str(item["id"])] = Entry(Status(item["status"]), Level(item["level"]))
        except (KeyError, TypeError, ValueError):
            raise BaselineError(f"{name} has a result without a valid id, status and level: {item!r:.120}") from None
    return out


def failing(entry: Entry, *, strict: bool) -> bool:
    if entry.status in (Status.FAIL, Status.BLOCKED, Status.ERROR):
        return True
    return strict and entry.status is Status.WARN and entry.level is Level.SHOULD


@dataclass
class Comparison:
    """Check ids by what changed. ``unjudged``: passed in the baseline, not judged now (ERROR)."""

    regressions: list[str] = field(default_factory=list)
    unjudged: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # in the baseline, not in this run's selection

    def exit_code(self) -> int:
        """1 on a regression; else 2 when a check that passed could not be judged now; else 0, known failures or
        not."""
        if self.regressions:
            return 1
        return 2 if self.unjudged else 0

    def lines(self, baseline: str) -> list[str]:
        out = [f"Compared with {baseline}:"]
        for label, ids in (
            ("new failures (regressions)", self.regressions),
            ("not judged now, passed before", self.unjudged),
            ("fixed since the baseline", self.fixed),
            ("known failures, unchanged", self.known),
        ):
            out.append(f"  {len(ids)} {label}" + (": " + ", ".join(ids) if ids else ""))
        if self.gone:
            out.append(f"  {len(self.gone)} baseline check(s) not in this run")
        return out


def compare(baseline: dict[str, Entry], run: Run, *, strict: bool = False) -> Comparison:
    """Every check of ``run`` lands in exactly one of regressions, unjudged, fixed, known, or none (passing in
    both); baseline checks the run did not select are ``gone``."""
    result = Comparison()
    seen = set()
    for item in run.results:
        check_id = item.check.id
        seen.add(check_id)
        now = Entry(item.status, item.check.level)
        before = baseline.get(check_id)
        was_failing = before is not None and failing(before, strict=strict)
        if failing(now, strict=strict):
            if was_failing:
                result.known.append(check_id)
            elif now.status is Status.ERROR and before is not None:
                result.unjudged.append(check_id)
            else:
                result.regressions.append(check_id)
        elif was_failing:
            result.fixed.append(check_id)
    result.gone = sorted(set(baseline) - seen)
    return result


def rerun_ids(doc_entries: dict[str, Entry]) -> list[str]:
    """The checks a report did not pass: FAIL, WARN, BLOCKED or ERROR."""
    broken = (Status.FAIL, Status.WARN, Status.BLOCKED, Status.ERROR)
    return [check_id for check_id, entry in doc_entries.items() if entry.status in broken]
