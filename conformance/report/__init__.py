"""Reports of a run: console text, versioned JSON (with its JSON Schema), JUnit XML and a self-contained HTML page."""

from conformance.report.console import render_console, render_progress, verdict_line
from conformance.report.html import render_html
from conformance.report.jsonreport import REPORT_VERSION, load_schema, to_json
from conformance.report.junit import render_junit

__all__ = [
    "REPORT_VERSION",
    "load_schema",
    "render_console",
    "render_html",
    "render_junit",
    "render_progress",
    "to_json",
    "verdict_line",
]
