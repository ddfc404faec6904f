"""A self-contained HTML report: no scripts, no external assets; details fold open per check."""

from __future__ import annotations

from html import escape

from conformance.model import SUITES, Result, Status
from conformance.report.console import summary_line, verdict_line
from conformance.report.evidence import exchange_text
from conformance.runner import Run

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d1d1f;max-width:1200px}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}td,th{padding:.3rem .5rem;border-bottom:1px solid #e5e5e5;text-align:left;
vertical-align:top}th{background:#f5f5f7}
.PASS{color:#1a7f37}.FAIL{color:#cf222e;font-weight:600}.WARN{color:#9a6700;font-weight:600}.SKIP{color:#6e7781}
.ERROR{color:#8250df;font-weight:600}code,pre{font:12px/1.4 ui-monospace,monospace}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
details summary{cursor:pointer}.summary{font-weight:600;margin:1rem 0}
.verdict{font-size:1.1rem;font-weight:700;padding:.6rem .8rem;border-left:6px solid}
.verdict.CONFORMANT{color:#1a7f37;background:#dafbe1}.verdict.NOT-CONFORMANT{color:#cf222e;background:#ffebe9}
.verdict.INCOMPLETE{color:#8250df;background:#fbefff}
"""


def _row(result: Result) -> str:
    status = result.status.value
    cells = [
        f'<td class="{status}">{status}</td>',
        f"<td>{escape(result.check.level.value)}</td>",
        f"<td><code>{escape(result.check.id)}</code></td>",
    ]
    title = escape(result.check.title)
    if result.status in (Status.PASS,) and not result.notes:
        cells.append(f"<td>{title}<br><small>{escape(result.check.ref)}</small></td>")
        return "<tr>" + "".join(cells) + "</tr>"
    parts = [f"<p><b>Requirement:</b> {escape(result.check.ref)}</p>"]
    if result.reason:
        parts.append(f"<p><b>Problem:</b> {escape(result.reason)}</p>")
    if result.expected:
        parts.append(f"<p><b>Expected:</b> <code>{escape(result.expected)}</code></p>")
    if result.actual:
        parts.append(f"<p><b>Actual:</b> <code>{escape(result.actual)}</code></p>")
    parts += [f"<p><b>Note:</b> {escape(note)}</p>" for note in result.notes]
    if result.evidence:
        parts.append(f"<p><b>Evidence</b> ({len(result.evidence)} exchanges, secrets redacted)</p>")
        parts += [f"<pre>{escape(exchange_text(exchange))}</pre>" for exchange in result.evidence]
    cells.append(f"<td><details><summary>{title}</summary>{''.join(parts)}</details></td>")
    return "<tr>" + "".join(cells) + "</tr>"


def render_html(run: Run, *, strict: bool = False) -> str:
    sections = []
    for suite in (*SUITES, "custom"):
        results = [result for result in run.results if result.check.suite == suite]
        if not results:
            continue
        rows = "\n".join(_row(result) for result in results)
        sections.append(
            f"<h2>{escape(suite)}</h2><table><thead><tr><th>Status</th><th>Level</th><th>Check</th>"
            f"<th>Requirement</th></tr></thead><tbody>\n{rows}\n</tbody></table>"
        )
    notes = "".join(f"<li>{escape(note)}</li>" for note in run.notes)
    verdict = run.verdict(strict=strict).value
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>aup conformance {verdict}: {escape(run.target)}</title><style>{STYLE}</style></head><body>"
        f"<h1>aup conformance report</h1>"
        f'<p class="verdict {verdict.replace(" ", "-")}">{escape(verdict_line(run, strict=strict))}</p>'
        f"<p>Target <code>{escape(run.target)}</code>, run "
        f"<code>{escape(run.run_id)}</code>, started {escape(run.started.isoformat(timespec='seconds'))}.</p>"
        f'<p class="summary">{escape(summary_line(run, strict=strict))}</p>'
        + (f"<ul>{notes}</ul>" if notes else "")
        + "\n".join(sections)
        + "</body></html>\n"
    )
