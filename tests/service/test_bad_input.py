"""Input that used to reach the database or int() unchecked gets a 4xx with a stable code."""

from __future__ import annotations

import pytest
from sanic_testing.testing import SanicASGITestClient

from service.deps import Deps
from tests.service.staff_app import staff_tokens
from tests.service.visitors import visitor_headers

DEEP = 100_000  # beyond Python's recursion limit: json.loads itself gives up


async def post_raw(client: SanicASGITestClient, raw: bytes) -> tuple[int, str]:
    _, resp = await client.post(
        "/api/web/messages", content=raw, headers={"content-type": "application/json"}
    )
    return resp.status, resp.json["error"]["code"] if resp.status >= 400 else ""


@pytest.mark.parametrize("after", ["²", "١", "+1", "-1", " 1"])
async def test_a_cursor_that_is_not_ascii_digits_is_invalid(client: SanicASGITestClient, after: str) -> None:
    _, resp = await client.get(
        "/api/web/conversations/abc/messages",
        params={"after": after},
        headers=visitor_headers(client, "v"),
    )
    assert resp.status == 422 and resp.json["error"]["code"] == "invalid_after"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"visitor_id": "v", "text": "hi", "x": ' + b"[" * DEEP + b"]" * DEEP + b"}",
        b'{"visitor_id": "v", "text": "hi", "x": ' + b'{"a": ' * DEEP + b"1" + b"}" * DEEP + b"}",
        b'{"visitor_id": "v", "text": "hi", "x": ' + b"[" * 40 + b"]" * 40 + b"}",
    ],
    ids=["arrays", "objects", "moderately"],
)
async def test_deeply_nested_json_is_refused(client: SanicASGITestClient, raw: bytes) -> None:
    assert await post_raw(client, raw) == (422, "json_too_deep")


@pytest.mark.parametrize(
    "raw",
    [
        rb'{"visitor_id": "v", "text": "hi \ud800 there"}',  # a lone high surrogate
        rb'{"visitor_id": "v", "text": "\udfff"}',  # a lone low surrogate
        rb'{"visitor_id": "v", "text": "a\u0000b"}',  # NUL: PostgreSQL refuses it in text
        rb'{"visitor_id": "v", "text": "hi", "page": "p\u0000"}',  # in any field
        rb'{"visitor_id": "v", "text": "hi", "x": {"\ud800": 1}}',  # in a key
    ],
    ids=["high-surrogate", "low-surrogate", "nul", "nul-elsewhere", "surrogate-key"],
)
async def test_text_that_cannot_be_stored_is_refused(client: SanicASGITestClient, raw: bytes) -> None:
    assert await post_raw(client, raw) == (422, "invalid_characters")


async def test_a_surrogate_pair_is_fine(client: SanicASGITestClient) -> None:
    status, _ = await post_raw(client, rb'{"visitor_id": "v", "text": "smile \ud83d\ude00"}')
    assert status == 200


@pytest.mark.parametrize("limit", ["²", "0", "501", "x", "99999999999999999999"])
@pytest.mark.parametrize(
    ("path", "role"),
    [("/api/admin/app/dead-letters", "admin"), ("/api/knowledge/unanswered", "editor")],
)
async def test_a_bad_limit_on_staff_routes_is_invalid(
    client: SanicASGITestClient, deps: Deps, limit: str, path: str, role: str
) -> None:
    tokens = await staff_tokens(deps, client, (role,))
    _, resp = await client.get(path, params={"limit": limit}, headers=tokens[role][1])
    assert resp.status == 422, resp.text
    assert resp.json["error"]["code"] == "invalid_limit"


@pytest.mark.parametrize("row", ["40641700463002145710424457216", "-3", "１２", "1e3"])
@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("delete", "/api/agent/canned/{row}", "agent"),
        ("post", "/api/knowledge/learned/{row}/reject", "editor"),
        ("post", "/api/knowledge/unanswered/{row}/resolve", "editor"),
        ("post", "/api/knowledge/versions/{row}/activate", "editor"),
    ],
)
async def test_a_row_id_no_database_holds_is_not_found(
    client: SanicASGITestClient, deps: Deps, row: str, method: str, path: str, role: str
) -> None:
    """Found by schema fuzzing: a 29-digit id overflowed SQLite's integer into a 500."""
    tokens = await staff_tokens(deps, client, (role,))
    _, resp = await getattr(client, method)(path.format(row=row), headers=tokens[role][1])
    assert resp.status == 404, resp.text
    assert resp.json["error"]["code"]


async def test_cluster_ids_no_database_holds_are_invalid(client: SanicASGITestClient, deps: Deps) -> None:
    tokens = await staff_tokens(deps, client, ("editor",))
    _, resp = await client.post(
        "/api/knowledge/unanswered/clusters/resolve",
        json={"action": "dismiss", "ids": [3, 411767248941646187605891481600]},
        headers=tokens["editor"][1],
    )
    assert resp.status == 422 and resp.json["error"]["code"] == "invalid_ids"
