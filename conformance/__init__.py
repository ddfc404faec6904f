"""Conformance checks runnable against any SCIM 2.0 service provider, graded MUST/SHOULD/MAY.

A check is a small function registered with an id, a level, the requirement it enforces and the
capabilities it needs; the runner gives each one a fresh context (a wiretapped client, a run-id
prefix for its data, cleanup) and turns what happens into a result with evidence.
"""

from conformance.model import Check, Level, Result, Status
from conformance.registry import all_checks, select
from conformance.runner import Run, Target, run

__all__ = ["Check", "Level", "Result", "Run", "Status", "Target", "all_checks", "run", "select"]
