"""``aup load``'s pure parts: the tenants file, the plan's checks, request names, percentiles, the report and its
exit code. (Locust itself runs only in the CLI tests, tests/integration/test_load_cli.py: importing it patches
the process with gevent.)"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aup.commands.exits import OK, TARGET_FAILED, USAGE
from aup.load import report
from aup.load.driver import percentiles, prefixed_directory, request_route
from aup.load.plan import SCENARIOS, STEPS, LoadPlan, TenantSpec, check_plan, idp_for, read_tenants
from emulators.registry import idps


class RateLimited(Exception):
    """Named as aup/load/engine.py names the 429s it waited out (that module imports Locust)."""


def _plan(**changes: Any) -> LoadPlan:
    tenants = (TenantSpec("http://127.0.0.1:1/scim/a/v2", "t", "okta"),)
    return LoadPlan(**{"tenants": tenants, **changes})


def test_every_scenario_names_only_known_steps_with_positive_weights() -> None:
    for scenario in SCENARIOS.values():
        assert set(scenario.weights) <= set(STEPS)
        assert all(weight > 0 for weight in scenario.weights.values())


def test_a_plan_survives_the_trip_to_a_worker() -> None:
    plan = _plan(scenario="churn", users=12)
    assert LoadPlan.from_data(json.loads(json.dumps(plan.to_data()))) == plan


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tenants": ()}, "no tenants"),
        ({"scenario": "nope"}, "unknown scenario"),
        ({"users": 1}, "at least 2 users"),
        ({"tenants": (TenantSpec("http://h/scim/v2", "t", "pingone"),)}, "unknown IdP 'pingone'"),
        ({"tenants": (TenantSpec("ftp://h/scim/v2", "t", "okta"),)}, "is not an http(s) URL"),
    ],
)
def test_a_plan_that_cannot_run_says_why(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_plan(_plan(**changes))


def test_mixed_alternates_the_registered_idps() -> None:
    names = idps().names()
    assert [idp_for(i, "mixed") for i in range(2 * len(names))] == names + names
    assert idp_for(3, "entra") == "entra"


def test_a_tenants_file_in_yaml_and_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "t.yaml"
    yaml_file.write_text(
        "tenants:\n"
        "  - {url: 'http://h/scim/a/v2', token: A, name: a}\n"
        "  - {url: 'http://h/scim/b/v2', token: B, idp: okta}\n",
        encoding="utf-8",
    )
    tenants = read_tenants(yaml_file, "entra")
    assert tenants == [
        TenantSpec("http://h/scim/a/v2", "A", "entra", "a"),
        TenantSpec("http://h/scim/b/v2", "B", "okta", ""),
    ]
    json_file = tmp_path / "t.json"
    json_file.write_text(json.dumps({"tenants": [{"url": "http://h/v2", "token": "T"}]}), encoding="utf-8")
    assert read_tenants(json_file, "mixed") == [TenantSpec("http://h/v2", "T", "okta")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tenants: []\n", "non-empty list"),
        ("- a\n", "non-empty list"),
        ("tenants:\n  - {url: 'http://h'}\n", "tenant 1 needs 'url' and 'token'"),
        ("tenants:\n  - {url: 'http://h', token: t, secret: x}\n", "unknown keys \\['secret'\\]"),
        ("tenants: [\n", "cannot read tenants file"),
    ],
)
def test_a_bad_tenants_file_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        read_tenants(path, "okta")


@pytest.mark.parametrize(
    ("method", "url", "route"),
    [
        ("GET", "http://h/scim/a/v2/Users?filter=userName+eq+%22x%22", "/Users?filter"),
        ("GET", "http://h/scim/a/v2/Users?startIndex=1&count=100", "/Users?list"),
        ("PATCH", "http://h/scim/a/v2/Groups/0f8a", "/Groups/{id}"),
        ("POST", "http://h/scim/a/v2/Users", "/Users"),
        ("GET", "http://h/other/Users/1", "/other/{id}"),
    ],
)
def test_requests_are_named_by_route(method: str, url: str, route: str) -> None:
    assert request_route("/scim/a/v2", httpx.Request(method, url)) == route


IDS = st.text(min_size=1, max_size=40).filter(lambda rid: rid not in (".", ".."))  # dot segments are not ids


@given(IDS, st.sampled_from(["Users", "Groups"]), st.sampled_from(["GET", "PUT", "PATCH"]))
def test_an_id_never_reaches_a_request_name(rid: str, kind: str, method: str) -> None:
    """Any id collapses to ``{id}``: the figures have one row per route, not one per resource."""
    url = f"http://h/scim/t/v2/{kind}/{quote(rid, safe='')}"
    assert request_route("/scim/t/v2", httpx.Request(method, url)) == f"/{kind}/{{id}}"


def test_percentiles_of_a_known_sample() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentiles(values) == {"p50_ms": 50.5, "p95_ms": 95.05, "p99_ms": 99.01}
    assert percentiles([]) == {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    assert percentiles([3.0]) == {"p50_ms": 3.0, "p95_ms": 3.0, "p99_ms": 3.0}


def test_a_tenants_directory_carries_its_prefix_everywhere() -> None:
    people = prefixed_directory(20, 3, 1, "load-x-t0")
    assert all(user.login.startswith("load-x-t0-") for user in people.users.values())
    assert all(
        str(user.profile.get("manager", "load-x-t0-")).startswith("load-x-t0-") for user in people.users.values()
    )
    assert all(group.name.startswith("load-x-t0 ") for group in people.groups.values())


def _verdict(index: int, **fields: Any) -> dict[str, Any]:
    return {"index": index, "tenant": f"t{index}", "idp": "okta", "users": 3, "groups": 1, "divergences": 0, **fields}


@pytest.mark.parametrize(
    ("started", "claimed", "verdicts", "code"),
    [
        (True, [0, 1], {0: _verdict(0), 1: _verdict(1)}, OK),
        (True, [0, 1], {0: _verdict(0), 1: _verdict(1, divergences=2)}, TARGET_FAILED),
        (True, [0], {0: _verdict(0, unresolved_count=1)}, TARGET_FAILED),
        (True, [0, 1], {0: _verdict(0)}, USAGE),  # a verdict never arrived
        (True, [0], {0: _verdict(0, error="ConnectError")}, USAGE),
        (True, [0, 1], {0: _verdict(0, divergences=1), 1: _verdict(1, error="x")}, USAGE),  # not fully judged
        (False, [], {}, USAGE),
        (True, [], {}, USAGE),
    ],
)
def test_the_exit_code_is_0_only_when_every_tenant_was_judged_and_converged(
    started: bool, claimed: list[int], verdicts: dict[int, dict[str, Any]], code: int
) -> None:
    assert report.exit_code(started, claimed, verdicts) == code


def test_a_step_that_raised_fails_a_run_whose_tenants_converged() -> None:
    exceptions = {
        1: {"count": 2, "msg": "ReadError('reset')\nmore", "traceback": "...", "nodes": {"local"}},
        2: {"count": 5, "msg": "KeyError('x')", "traceback": "...", "nodes": {"w1"}},
    }
    errors = report.step_errors(exceptions)
    assert errors == [{"count": 5, "message": "KeyError('x')"}, {"count": 2, "message": "ReadError('reset')"}]
    assert report.exit_code(True, [0], {0: _verdict(0)}, step_errors=7) == TARGET_FAILED
    assert report.exit_code(True, [0, 1], {0: _verdict(0)}, step_errors=7) == USAGE  # unjudged still wins


def _entry(name: str, method: str, requests: int, failures: int) -> SimpleNamespace:
    return SimpleNamespace(
        name=name,
        method=method,
        num_requests=requests,
        num_failures=failures,
        total_rps=requests / 10.0,
        get_response_time_percentile=lambda p: {0.5: 10, 0.95: 20, 0.99: 30}[p],
    )


def test_the_report_counts_429s_apart_from_failures_and_lists_every_divergence() -> None:
    errors = {
        0: SimpleNamespace(method="POST", name="/Users", error=RateLimited("429, waited out"), occurrences=2),  # local
        1: SimpleNamespace(
            method="POST", name="/Users", error="RateLimited('429, waited out')", occurrences=1
        ),  # worker
        2: SimpleNamespace(method="POST", name="/Users", error="Refused('HTTP 500')", occurrences=1),
    }
    rows = report.kind_rows([_entry("/Users", "POST", 40, 4), _entry("Aggregated", "", 40, 4)], errors)
    assert [(r.name, r.requests, r.failures, r.rate_limited, r.rps) for r in rows] == [
        ("/Users", 40, 1, 3, 4.0),
        ("Aggregated", 40, 1, 3, 4.0),
    ]
    plan = _plan().to_data()
    plan["tenants"] = [{"url": "http://h/a", "name": "a"}, {"url": "http://h/b", "name": ""}]
    problems = [f"group g: members ['u{n}'] are missing" for n in range(3)]
    built = report.build(
        plan=plan,
        seconds=10.0,
        rows=rows,
        claimed=[0, 1],
        verdicts={0: _verdict(0, divergences=3, shown=problems, figures={"requests": 40})},
        unplaced=0,
        started=True,
        workers=None,
    )
    assert built["verdict"] == {"tenants": 2, "converged": 0, "diverged": 1, "unjudged": 1, "exit_code": USAGE}
    text = "\n".join(report.render(built))
    assert all(problem in text for problem in problems)
    assert "http://h/b: NOT JUDGED: no verdict arrived" in text
    assert "verdict: 0 of 2 tenant(s) converged, 1 diverged, 1 not judged" in text
