"""Shared setup for the Entra flow tests: the sample user of Microsoft's SCIM tutorial, and an emulator wired to a
SCIM fake that also applies the PATCH shapes Entra sends (docs/entra-idp.md §4-§5)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_plus

import httpx

from emulators.core.clock import FakeClock
from emulators.core.directory import AppAssignments, Directory, Group, User
from emulators.core.mapping import TargetPath, remove_value, set_value
from emulators.entra import ENTRA_DEFAULT, EntraDirectory, EntraEmulator, EntraProfile, EntraSettings
from scimcore.client import BearerAuth, make_http
from tests.unit.scim_fake import BASE_URL, FakeScim

# docs/entra-idp.md §4, Create User: the documented values.
TUT_USER = "u-tut"
MANAGER = "u-mgr"
GROUP = "g-team"
TUT_UPN = "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"
TUT_MAIL = "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"
TUT_EXTERNAL_ID = "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
GUID = re.compile(r'"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"')
_MEMBER = re.compile(r'^members\[value eq "(.+)"\]$')
_MANAGER = re.compile(r'^manager\[value eq "(.+)"\]$')


def tut_directory() -> EntraDirectory:
    tut = User(
        TUT_USER,
        {
            "login": TUT_UPN,
            "email": TUT_MAIL,
            "firstName": "givenName",
            "lastName": "familyName",
            "nickName": TUT_EXTERNAL_ID,
        },
    )
    manager = User(MANAGER, {"login": "boss@contoso.test", "firstName": "Bo", "lastName": "Ss", "nickName": "boss"})
    group = Group(GROUP, "displayName", members=[TUT_USER])
    core = Directory(
        users={tut.id: tut, manager.id: manager},
        groups={group.id: group},
        app=AppAssignments(users=[TUT_USER, MANAGER], groups=[]),
    )
    return EntraDirectory(core)


class EntraFake(FakeScim):
    """The Okta flow-test fake plus Entra's PATCH shapes; group reads never return members."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.params.get("excludedAttributes") == "members":
            return _without_members(super().handle(request))
        if request.method != "PATCH" or self.scripted:
            return super().handle(request)
        self.requests.append(request)
        endpoint, rid = request.url.path.split("/scim/v2/", 1)[1].split("/")
        doc = self.resources[endpoint].get(rid)
        if doc is None:
            return httpx.Response(404, json={"status": "404"})
        for op in json.loads(request.content)["Operations"]:
            _apply(doc, op)
        return httpx.Response(204) if endpoint == "Groups" else httpx.Response(200, json=doc)


def _without_members(response: httpx.Response) -> httpx.Response:
    """Honour excludedAttributes=members, as Entra requires of a server (docs/entra-idp.md §3.4)."""
    doc = response.json() if response.is_success and response.content else None
    if not isinstance(doc, dict):
        return response
    for item in [doc, *(doc.get("Resources") or [])]:
        item.pop("members", None)
    return httpx.Response(response.status_code, json=doc)


def _apply(doc: dict[str, Any], op: dict[str, Any]) -> None:
    name, path, value = op["op"].lower(), op.get("path"), op.get("value")
    if path is None:
        for key, item in value.items():
            set_value(doc, TargetPath.parse(key), item)
    elif path == "members":
        ids = [m["value"] for m in value]
        kept = [m for m in doc.get("members", []) if m["value"] not in ids]
        doc["members"] = kept + ([{"value": i} for i in ids] if name == "add" else [])
    elif match := _MEMBER.match(path):
        doc["members"] = [m for m in doc.get("members", []) if m["value"] != match.group(1)]
    elif _MANAGER.match(path):
        remove_value(doc, TargetPath.parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"))
    elif path.endswith(":manager"):
        set_value(doc, TargetPath.parse(path), {"value": value})
    elif name == "remove":
        remove_value(doc, TargetPath.parse(path))
    else:
        set_value(doc, TargetPath.parse(path), value)


def make_entra(
    directory: EntraDirectory | None = None,
    profile: EntraProfile = ENTRA_DEFAULT,
    *,
    fake: FakeScim | None = None,
    clock: FakeClock | None = None,
    **kwargs: Any,
) -> tuple[EntraEmulator, EntraFake]:
    fake = fake or EntraFake()
    http = make_http(fake.transport, BearerAuth("s3cret"), base_url=BASE_URL, headers=profile.headers)
    settings = kwargs.pop("settings", None) or EntraSettings()
    emulator = EntraEmulator(
        directory or tut_directory(), http, profile, settings=settings, clock=clock or FakeClock(), **kwargs
    )
    return emulator, fake  # type: ignore[return-value]


def decoded_calls(fake: FakeScim) -> list[tuple[str, str]]:
    """(method, path?query) with the query form-decoded and random GUIDs replaced by <guid> (§2, §11.5)."""
    return [(method, GUID.sub('"<guid>"', unquote_plus(url))) for method, url in fake.calls()]


def normalised(body: Any, ids: dict[str, str]) -> Any:
    """Replace server-assigned ids by names."""
    if isinstance(body, list):
        return [normalised(item, ids) for item in body]
    if isinstance(body, dict):
        return {key: normalised(value, ids) for key, value in body.items()}
    if isinstance(body, str):
        for real, name in ids.items():
            body = body.replace(real, name)
    return body
