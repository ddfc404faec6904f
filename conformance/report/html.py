"""A self-contained HTML report that leads with what broke: the verdict and counts, the root causes, then every
check, failures first, each with a link anchor (``#check-<id>``), filters and pretty-printed evidence.

One offline file: the style and the small filter script are inline, nothing is fetched. With scripts off, every
check is still there (the script only hides what the filters exclude, and opens the check a link names).
"""

from __future__ import annotations

import json
from collections import Counter
from html import escape
from typing import Any

from conformance.model import Level, Result, Status
from conformance.references import spans
from conformance.report.console import summary_line, verdict_line
from conformance.report.evidence import SHOWN_HEADERS
from conformance.runner import Cause, Run
from scimcore.wire import Exchange

ORDER = (Status.FAIL, Status.BLOCKED, Status.WARN, Status.ERROR, Status.SKIP, Status.PASS)

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1d1d1f;max-width:1200px}
h1{font-size:1.3rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.6rem 0 .6rem}
table{border-collapse:collapse}td,th{padding:.25rem .6rem;border-bottom:1px solid #e5e5e5;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f5f5f7}
.PASS{color:#1a7f37}.FAIL{color:#cf222e;font-weight:600}.WARN{color:#9a6700;font-weight:600}.SKIP{color:#6e7781}
.BLOCKED{color:#bc4c00;font-weight:600}.ERROR{color:#8250df;font-weight:600}
code,pre{font:12px/1.4 ui-monospace,monospace}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-word;margin:.3rem 0}
.verdict{font-size:1.15rem;font-weight:700;padding:.6rem .8rem;border-left:6px solid;margin:.6rem 0}
.verdict.CONFORMANT{color:#1a7f37;background:#dafbe1}.verdict.NOT-CONFORMANT{color:#cf222e;background:#ffebe9}
.verdict.INCOMPLETE{color:#8250df;background:#fbefff}
.counts{display:flex;gap:2rem;flex-wrap:wrap;align-items:flex-start}
.cause{border-left:4px solid #cf222e;padding:.3rem .7rem;margin:.5rem 0;background:#fff8f7}
.check{border:1px solid #e5e5e5;border-radius:6px;margin:.35rem 0;padding:.25rem .6rem}
.check>summary{cursor:pointer;list-style-position:outside}
.check .id{font:600 12px ui-monospace,monospace}.check .lvl{color:#57606a;font-size:12px;margin:0 .4rem}
.check:target{outline:3px solid #0969da}
.exchange{margin:.3rem 0 .3rem 1rem}.exchange>summary{cursor:pointer;font:12px ui-monospace,monospace}
.exchange.failing{border-left:4px solid #cf222e;padding-left:.5rem}
.exchange.failing>summary::after{content:"  \\2190 where it failed";color:#cf222e;font-weight:600}
.filters{position:sticky;top:0;background:#fff;padding:.5rem 0;border-bottom:1px solid #e5e5e5;z-index:1}
.filters label{margin-right:.6rem;white-space:nowrap}.filters select,.filters input{margin-left:.2rem}
#shown{color:#57606a;margin-left:.6rem}
"""

# Filters hide checks by status, suite, level, tag and text; a #check-<id> link opens and shows its check.
SCRIPT = """
(function () {
  var checks = Array.prototype.slice.call(document.querySelectorAll('.check'));
  var form = document.getElementById('filters');
  function value(name) { var el = form.elements[name]; return el ? el.value : ''; }
  function apply() {
    var statuses = {};
    Array.prototype.forEach.call(form.querySelectorAll('input[name=status]'), function (box) {
      statuses[box.value] = box.checked;
    });
    var suite = value('suite'), level = value('level'), tag = value('tag');
    var text = value('text').trim().toLowerCase();
    var shown = 0;
    checks.forEach(function (check) {
      var d = check.dataset;
      var ok = statuses[d.status] !== false && (!suite || d.suite === suite) && (!level || d.level === level) &&
        (!tag || (' ' + d.tags + ' ').indexOf(' ' + tag + ' ') >= 0) &&
        (!text || d.text.indexOf(text) >= 0);
      check.hidden = !ok;
      if (ok) { shown += 1; }
    });
    Array.prototype.forEach.call(document.querySelectorAll('.group'), function (group) {
      group.hidden = !group.querySelector('.check:not([hidden])');
    });
    document.getElementById('shown').textContent = shown + ' of ' + checks.length + ' checks shown';
  }
  function reveal() {
    var id = decodeURIComponent(location.hash.slice(1));
    var check = id && document.getElementById(id);
    if (!check || !check.classList.contains('check')) { return; }
    check.hidden = false;
    check.parentElement.hidden = false;
    check.open = true;
    check.scrollIntoView();
  }
  form.addEventListener('input', apply);
  form.addEventListener('change', apply);
  form.addEventListener('submit', function (event) { event.preventDefault(); });
  window.addEventListener('hashchange', reveal);
  apply();
  reveal();
})();
"""


def anchor(check_id: str) -> str:
    return f"check-{check_id}"


def _link(check_id: str) -> str:
    return f'<a href="#{escape(anchor(check_id))}"><code>{escape(check_id)}</code></a>'


def _ref(ref: str) -> str:
    """The requirement with each RFC section and URL linked (the docs pages are named, relative to the project)."""
    out, position = [], 0
    for start, end, href in spans(ref):
        if start < position:
            continue
        text = ref[start:end]
        out.append(escape(ref[position:start]))
        if href.startswith("http"):
            out.append(f'<a href="{escape(href)}">{escape(text)}</a>')
        else:
            out.append(f"<code>{escape(text)}</code>")
        position = end
    out.append(escape(ref[position:]))
    return "".join(out)


def _body(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, str):
        try:
            parsed: Any = json.loads(body)
        except ValueError:
            return body
        return json.dumps(parsed, indent=2, ensure_ascii=False)
    return json.dumps(body, indent=2, ensure_ascii=False)


def _failing_exchange(result: Result) -> int | None:
    """Which exchange shows the failure: the one whose status and body the failure's ``actual`` names, else the
    last (the check stops at the first broken expectation)."""
    if result.status not in (Status.FAIL, Status.WARN) or not result.evidence:
        return None
    actual = result.actual
    for index in range(len(result.evidence) - 1, -1, -1):
        exchange = result.evidence[index]
        if actual.startswith(f"{exchange.status} "):
            return index
    return len(result.evidence) - 1


def _exchange(exchange: Exchange, *, failing: bool) -> str:
    request = [f"{exchange.method} {exchange.url}"]
    request += [f"{name}: {value}" for name, value in exchange.request_headers if name.lower() in SHOWN_HEADERS]
    response = [f"{exchange.status}"]
    response += [f"{name}: {value}" for name, value in exchange.response_headers if name.lower() in SHOWN_HEADERS]
    parts = [f"<pre>{escape(chr(10).join(request))}</pre>"]
    if exchange.request_body is not None:
        parts.append(f"<pre>{escape(_body(exchange.request_body))}</pre>")
    parts.append(f"<pre>{escape(chr(10).join(response))}</pre>")
    if exchange.response_body is not None:
        parts.append(f"<pre>{escape(_body(exchange.response_body))}</pre>")
    mark = " failing" if failing else ""
    opened = " open" if failing else ""
    summary = escape(f"{exchange.method} {exchange.url} \u2192 {exchange.status}")
    return f'<details class="exchange{mark}"{opened}><summary>{summary}</summary>{"".join(parts)}</details>'


def _check(result: Result, *, opened: bool) -> str:
    item = result.check
    status = result.status.value
    text = " ".join((item.id, item.title, result.reason)).lower()
    data = (
        f'data-status="{status}" data-suite="{escape(item.suite)}" data-level="{item.level.value}" '
        f'data-tags="{escape(" ".join(sorted(item.tags)))}" data-text="{escape(text)}"'
    )
    parts = [f"<p><b>Requirement:</b> {_ref(item.ref)}</p>"]
    if result.reason:
        parts.append(f"<p><b>{'Why' if result.status is Status.SKIP else 'Problem'}:</b> {escape(result.reason)}</p>")
    if result.blocked_by:
        parts.append("<p><b>Blocked by:</b> " + ", ".join(_link(need) for need in result.blocked_by) + "</p>")
    if result.expected:
        parts.append(f"<p><b>Expected:</b> <code>{escape(result.expected)}</code></p>")
    if result.actual:
        parts.append(f"<p><b>Actual:</b> <code>{escape(result.actual)}</code></p>")
    if item.hint and result.status in (Status.FAIL, Status.WARN):
        parts.append(f"<p><b>Fix:</b> {escape(item.hint)}</p>")
    parts += [f"<p><b>Note:</b> {escape(note)}</p>" for note in result.notes]
    tags = ", ".join(sorted(item.tags))
    parts.append(f"<p><small>Suite {escape(item.suite)}; tags {escape(tags)}</small></p>")
    if result.evidence:
        failing = _failing_exchange(result)
        parts.append(f"<p><b>Evidence</b> ({len(result.evidence)} exchanges, secrets redacted)</p>")
        parts += [_exchange(exchange, failing=index == failing) for index, exchange in enumerate(result.evidence)]
    return (
        f'<details class="check" id="{escape(anchor(item.id))}" {data}{" open" if opened else ""}>'
        f'<summary><span class="{status}">{status}</span><span class="lvl">{item.level.value}</span>'
        f'<span class="id">{escape(item.id)}</span> {escape(item.title)}</summary>{"".join(parts)}</details>'
    )


def _counts(run: Run) -> str:
    shown = [status for status in ORDER if any(result.status is status for result in run.results)]
    head = "".join(f'<th class="{status.value}">{status.value}</th>' for status in shown)

    def table(title: str, keys: list[str], key_of: Any) -> str:
        rows = []
        for key in keys:
            counts = Counter(result.status for result in run.results if key_of(result) == key)
            cells = "".join(f"<td>{counts.get(status, 0) or ''}</td>" for status in shown)
            rows.append(f"<tr><td>{escape(key)}</td>{cells}<td>{sum(counts.values())}</td></tr>")
        return (
            f"<table><thead><tr><th>{title}</th>{head}<th>total</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )

    levels = [level.value for level in Level if any(result.check.level is level for result in run.results)]
    by_suite = table("suite", run.suites(), lambda result: result.check.suite)
    by_level = table("level", levels, lambda result: result.check.level.value)
    return f'<div class="counts" id="counts">{by_suite}{by_level}</div>'


def _cause(cause: Cause) -> str:
    root = cause.root
    parts = [
        f'<div class="cause"><b class="{root.status.value}">{cause.level.value}</b> {_link(root.check.id)} '
        f"({root.status.value}): {escape(root.reason)}"
    ]
    if cause.explains:
        parts.append(
            f"<br>explains {len(cause.explains)} blocked check(s): "
            + ", ".join(_link(result.check.id) for result in cause.explains)
        )
    if cause.level is not root.check.level:
        parts.append(f"<br>graded {cause.level.value}: it blocks {cause.level.value} checks")
    if cause.hint:
        parts.append(f"<br><b>Fix:</b> {escape(cause.hint)}")
    return "".join(parts) + "</div>"


def _filters(run: Run) -> str:
    statuses = "".join(
        f'<label class="{status.value}"><input type="checkbox" name="status" value="{status.value}" checked> '
        f"{status.value}</label>"
        for status in ORDER
    )

    def select(name: str, values: list[str]) -> str:
        options = "".join(f'<option value="{escape(value)}">{escape(value)}</option>' for value in values)
        return f'<label>{name} <select name="{name}"><option value="">all</option>{options}</select></label>'

    tags = sorted({tag for result in run.results for tag in result.check.tags})
    return (
        '<form class="filters" id="filters">'
        + statuses
        + select("suite", run.suites())
        + select("level", [level.value for level in Level])
        + select("tag", tags)
        + '<label>text <input type="search" name="text" placeholder="id, title, reason"></label>'
        + '<span id="shown"></span></form>'
    )


def render_html(run: Run, *, strict: bool = False) -> str:
    verdict = run.verdict(strict=strict).value
    failed = set(map(id, run.failed(strict=strict)))
    broken = [result for result in run.results if result.status in (Status.FAIL, Status.WARN, Status.BLOCKED)]
    broken += [result for result in run.results if result.status is Status.ERROR]
    broken.sort(key=lambda result: (id(result) not in failed, ORDER.index(result.status)))
    rest = [result for result in run.results if result not in broken]
    sections = []
    if broken:
        cards = "".join(_check(result, opened=id(result) in failed) for result in broken)
        sections.append(f'<section class="group" id="broken"><h2>What broke ({len(broken)})</h2>{cards}</section>')
    for suite in run.suites():
        results = [result for result in rest if result.check.suite == suite]
        if results:
            cards = "".join(_check(result, opened=False) for result in results)
            sections.append(f'<section class="group"><h2>{escape(suite)} ({len(results)})</h2>{cards}</section>')
    causes = run.causes()
    cause_html = (
        f'<h2>Causes ({len(causes)})</h2><div id="causes">{"".join(_cause(cause) for cause in causes)}</div>'
        if causes
        else ""
    )
    notes = "".join(f"<li>{escape(note)}</li>" for note in run.notes)
    started = run.started.isoformat(timespec="seconds")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>aup conformance {verdict}: {escape(run.target)}</title><style>{STYLE}</style></head><body>"
        "<h1>aup conformance report</h1>"
        f'<p class="verdict {verdict.replace(" ", "-")}" id="verdict">{escape(verdict_line(run, strict=strict))}</p>'
        f'<p class="summary">{escape(summary_line(run, strict=strict))}. Target <code>{escape(run.target)}</code>, '
        f"run <code>{escape(run.run_id)}</code>, started {escape(started)}.</p>"
        + _counts(run)
        + cause_html
        + (f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "")
        + _filters(run)
        + "".join(sections)
        + f"<script>{SCRIPT}</script></body></html>\n"
    )
