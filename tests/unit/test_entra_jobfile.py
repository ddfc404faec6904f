"""The Entra job saved between runs: every part of the state round-trips, damage is a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulators.core.errors import ConfigurationError
from emulators.entra.jobfile import JobRecord, job_path_for, load_job, save_job
from emulators.entra.log import Action, LogEntry, Outcome
from emulators.entra.state import Escrow, JobState, Quarantine

ids = st.text(min_size=1, max_size=12)
times = st.floats(min_value=0, max_value=2e9, allow_nan=False)
keys = st.tuples(st.sampled_from(["user", "group"]), ids)
escrows = st.builds(Escrow, st.text(max_size=20), times, st.integers(0, 50), times, st.booleans())
states = st.builds(
    JobState,
    watermark=st.none() | st.dictionaries(keys, st.text(max_size=30), max_size=5),
    escrows=st.dictionaries(keys, escrows, max_size=4),
    quarantine=st.none() | st.builds(Quarantine, st.text(max_size=20), times, st.text(max_size=20)),
    disabled=st.booleans(),
    running=st.booleans(),
    cycle=st.integers(0, 10_000),
    next_cycle_at=st.none() | times,
    unmanaged=st.sets(ids, max_size=5),
    members_sent=st.dictionaries(ids, st.sets(ids, max_size=4), max_size=4),
    deletions_approved=st.booleans(),
)


@given(states)
def test_every_job_state_round_trips_through_json(state: JobState) -> None:
    assert JobState.from_data(json.loads(json.dumps(state.to_data()))) == state


def test_the_job_file_keeps_state_clock_target_and_the_last_30_days_of_log(tmp_path: Path) -> None:
    path = job_path_for(tmp_path / "people.yaml")
    assert path.name == "people.entra-job.json"
    assert load_job(path) == JobRecord()
    now = 2_000_000_000.0
    old = LogEntry(1, now - 31 * 24 * 3600, "user", "u1", None, Action.CREATE, Outcome.SUCCESS)
    recent = LogEntry(9, now - 60, "group", "g1", "s1", Action.UPDATE, Outcome.FAILURE, "Timeout", "slow")
    state = JobState(watermark={("user", "u1"): "x"}, unmanaged={"u2"}, members_sent={"g1": {"u1"}}, cycle=9)
    save_job(path, JobRecord(state, 4800.0, "http://127.0.0.1:1/scim/v2", [old, recent]), now)
    loaded = load_job(path)
    assert loaded == JobRecord(state, 4800.0, "http://127.0.0.1:1/scim/v2", [recent])
    assert not path.with_name(path.name + ".tmp").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read the Entra job file"),
        ('{"idp": "okta", "version": 1}', "is not an Entra job file"),
        ('{"idp": "entra", "version": 99}', "is job file version 99"),
        ('{"idp": "entra", "version": 1, "state": {"watermark": {"nokind": "x"}}}', "damaged"),
        ('{"idp": "entra", "version": 1, "log": [{"cycle": 1}]}', "--reset starts the job afresh"),
    ],
)
def test_a_damaged_job_file_is_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "people.entra-job.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message.replace(".", r"\.")):
        load_job(path)
