"""Console output: a progress line while running, then a table per suite, failure details and a summary."""

from __future__ import annotations

import textwrap

from conformance.model import Level, Result, Status, Verdict
from conformance.report.evidence import exchange_text
from conformance.runner import NOT_RUN, Cause, Run

MARK = {
    Status.PASS: "PASS ",
    Status.FAIL: "FAIL ",
    Status.WARN: "WARN ",
    Status.SKIP: "skip ",
    Status.BLOCKED: "BLOCK",
    Status.ERROR: "ERROR",
}
DETAIL_EVIDENCE = 3  # exchanges shown per failure on the console; the reports keep more


def render_progress(done: int, total: int, result: Result) -> str:
    """One line, meant to be rewritten in place (``\\r``) on a terminal."""
    width = len(str(total))
    return f"[{done:>{width}}/{total}] {MARK[result.status].strip():<5} {result.check.id}"


def _table(results: list[Result], width: int) -> list[str]:
    id_width = min(max(len(result.check.id) for result in results), 52)
    lines = []
    for result in results:
        text = result.check.title
        if result.status in (Status.SKIP, Status.BLOCKED) and result.reason:
            text = result.reason  # why it did not run says more than the title
        text = textwrap.shorten(text, width=max(width - id_width - 18, 20), placeholder="...")
        lines.append(f"  {MARK[result.status]} {result.check.level.value:<6} {result.check.id:<{id_width}}  {text}")
    return lines


def cause_lines(cause: Cause, width: int = 110) -> list[str]:
    """One root cause: the check that broke, what it explains, and what to fix; long lines wrap under the id."""
    root = cause.root
    indent = " " * 7
    wrap = textwrap.TextWrapper(
        width=width, initial_indent=indent, subsequent_indent=indent + "  ", break_on_hyphens=False
    )  # ids and URNs stay whole
    lines = [f"{cause.level.value:<6} {root.check.id} ({root.status.value}): {root.reason}"]
    if cause.explains:
        shown = ", ".join(result.check.id for result in cause.explains)
        explains = f"explains {_plural(len(cause.explains), 'blocked check')}: {shown}"
        lines += wrap.wrap(explains)
    if cause.level is not root.check.level:
        lines.append(f"{indent}graded {cause.level.value}: it blocks {cause.level.value} checks")
    if cause.hint:
        lines += textwrap.wrap(
            f"fix: {cause.hint}", width=width, initial_indent=indent, subsequent_indent=indent + "  "
        )
    return lines


def failure_details(result: Result, *, evidence: int) -> list[str]:
    lines = [f"{MARK[result.status].strip()} {result.check.id} [{result.check.level.value}] {result.check.title}"]
    lines.append(f"  requirement: {result.check.ref}")
    lines.append(f"  problem:     {result.reason}")
    if result.expected:
        lines.append(f"  expected:    {result.expected}")
    if result.actual:
        lines.append(f"  actual:      {result.actual}")
    lines += [f"  note:        {note}" for note in result.notes]
    if result.evidence and evidence:
        shown = result.evidence[-evidence:]
        lines.append(f"  evidence (last {len(shown)} of {len(result.evidence)} exchanges, secrets redacted):")
        for exchange in shown:
            lines += ["    " + line for line in exchange_text(exchange).splitlines()]
    return lines


def render_console(run: Run, *, strict: bool = False, width: int = 110, evidence: int = DETAIL_EVIDENCE) -> str:
    lines = [f"aup conformance against {run.target} (run {run.run_id})", ""]
    for suite in run.suites():
        results = [result for result in run.results if result.check.suite == suite]
        counts = {status: sum(1 for result in results if result.status is status) for status in Status}
        summary = ", ".join(f"{count} {status.value.lower()}" for status, count in counts.items() if count)
        lines.append(f"{suite} ({summary})")
        lines += _table(results, width)
        lines.append("")
    troubled = [result for result in run.results if result.status in (Status.FAIL, Status.WARN, Status.ERROR)]
    causes = run.causes()
    not_run = [result for result in troubled if result.reason.startswith(NOT_RUN)]
    troubled = [result for result in troubled if result not in not_run]
    if troubled or not_run:
        lines.append("Details")
        lines.append("")
        for result in troubled:
            lines += failure_details(result, evidence=evidence)
            lines.append("")
    if not_run:  # one reason for all of them: once, not once per check
        lines.append(f"ERROR {_plural(len(not_run), 'check')} {not_run[0].reason}")
        lines.append("")
    if causes:  # the short list to act on, after the details and before the verdict
        lines.append(f"Causes ({len(causes)}), strongest first")
        for cause in sorted(causes, key=lambda item: list(Level).index(item.level)):
            lines += ["  " + line for line in cause_lines(cause, width - 2)]
        lines.append("")
    for note in run.notes:
        lines.append(f"note: {note}")
    lines.append(summary_line(run, strict=strict))
    lines.append(verdict_line(run, strict=strict))  # last, where a reader and a CI log look first
    return "\n".join(lines) + "\n"


def summary_line(run: Run, *, strict: bool = False) -> str:
    counts = run.counts()
    parts = [
        f"{counts.get(Status.PASS, 0)} passed",
        f"{counts.get(Status.FAIL, 0)} failed (MUST)",
        f"{counts.get(Status.WARN, 0)} warnings (SHOULD/MAY)",
        f"{counts.get(Status.SKIP, 0)} skipped",
        f"{counts.get(Status.BLOCKED, 0)} blocked",
        f"{counts.get(Status.ERROR, 0)} errors",
    ]
    return f"{len(run.results)} checks: {', '.join(parts)} in {run.duration_s:.1f} s"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def verdict_line(run: Run, *, strict: bool = False) -> str:
    """The verdict with what it rests on; every report states it the same way."""
    verdict = run.verdict(strict=strict)
    total, unjudged = len(run.results), len(run.unjudged())
    levels = "MUST or SHOULD" if strict else "MUST"
    mode = " (strict: SHOULD counts)" if strict else ""
    if verdict is Verdict.CONFORMANT:
        return f"CONFORMANT: all {_plural(total, 'check')} judged, no {levels} failed{mode}"
    if verdict is Verdict.INCOMPLETE:
        return (
            f"INCOMPLETE: {unjudged} of {_plural(total, 'check')} not judged (ERROR); "
            f"0 {levels} failures among the rest{mode}"
        )
    failed = run.failed(strict=strict)
    blocked = [result for result in failed if result.status is Status.BLOCKED]
    judged = [result for result in failed if result.status is not Status.BLOCKED]
    must = sum(1 for result in judged if result.check.level is Level.MUST)
    text = f"NOT CONFORMANT: {_plural(must, 'MUST failure')}"
    if strict:
        text += f", {_plural(len(judged) - must, 'SHOULD failure')}"
    if blocked:
        text += f", {_plural(len(blocked), 'check')} blocked by them"
    if unjudged:
        text += f"; {unjudged} of {_plural(total, 'check')} not judged (ERROR)"
    return text + mode
