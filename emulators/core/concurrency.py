"""A worker pool for an IdP's independent requests (Entra's membership PATCHes, docs/entra-idp.md §3.5).

``threads`` sends them on a real thread pool, for a live target. ``deterministic`` runs them one at a
time in the calling thread, in an order the seed picks among those a pool of ``workers`` allows, so a
test replays or explores interleavings. Either way the results come back in input order and an
exception stays with its item.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from emulators.core.errors import ConfigurationError

T = TypeVar("T")
Mode = Literal["deterministic", "threads"]
MODES: tuple[Mode, ...] = ("deterministic", "threads")


@dataclass(frozen=True)
class Done(Generic[T]):
    """One item's outcome: its value, or the exception it raised."""

    value: T | None = None
    error: Exception | None = None

    def result(self) -> T:
        """The value, or the item's exception raised again."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]  # None only when the thunk returned None


class WorkerPool:
    """Runs batches of independent thunks with up to ``workers`` in flight.

    One pool keeps one random stream, so successive batches of a seeded run differ yet replay alike.
    """

    def __init__(self, workers: int = 1, mode: Mode = "deterministic", seed: int | None = None) -> None:
        if workers < 1:
            raise ConfigurationError(f"a worker pool needs at least 1 worker, not {workers}")
        if mode not in MODES:
            raise ConfigurationError(f"the pool mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.workers = workers
        self.mode = mode
        self.seed = seed
        self._random = random.Random(seed)  # noqa: S311 - an interleaving, not a secret

    def order(self, count: int) -> list[int]:
        """The order a deterministic batch runs its items in.

        As listed for no seed or one worker. Otherwise each step runs one of the first ``workers``
        pending items (those a FIFO pool has in flight), chosen by the seed: a later request may reach
        the server first, but never more than ``workers - 1`` places ahead of where it was listed.
        """
        pending = list(range(count))
        if self.seed is None or self.workers == 1:
            return pending
        chosen = []
        while pending:
            chosen.append(pending.pop(self._random.randrange(min(self.workers, len(pending)))))
        return chosen

    def run(self, thunks: Sequence[Callable[[], T]]) -> list[Done[T]]:
        """Run every thunk; their outcomes in input order."""
        if self.mode == "threads" and self.workers > 1 and len(thunks) > 1:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(thunks))) as executor:
                futures = [executor.submit(thunk) for thunk in thunks]
                return [_outcome(future.result) for future in futures]
        done: dict[int, Done[T]] = {}
        for index in self.order(len(thunks)):
            done[index] = _outcome(thunks[index])
        return [done[index] for index in range(len(thunks))]


def _outcome(thunk: Callable[[], T]) -> Done[T]:
    try:
        return Done(value=thunk())
    except Exception as exc:  # each item's failure is its own, reported with it
        return Done(error=exc)
