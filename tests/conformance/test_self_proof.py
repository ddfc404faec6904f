"""The suite proves itself: every check passes against the reference server, and every check fails
against a server that breaks exactly the requirement it enforces."""

from __future__ import annotations

import importlib

import pytest
from werkzeug.wrappers import Request, Response

from conformance import Status, Target, all_checks, run
from conformance.model import Check
from emulators.registry import idps
from scimcore.client import IN_PROCESS_SCIM_URL
from scimcore.target import Bearer
from tests.conformance.breakers_cursor_bulk import BREAKERS as CURSOR_BULK_BREAKERS
from tests.conformance.breakers_idp import BREAKERS as IDP_BREAKERS
from tests.conformance.breakers_idp import NEEDS_THROTTLING
from tests.conformance.breakers_posix import BREAKERS as POSIX_BREAKERS
from tests.conformance.breakers_rfc import BREAKERS as RFC_BREAKERS
from tests.conformance.faulty import Breaker, Faulty, State, body_of, clone, set_json

BASE = IN_PROCESS_SCIM_URL


def _idp_breakers() -> dict[str, Breaker]:
    """The breakers of every registered IdP that brings a suite of its own: ``tests/<idp>/breakers.py``."""
    out: dict[str, Breaker] = {}
    for spec in idps():
        if spec.checks:
            out.update(importlib.import_module(f"tests.{spec.name}.breakers").BREAKERS)
    return out


BREAKERS: dict[str, Breaker] = {
    **RFC_BREAKERS,
    **CURSOR_BULK_BREAKERS,
    **IDP_BREAKERS,
    **POSIX_BREAKERS,
    **_idp_breakers(),
}
CHECKS = {item.id: item for item in all_checks()}


def test_every_check_passes_against_the_reference_server(reference: tuple[object, str]) -> None:
    app, token = reference
    outcome = run(list(CHECKS.values()), Target(BASE, Bearer(token), app=app))  # type: ignore[arg-type]
    bad = [
        f"{r.check.id}: {r.status} {r.reason} | {r.expected} | {r.actual}"
        for r in outcome.results
        if r.status is not Status.PASS
        # a throttling check can only SKIP here; test_idp_throttling.py shows it PASS against a rate-limited server
        and not (r.check.id in NEEDS_THROTTLING and r.status is Status.SKIP)
    ]
    assert not bad, "\n".join(bad)
    assert not outcome.notes, outcome.notes  # nothing left behind, nothing swept


def test_every_check_has_a_breaker() -> None:
    assert sorted(set(CHECKS) - set(BREAKERS)) == []
    assert sorted(set(BREAKERS) - set(CHECKS)) == []


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_check_fails_against_a_server_that_breaks_it(check_id: str, reference: tuple[object, str]) -> None:
    app, token = reference
    item: Check = CHECKS[check_id]
    breaker = BREAKERS.get(check_id)
    if breaker is None:
        pytest.fail(f"no breaker for {check_id}")
    state = State(token=token, memory={"app": app})
    faulty = Faulty(app, breaker, state)  # type: ignore[arg-type]
    outcome = run([item], Target(BASE, Bearer(token), app=faulty))
    result = outcome.results[0]
    assert result.status is item.failing_status, f"{result.status}: {result.reason}"
    assert result.reason
    assert result.evidence, "a failure carries its exchanges as evidence"


def _applied(state: State) -> None:
    state.memory["applied"] = state.memory.get("applied", 0) + 1


def _patch_answers_204(req: Request, resp: Response, state: State) -> Response | None:
    """RFC 7644 §3.5.2 lets a server answer any successful PATCH with 204 and no body."""
    if req.method == "PATCH" and resp.status_code == 200:
        _applied(state)
        out = Response(status=204)
        if resp.headers.get("ETag"):
            out.headers["ETag"] = resp.headers["ETag"]
        return out
    return None


def _no_empty_resources(req: Request, resp: Response, state: State) -> Response | None:
    """RFC 7644 §3.4.2: Resources is REQUIRED only when totalResults is not zero."""
    body = body_of(resp) if resp.status_code == 200 and resp.get_data() else None
    if isinstance(body, dict) and body.get("totalResults") == 0 and "Resources" in body:
        _applied(state)
        del body["Resources"]
        return set_json(resp, body)
    return None


def _no_empty_members(req: Request, resp: Response, state: State) -> Response | None:
    """An empty multi-valued attribute may be left out (RFC 7643 §2.5: unassigned equals empty)."""
    body = body_of(resp) if resp.status_code in (200, 201) and resp.get_data() else None
    if isinstance(body, dict) and body.get("members") == []:
        _applied(state)
        del body["members"]
        return set_json(resp, body)
    return None


def _strong(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def _strong_etags() -> Breaker:
    """Strong validators instead of weak ones (RFC 7232 §2.3: either is a valid entity tag)."""

    def on_request(req: Request, state: State) -> Request | None:
        updates = {
            key: f"W/{value}"
            for key, value in req.environ.items()
            if key in ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH") and not str(value).startswith("W/")
        }
        return clone(req, **updates) if updates else None

    def on_response(req: Request, resp: Response, state: State) -> Response | None:
        if resp.headers.get("ETag"):
            _applied(state)
            resp.headers["ETag"] = _strong(resp.headers["ETag"])
        body = body_of(resp) if resp.get_data() else None
        if isinstance(body, dict) and isinstance(body.get("meta"), dict) and "version" in body["meta"]:
            body["meta"]["version"] = _strong(str(body["meta"]["version"]))
            return set_json(resp, body)
        return resp

    return Breaker(on_request, on_response)


@pytest.mark.parametrize(
    "variation",
    [
        Breaker(response=_patch_answers_204),
        Breaker(response=_no_empty_resources),
        Breaker(response=_no_empty_members),
        _strong_etags(),
    ],
    ids=["patch-204", "no-empty-resources", "no-empty-members", "strong-etags"],
)
def test_what_the_rfc_allows_never_fails_a_check(variation: Breaker, reference: tuple[object, str]) -> None:
    """A check may only fail a server for breaking a requirement, never for a choice the RFC leaves open."""
    app, token = reference
    state = State(token=token, memory={"app": app})
    faulty = Faulty(app, variation, state)  # type: ignore[arg-type]
    outcome = run(list(CHECKS.values()), Target(BASE, Bearer(token), app=faulty))
    assert state.memory.get("applied", 0) > 0, "the variation never came into play"
    bad = [
        f"{r.check.id}: {r.status} {r.reason}" for r in outcome.results if r.status not in (Status.PASS, Status.SKIP)
    ]
    assert not bad, "\n".join(bad)
