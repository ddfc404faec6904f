"""The JSON report: one versioned document per run; ``schema.json`` beside this file is its contract."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from conformance.model import Status
from conformance.runner import Run

REPORT_FORMAT = "aup-conformance-report"
REPORT_VERSION = 2  # 2: BLOCKED, needs, hint, blocked_by, causes


def summary(run: Run, *, strict: bool) -> dict[str, Any]:
    counts = run.counts()
    return {
        "total": len(run.results),
        **{status.value.lower(): counts.get(status, 0) for status in Status},
        "strict": strict,
        "exit_code": run.exit_code(strict=strict),
    }


def to_dict(run: Run, *, strict: bool = False) -> dict[str, Any]:
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "target": run.target,
        "run_id": run.run_id,
        "started": run.started.isoformat(),
        "finished": run.finished.isoformat() if run.finished else None,
        "duration_s": round(run.duration_s, 3),
        "capabilities": run.capabilities,
        "verdict": run.verdict(strict=strict).value,
        "summary": summary(run, strict=strict),
        "notes": list(run.notes),
        "causes": [
            {
                "check": cause.root.check.id,
                "status": cause.root.status.value,
                "level": cause.level.value,
                "reason": cause.root.reason,
                "hint": cause.hint,
                "explains": [result.check.id for result in cause.explains],
            }
            for cause in run.causes()
        ],
        "results": [result.as_dict() for result in run.results],
    }


def to_json(run: Run, *, strict: bool = False) -> str:
    return json.dumps(to_dict(run, strict=strict), indent=2, ensure_ascii=False) + "\n"


def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every JSON report validates against."""
    text = resources.files("conformance.report").joinpath("schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
