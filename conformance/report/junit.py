"""JUnit XML: one testsuite per suite, one testcase per check, so any CI shows checks as tests."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from conformance.model import SUITES, Level, Result, Status
from conformance.report.console import verdict_line
from conformance.report.evidence import exchange_text
from conformance.runner import NETWORK, NOT_RUN, Run


def _text(result: Result) -> str:
    lines = [f"requirement: {result.check.ref}", f"problem: {result.reason}"]
    if result.expected:
        lines.append(f"expected: {result.expected}")
    if result.actual:
        lines.append(f"actual: {result.actual}")
    lines += [f"note: {note}" for note in result.notes]
    for exchange in result.evidence:
        lines += ["", exchange_text(exchange)]
    return "\n".join(lines)


def _error_type(result: Result) -> str:
    if result.reason.startswith(NOT_RUN):
        return "not-run"
    return "network" if result.reason.startswith(NETWORK) else "harness"


def render_junit(run: Run, *, strict: bool = False) -> str:
    """A WARN is a failure only with ``strict`` (and only for SHOULD), mirroring the exit code; an ERROR (not
    judged) is an ``error``. Each testsuite carries the run's verdict as properties (``testsuites`` has none)."""
    verdict = run.verdict(strict=strict).value
    detail = verdict_line(run, strict=strict)
    root = ET.Element("testsuites", name="aup conformance", tests=str(len(run.results)), time=f"{run.duration_s:.3f}")
    suites = [suite for suite in (*SUITES, "custom") if any(r.check.suite == suite for r in run.results)]
    totals = {"failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        results = [result for result in run.results if result.check.suite == suite]
        node = ET.SubElement(
            root, "testsuite", name=suite, tests=str(len(results)), timestamp=run.started.isoformat(timespec="seconds")
        )
        run_props = ET.SubElement(node, "properties")
        ET.SubElement(run_props, "property", name="verdict", value=verdict)
        ET.SubElement(run_props, "property", name="verdict_detail", value=detail)
        counts = {"failures": 0, "errors": 0, "skipped": 0}
        for result in results:
            case = ET.SubElement(
                node,
                "testcase",
                classname=f"conformance.{suite}",
                name=result.check.id,
                time=f"{result.duration_ms / 1000:.3f}",
            )
            failing = result.status is Status.FAIL or (
                strict and result.status is Status.WARN and result.check.level is Level.SHOULD
            )
            if failing:
                counts["failures"] += 1
                item = ET.SubElement(case, "failure", message=result.reason, type=result.check.level.value)
                item.text = _text(result)
            elif result.status is Status.ERROR:
                counts["errors"] += 1
                item = ET.SubElement(case, "error", message=result.reason, type=_error_type(result))
                item.text = _text(result)
            elif result.status is Status.SKIP:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=result.reason)
            elif result.status is Status.WARN:
                out = ET.SubElement(case, "system-out")
                out.text = f"WARN ({result.check.level.value})\n{_text(result)}"
            props = ET.SubElement(case, "properties")
            for name, value in (
                ("level", result.check.level.value),
                ("ref", result.check.ref),
                ("status", result.status.value),
                ("title", result.check.title),
            ):
                ET.SubElement(props, "property", name=name, value=value)
        for key, count in counts.items():
            node.set(key, str(count))
            totals[key] += count
    for key, count in totals.items():
        root.set(key, str(count))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
