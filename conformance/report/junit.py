"""JUnit XML: one testsuite per suite, one testcase per check, so GitHub's and GitLab's test views show checks
as tests. A failure's text leads with the requirement and the exchange where the failure was found."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from conformance.model import Result, Status
from conformance.report.console import verdict_line
from conformance.report.evidence import exchange_text
from conformance.runner import NETWORK, NOT_RUN, Cause, Run


def _evidence(result: Result) -> list[str]:
    """The failing exchange first (a check stops at the exchange that broke it: the last one), then the rest."""
    if not result.evidence:
        return []
    *earlier, failing = result.evidence
    lines = ["", "exchange where the failure was found (secrets redacted):", exchange_text(failing)]
    if earlier:
        lines += ["", f"earlier exchanges ({len(earlier)}):"]
        for exchange in earlier:
            lines += [exchange_text(exchange), ""]
    return lines


def _text(result: Result) -> str:
    lines = [result.check.title, f"requirement: {result.check.ref}", f"problem: {result.reason}"]
    if result.expected:
        lines.append(f"expected: {result.expected}")
    if result.actual:
        lines.append(f"actual: {result.actual}")
    if result.check.hint:
        lines.append(f"hint: {result.check.hint}")
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join([*lines, *_evidence(result)]).rstrip() + "\n"


def _blocked(result: Result, causes: list[Cause]) -> tuple[str, str]:
    """Message and text of a BLOCKED check: the root causes that broke first, each with its hint."""
    roots = [cause.root for cause in causes if result in cause.explains]
    message = "; ".join(f"blocked by {root.check.id}: {root.reason}" for root in roots) or (
        f"blocked by {', '.join(result.blocked_by)}"
    )
    lines = [result.check.title, f"requirement: {result.check.ref}", message]
    for root in roots:
        lines.append(f"root cause {root.check.id} ({root.status.value}, {root.check.ref}): {root.reason}")
        if root.check.hint:
            lines.append(f"hint: {root.check.hint}")
    return message, "\n".join(lines) + "\n"


def _error_type(result: Result) -> str:
    if result.reason.startswith(NOT_RUN):
        return "not-run"
    return "network" if result.reason.startswith(NETWORK) else "harness"


def _outcome(case: ET.Element, result: Result, *, failing: bool, causes: list[Cause]) -> str | None:
    """Add the failure/error/skipped child (or system-out) and say which count it adds to."""
    status = result.status
    if status is Status.BLOCKED:
        message, text = _blocked(result, causes)
        kind = "failure" if failing else "skipped"
        node = ET.SubElement(case, kind, message=message, type="blocked")
        node.text = text
        return "failures" if failing else "skipped"
    if failing:
        node = ET.SubElement(case, "failure", message=result.reason, type=result.check.level.value)
        node.text = _text(result)
        return "failures"
    if status is Status.ERROR:
        node = ET.SubElement(case, "error", message=result.reason, type=_error_type(result))
        node.text = _text(result)
        return "errors"
    if status is Status.SKIP:
        ET.SubElement(case, "skipped", message=result.reason)
        return "skipped"
    if status is Status.WARN:
        out = ET.SubElement(case, "system-out")
        out.text = f"WARN ({result.check.level.value}, passes unless --strict)\n{_text(result)}"
    return None


def _case(parent: ET.Element, result: Result) -> ET.Element:
    case = ET.SubElement(
        parent,
        "testcase",
        classname=f"conformance.{result.check.suite}",
        name=result.check.id,
        time=f"{result.duration_ms / 1000:.3f}",
    )
    props = ET.SubElement(case, "properties")
    for name, value in (
        ("title", result.check.title),
        ("level", result.check.level.value),
        ("ref", result.check.ref),
        ("status", result.status.value),
    ):
        ET.SubElement(props, "property", name=name, value=value)
    return case


def render_junit(run: Run, *, strict: bool = False) -> str:
    """``failures`` are exactly what fails the run (``Run.failed``): FAIL, with ``strict`` a SHOULD's WARN, and a
    BLOCKED check the run counts; an ERROR (not judged) is an ``error``; SKIP and the other BLOCKED are
    ``skipped``. Each testsuite carries the run's verdict as properties (``testsuites`` has none)."""
    verdict = run.verdict(strict=strict).value
    detail = verdict_line(run, strict=strict)
    failed = {id(result) for result in run.failed(strict=strict)}
    causes = run.causes()
    root = ET.Element("testsuites", name="aup conformance", tests=str(len(run.results)), time=f"{run.duration_s:.3f}")
    totals = {"failures": 0, "errors": 0, "skipped": 0}
    for suite in run.suites():
        results = [result for result in run.results if result.check.suite == suite]
        node = ET.SubElement(
            root,
            "testsuite",
            name=suite,
            tests=str(len(results)),
            time=f"{sum(r.duration_ms for r in results) / 1000:.3f}",
            timestamp=run.started.isoformat(timespec="seconds"),
        )
        run_props = ET.SubElement(node, "properties")
        ET.SubElement(run_props, "property", name="verdict", value=verdict)
        ET.SubElement(run_props, "property", name="verdict_detail", value=detail)
        counts = {"failures": 0, "errors": 0, "skipped": 0}
        for result in results:
            counted = _outcome(_case(node, result), result, failing=id(result) in failed, causes=causes)
            if counted:
                counts[counted] += 1
        for key, count in counts.items():
            node.set(key, str(count))
            totals[key] += count
    for key, count in totals.items():
        root.set(key, str(count))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
