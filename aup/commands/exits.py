"""The exit-code contract of every ``aup`` command (the table in the README).

0  the command did what it was asked and the target behaved.
1  the target misbehaved: a MUST failure, a failed task, a per-object failure, quarantine or escrow in a
   sync, a replayed answer that differs, a uid that changed.
2  the run could not be made or judged: bad options or input files, no connection, refused credentials,
   a target that is not a SCIM endpoint, a conformance run with checks left unjudged.

Every error leaves as one line on stderr (click prints ``Error: ...``).
"""

from __future__ import annotations

import click

OK = 0
TARGET_FAILED = 1
USAGE = 2


class UsageProblem(click.ClickException):
    """Bad input or configuration, no connection, refused credentials, not a SCIM endpoint: exit 2."""

    exit_code = USAGE


class TargetFailed(click.ClickException):
    """The target misbehaved (failed tasks, per-object failures, quarantine): exit 1."""

    exit_code = TARGET_FAILED
