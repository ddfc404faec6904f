"""A pytest plugin: the conformance checks as test items of a user's own pytest session.

Enable it with ``-p conformance.pytest_plugin`` (or ``pytest_plugins`` in a conftest) and point it at a
server: ``--conformance-target URL --conformance-token T``, or ``--conformance-app module:factory`` for an
in-process WSGI app (the factory returns the app, or ``(app, token)``). One item per check: FAIL fails the
item, SKIP skips it, ERROR errors it; a WARN passes unless ``--conformance-strict`` makes a SHOULD fail.

Items run one at a time in registry order, so a check's prerequisites (``needs``) run before it. A BLOCKED
item (a prerequisite broke, so it was not sent) is judged as ``aup conformance`` judges it, its message naming
the root cause ("blocked by prerequisite <id> (FAIL)"): it fails when the run counts it as failing (a MUST,
or with ``--conformance-strict`` a SHOULD, blocked by a FAIL or WARN), errors when only an ERROR blocked it
(the server was not judged), and is skipped otherwise (a MAY, or a SHOULD without strict).
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from conformance import select
from conformance.model import Level, Result, Status
from conformance.report.console import failure_details  # one rendering of a failure, shared with the console
from conformance.runner import Runner, TargetUnreachable
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.target import Bearer, Target

_RUNNER = pytest.StashKey[Runner]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aup-conformance", "SCIM conformance checks (aup)")
    group.addoption("--conformance-target", metavar="URL", help="SCIM base URL to check.")
    group.addoption("--conformance-token", metavar="T", help="Bearer token for --conformance-target.")
    group.addoption("--conformance-app", metavar="MODULE:FACTORY", help="In-process WSGI app factory to check.")
    group.addoption("--conformance-suite", action="append", default=[], metavar="LIST", help="Suites (rfc,okta,...).")
    group.addoption("--conformance-include", action="append", default=[], metavar="TAGS", help="Only these tags.")
    group.addoption("--conformance-exclude", action="append", default=[], metavar="TAGS", help="Not these tags.")
    group.addoption("--conformance-strict", action="store_true", help="A failing SHOULD fails its item.")
    group.addoption("--conformance-keep", action="store_true", help="Leave the data checks create.")


def _split(values: list[str]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _target(config: pytest.Config) -> Target | None:
    url = config.getoption("--conformance-target")
    factory = config.getoption("--conformance-app")
    if url and factory:
        raise pytest.UsageError("give --conformance-target or --conformance-app, not both")
    if url:
        token = config.getoption("--conformance-token")
        return Target(url.rstrip("/"), Bearer(token) if token else None)
    if factory:
        module_name, _, attribute = factory.partition(":")
        try:
            made: Any = getattr(importlib.import_module(module_name), attribute or "app")()
        except (ImportError, AttributeError) as exc:
            raise pytest.UsageError(f"--conformance-app {factory}: {exc}") from None
        app, token = made if isinstance(made, tuple) else (made, None)
        base = config.getoption("--conformance-target") or IN_PROCESS_SCIM_URL
        return Target(base, Bearer(token) if token else None, app=app, label=f"{factory} (in process)")
    return None


class ConformanceFailure(Exception):
    def __init__(self, result: Result) -> None:
        super().__init__(result.reason)
        self.result = result


class ConformanceItem(pytest.Item):
    def __init__(self, *, check: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        for tag in sorted(check.tags):
            self.add_marker(pytest.mark.conformance(tag))

    def runtest(self) -> None:
        runner = self.config.stash[_RUNNER]
        result = runner.run_one(self.check)
        self.user_properties.append(("status", result.status.value))
        self.user_properties.append(("level", result.check.level.value))
        strict = self.config.getoption("--conformance-strict")
        if result.status is Status.SKIP:
            pytest.skip(result.reason)
        if result.status is Status.FAIL or (
            strict and result.status is Status.WARN and result.check.level is Level.SHOULD
        ):
            raise ConformanceFailure(result)
        if result.status is Status.ERROR:
            raise RuntimeError(result.reason)
        if result.status is Status.BLOCKED:  # a prerequisite broke: judged as the run judges it
            if result in runner.outcome.failed(strict=strict):
                raise ConformanceFailure(result)
            if result in runner.outcome.unjudged():
                raise RuntimeError(result.reason)
            pytest.skip(result.reason)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ConformanceFailure):
            return "\n".join(failure_details(excinfo.value.result, evidence=3))
        return super().repr_failure(excinfo)  # type: ignore[return-value]

    def reportinfo(self) -> tuple[str, int, str]:
        return self.check.ref, 0, f"{self.check.id} [{self.check.level.value}]"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance(tag): a SCIM conformance check carrying this tag")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    target = _target(config)
    if target is None:
        return
    try:
        checks = select(
            _split(config.getoption("--conformance-suite")) or None,
            include=_split(config.getoption("--conformance-include")),
            exclude=_split(config.getoption("--conformance-exclude")),
        )
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    runner = Runner(target, keep=config.getoption("--conformance-keep"))
    try:
        runner.open()
    except TargetUnreachable as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_RUNNER] = runner
    items.extend(
        # nodeid "aup-conformance/<suite>::<check id>": readable in reports and selectable with -k
        ConformanceItem.from_parent(
            session, name=item.id, nodeid=f"aup-conformance/{item.suite}::{item.id}", check=item
        )
        for item in checks
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    runner = config.stash.get(_RUNNER, None)
    if runner is not None:
        runner.close()
