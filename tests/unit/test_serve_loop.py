"""``aup serve``'s channel keeps waitress's loop from spinning while a task runs (aup/serve.py): the channel is
not polled for writing until the task's answer is complete, unless it must be (closing, or over the high
watermark a task waits on). The integration suite proves every answer still arrives (``service`` wakes the loop).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from waitress.adjustments import Adjustments

from aup.serve import DeadlineChannel

ADJ = Adjustments()


def channel(*, running: bool, buffered: int, will_close: bool = False, when_flushed: bool = False) -> DeadlineChannel:
    made = object.__new__(DeadlineChannel)
    made.requests = [object()] if running else []
    made.total_outbufs_len = buffered
    made.will_close = will_close
    made.close_when_flushed = when_flushed
    made.adj = ADJ
    return made


@pytest.mark.parametrize("buffered", [1, ADJ.send_bytes - 1, ADJ.send_bytes, ADJ.outbuf_high_watermark])
def test_a_running_task_s_buffered_answer_is_not_polled_for_writing(buffered: int) -> None:
    assert channel(running=True, buffered=buffered).writable() is False


@pytest.mark.parametrize(
    "state",
    [
        {"running": True, "buffered": ADJ.outbuf_high_watermark + 1},  # the task waits for the loop to flush
        {"running": True, "buffered": 10, "will_close": True},
        {"running": True, "buffered": 0, "when_flushed": True},
        {"running": False, "buffered": 10},  # the answer is complete: send it
    ],
)
def test_the_loop_writes_when_it_must(state: dict[str, object]) -> None:
    assert channel(**state).writable() is True  # type: ignore[arg-type]


def test_an_idle_channel_is_not_writable() -> None:
    assert channel(running=False, buffered=0).writable() is False


def test_a_finished_task_wakes_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    pulled: list[bool] = []
    made = channel(running=True, buffered=10)
    made.server = SimpleNamespace(pull_trigger=lambda: pulled.append(True))
    monkeypatch.setattr("waitress.channel.HTTPChannel.service", lambda self: None)
    made.service()
    assert pulled == [True]
