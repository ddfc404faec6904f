"""The worker pool (emulators/core/concurrency.py): input order kept, per-item errors, seeded interleavings
that stay within what a pool of ``workers`` allows, and real threads."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulators.core.concurrency import WorkerPool
from emulators.core.errors import ConfigurationError


def recording(count: int) -> tuple[list[int], list[Callable[[], int]]]:
    ran: list[int] = []

    def item(index: int) -> Callable[[], int]:
        def run() -> int:
            ran.append(index)
            return index * 10

        return run

    return ran, [item(index) for index in range(count)]


def test_without_a_seed_a_deterministic_batch_runs_as_listed() -> None:
    ran, thunks = recording(6)
    outcomes = WorkerPool(4).run(thunks)
    assert ran == list(range(6))
    assert [done.result() for done in outcomes] == [0, 10, 20, 30, 40, 50]


def test_one_worker_runs_as_listed_whatever_the_seed() -> None:
    assert WorkerPool(1, seed=3).order(8) == list(range(8))


@given(workers=st.integers(1, 6), count=st.integers(0, 30), seed=st.integers(0, 2**32))
def test_a_seeded_order_is_a_permutation_within_the_pools_window(workers: int, count: int, seed: int) -> None:
    order = WorkerPool(workers, seed=seed).order(count)
    assert sorted(order) == list(range(count))
    # an item runs only once every item listed ``workers`` places before it has run (a FIFO pool's window)
    assert all(position >= index - (workers - 1) for position, index in enumerate(order))
    assert WorkerPool(workers, seed=seed).order(count) == order  # reproducible


def test_seeded_batches_run_out_of_order_but_return_in_input_order() -> None:
    ran, thunks = recording(12)
    outcomes = WorkerPool(5, seed=7).run(thunks)
    assert ran != list(range(12))
    assert [done.result() for done in outcomes] == [index * 10 for index in range(12)]


@pytest.mark.parametrize("mode", ["deterministic", "threads"])
def test_an_exception_stays_with_its_item_and_the_others_still_run(mode: str) -> None:
    def boom() -> int:
        raise ValueError("refused")

    outcomes = WorkerPool(3, mode).run([lambda: 1, boom, lambda: 3])  # type: ignore[arg-type]
    assert [done.value for done in outcomes] == [1, None, 3]
    assert isinstance(outcomes[1].error, ValueError)
    with pytest.raises(ValueError, match="refused"):
        outcomes[1].result()


def test_threads_run_the_items_at_the_same_time_and_keep_input_order() -> None:
    barrier = threading.Barrier(4, timeout=5)  # only passes when four items are in flight together

    def item(index: int) -> Callable[[], int]:
        def run() -> int:
            barrier.wait()
            return index

        return run

    outcomes = WorkerPool(4, "threads").run([item(index) for index in range(8)])
    assert [done.result() for done in outcomes] == list(range(8))


def test_a_pool_refuses_no_workers_and_unknown_modes() -> None:
    with pytest.raises(ConfigurationError, match="at least 1 worker"):
        WorkerPool(0)
    with pytest.raises(ConfigurationError, match="deterministic, threads"):
        WorkerPool(2, "async")  # type: ignore[arg-type]
