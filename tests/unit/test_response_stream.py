"""Large member lists leave the server in pieces, byte for byte the JSON a one-shot encoding gives."""

from __future__ import annotations

import json
from typing import Any

from aup_server.api.http import STREAM_MEMBERS, scim_response, streamed_json


def group(members: int) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "g1",
        "displayName": "Équipe « Paris »",
        "members": [
            {"value": f"u{n}", "display": f"ユーザー{n}", "type": "User", "$ref": f"http://x/Users/u{n}"}
            for n in range(members)
        ],
        "meta": {"resourceType": "Group", "version": 'W/"3"'},
    }


def test_streamed_json_is_the_one_shot_encoding() -> None:
    for size in (0, 1, 999, 1000, 1001, 2345):
        body = group(size)
        expected = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        assert b"".join(streamed_json(body)) == expected


def test_only_large_member_lists_are_streamed() -> None:
    small = scim_response(group(STREAM_MEMBERS))
    assert not small.is_streamed
    assert small.headers["Content-Length"] == str(len(small.get_data()))
    large = scim_response(group(STREAM_MEMBERS + 1), headers={"ETag": 'W/"3"'})
    assert large.is_streamed
    assert large.headers["ETag"] == 'W/"3"'
    assert large.content_type == "application/scim+json; charset=utf-8"
    assert json.loads(large.get_data())["members"][-1]["value"] == f"u{STREAM_MEMBERS}"


def test_a_list_page_with_big_groups_is_streamed_byte_for_byte() -> None:
    page = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 3,
        "Resources": [group(3), group(STREAM_MEMBERS + 5), {"id": "u1", "members": "not a list"}],
        "startIndex": 1,
        "itemsPerPage": 3,
    }
    expected = json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode()
    assert b"".join(streamed_json(page)) == expected
    response = scim_response(page)
    assert response.is_streamed and response.get_data() == expected
