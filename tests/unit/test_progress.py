"""Progress of long syncs: the meter's reports, the engines' hooks, and the CLI's line on stderr."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from aup.commands.entra import entra_sync
from aup.commands.progress import progress_printer
from aup.commands.sync import sync
from emulators.core.directory import save_directory
from emulators.core.progress import ProgressMeter, ProgressReport
from scimcore import target as target_module
from scimcore.client import make_http
from tests.unit.entra_setup import EntraFake, make_entra, tut_directory
from tests.unit.okta_setup import TEST_USER_ID, make_okta, s20_directory
from tests.unit.scim_fake import BASE_URL
from tests.unit.test_cli_commands import base, fake  # noqa: F401 - the fixture routes the CLI to the fake


class Ticks:
    """A timer the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_meter_reports_at_most_every_interval_then_once_at_the_end() -> None:
    ticks, seen = Ticks(), []
    meter = ProgressMeter("users", 10, seen.append, interval=1.0, timer=ticks)
    for _ in range(6):
        ticks.now += 0.25
        meter.step()
    meter.finish()
    assert [(r.done, r.final) for r in seen] == [(4, False), (6, True)]
    first = seen[0]
    assert first.rate == 4.0
    assert first.eta == 1.5
    assert first.line() == "users 4/10 (40%) 4.0/s ETA 2s"
    assert seen[-1].line().endswith(" done")


def test_report_without_a_rate_yet_has_no_eta() -> None:
    report = ProgressReport("groups", 0, 500, 0.0)
    assert report.eta is None
    assert report.line() == "groups 0/500 (0%) 0.0/s ETA ?"
    assert ProgressReport("groups", 3, 3, 2.0).eta == 0.0
    assert "1h01m" in ProgressReport("users", 1, 3662, 1.0).line()


def test_okta_sync_all_counts_every_object_it_evaluates() -> None:
    directory = s20_directory()
    directory.app.users = list(directory.users)
    seen: list[ProgressReport] = []
    emulator, _ = make_okta(directory)
    emulator.progress = seen.append
    emulator.sync_all()
    assert seen[-1].final
    assert (seen[-1].done, seen[-1].total) == (2, 2)


def test_entra_cycle_reports_each_stage() -> None:
    seen: list[ProgressReport] = []
    emulator, _ = make_entra(progress=seen.append)
    emulator.run_cycles(1)
    finals = [(r.stage, r.done, r.total) for r in seen if r.final]
    assert [stage for stage, _, _ in finals] == ["users", "managers", "groups", "memberships"]
    assert finals[0][1:] == (2, 2)


def test_printer_is_off_by_default_unless_stderr_is_a_terminal() -> None:
    assert progress_printer(None, io.StringIO()) is None
    out = io.StringIO()
    show = progress_printer(True, out)
    assert show is not None
    show(ProgressReport("users", 1, 2, 1.0))
    assert out.getvalue() == "users 1/2 (50%) 1.0/s ETA 1s\n"


def test_sync_progress_goes_to_stderr_only(fake: object, tmp_path: Path) -> None:  # noqa: F811
    people = tmp_path / "people.yaml"
    directory = s20_directory()
    directory.app.users.append(TEST_USER_ID)
    save_directory(directory, people)
    result = CliRunner().invoke(sync, [*base(people), "--progress"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout == "2 task(s): 2 done, 0 failed\ndone: 1 user(s) provisioned\n"
    assert result.stderr.splitlines()[-1].startswith("objects 1/1 (100%)")
    quiet = CliRunner().invoke(sync, [*base(people), "--no-progress"], catch_exceptions=False)
    assert quiet.stderr == ""


def test_entra_sync_progress_reports_every_stage_on_stderr(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    server = EntraFake()

    def fake_http(target: str, auth: httpx.Auth | None, **kwargs: Any) -> httpx.Client:
        assert target == BASE_URL
        kwargs.pop("verify", None)
        kwargs.pop("base_url", None)
        return make_http(server.transport, auth, base_url=BASE_URL, **kwargs)

    monkeypatch.setattr(target_module, "make_http", fake_http)
    people = tmp_path / "people.yaml"
    save_directory(tut_directory().core, people)
    args = ["--directory", str(people), "--target", BASE_URL, "--token", "s3cret", "--scope", "all"]
    result = CliRunner().invoke(entra_sync, [*args, "--progress"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    stages = [line.split(" ")[0] for line in result.stderr.splitlines()]
    assert stages == ["users", "managers", "groups", "memberships"]
    assert "cycle 1 (initial)" in result.stdout
