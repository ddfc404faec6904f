"""Provisioning tasks, kept like Okta's Tasks view: failures are listed and can be retried.

A task names a flow and its arguments (plain JSON values), so it can be saved, reloaded in another
process and run again. Nothing the IdP meant to send is dropped: a failed task stays until retried.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from emulators.core.clock import Clock
from emulators.core.errors import ConfigurationError

TASKS_VERSION = 1


class TaskError(Exception):
    """A flow that cannot go on for a reason Okta reports in the task (empty create response, ...)."""


class TaskStatus(StrEnum):
    DONE = "DONE"
    FAILED = "FAILED"


@dataclass
class Task:
    id: int
    action: str
    args: tuple[Any, ...]
    title: str
    status: TaskStatus = TaskStatus.DONE
    error: str = ""
    attempts: int = 0
    rate_limit_waits: list[float] = field(default_factory=list)
    updated: float = 0.0

    def to_data(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "args": list(self.args),
            "title": self.title,
            "status": self.status.value,
            "error": self.error,
            "attempts": self.attempts,
            "rate_limit_waits": self.rate_limit_waits,
            "updated": self.updated,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Task:
        return cls(
            id=int(data["id"]),
            action=str(data["action"]),
            args=tuple(data.get("args", ())),
            title=str(data.get("title", data["action"])),
            status=TaskStatus(data.get("status", TaskStatus.FAILED.value)),
            error=str(data.get("error", "")),
            attempts=int(data.get("attempts", 0)),
            rate_limit_waits=[float(w) for w in data.get("rate_limit_waits", ())],
            updated=float(data.get("updated", 0.0)),
        )


class TaskLog:
    """Every task run, in order; failed ones are what an admin sees in Tasks and may retry."""

    def __init__(self, tasks: list[Task] | None = None, app_groups: dict[str, str] | None = None) -> None:
        self.tasks: list[Task] = list(tasks or [])
        # The app's groups as the last import with group import on read them (SCIM id -> displayName): what Okta
        # offers to Link Group (docs/okta-idp.md §7). Kept with the tasks, so a later run can link.
        self.app_groups: dict[str, str] = dict(app_groups or {})
        # The highest id so far, kept rather than recomputed: a sync of 10k users adds 10k tasks.
        self._last_id = max((t.id for t in self.tasks), default=0)

    def add(self, action: str, args: tuple[Any, ...], title: str) -> Task:
        self._last_id += 1
        task = Task(id=self._last_id, action=action, args=args, title=title)
        self.tasks.append(task)
        return task

    def get(self, task_id: int) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(f"no task with id {task_id}")

    def failed(self) -> list[Task]:
        return [task for task in self.tasks if task.status is TaskStatus.FAILED]

    def to_data(self) -> dict[str, Any]:
        return {
            "version": TASKS_VERSION,
            "tasks": [task.to_data() for task in self.tasks],
            "app_groups": dict(self.app_groups),
        }

    @classmethod
    def from_data(cls, data: Any) -> TaskLog:
        if not isinstance(data, dict) or data.get("version") != TASKS_VERSION:
            raise ConfigurationError(f"not a version {TASKS_VERSION} task file")
        groups = data.get("app_groups") or {}
        if not isinstance(groups, dict):
            raise ConfigurationError("app_groups in a task file is a map of SCIM id to group name")
        return cls(
            [Task.from_data(item) for item in data.get("tasks", ())], {str(k): str(v) for k, v in groups.items()}
        )

    def save(self, path: str | Path) -> None:
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_data(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path) -> TaskLog:
        """The task log saved at ``path``, or an empty one when the file does not exist."""
        path = Path(path)
        if not path.exists():
            return cls()
        try:
            return cls.from_data(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError) as exc:
            raise ConfigurationError(f"cannot read task file {path}: {exc}") from None


class TaskRunner:
    """Runs tasks through named handlers; the exception types in ``failures`` fail the task, others propagate."""

    def __init__(
        self,
        log: TaskLog,
        handlers: Mapping[str, Callable[..., None]],
        clock: Clock,
        failures: tuple[type[BaseException], ...],
    ) -> None:
        self.log = log
        self.handlers = handlers
        self.clock = clock
        self.failures = failures
        self._current: Task | None = None

    def run(self, action: str, title: str, *args: Any) -> Task:
        task = self.log.add(action, args, title)
        self.execute(task)
        return task

    def execute(self, task: Task) -> None:
        """Run ``task`` from its start (a first run or a retry) and record the outcome."""
        self._current = task
        task.attempts += 1
        task.rate_limit_waits = []
        try:
            self.handlers[task.action](*task.args)
        except self.failures as exc:
            task.status, task.error = TaskStatus.FAILED, str(exc)
        else:
            task.status, task.error = TaskStatus.DONE, ""
        finally:
            task.updated = self.clock.now()
            self._current = None

    def record_wait(self, seconds: float, attempt: int) -> None:
        """Note a rate-limit wait on the running task (Okta shows it in the task while it waits)."""
        if self._current is not None:
            self._current.rate_limit_waits.append(seconds)
