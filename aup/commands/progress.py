"""The progress line of long syncs (count, rate, ETA) on stderr: redrawn in place on a terminal, one line per
report otherwise, so stdout keeps only the results."""

from __future__ import annotations

import sys
from typing import IO

import click

from emulators.core.progress import ProgressCallback, ProgressReport

progress_option = click.option(
    "--progress/--no-progress",
    default=None,
    help="Show count, rate and ETA on stderr during long syncs [default: when stderr is a terminal].",
)


def progress_printer(enabled: bool | None, stream: IO[str] | None = None) -> ProgressCallback | None:
    """A callback that prints progress reports, or None when progress is off (``None``: on for a terminal)."""
    out: IO[str] = stream if stream is not None else sys.stderr
    terminal = out.isatty()
    if not (terminal if enabled is None else enabled):
        return None

    def show(report: ProgressReport) -> None:
        if terminal:  # redraw one line; the final report of a stage keeps it
            click.echo(f"\r{report.line()}\x1b[K", file=out, nl=report.final)
        else:
            click.echo(report.line(), file=out)

    return show
