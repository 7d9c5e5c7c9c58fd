"""The service's HTTP API with real Redis and a real migrated SQLite database.

The bot here is a scripted double of the BotClient protocol, so these tests pin the
switchboard's own rules; tests/integration drives the same API against a real Rasa server.
"""

from __future__ import annotations

from typing import Any

import pytest
from sanic_testing.testing import SanicASGITestClient

from tests.service.conftest import ScriptedBot
from tests.service.visitors import visitor_headers


async def post(client: SanicASGITestClient, body: Any) -> tuple[int, dict[str, Any]]:
    visitor = body.get("visitor_id") if isinstance(body, dict) else None
    headers = visitor_headers(client, visitor) if isinstance(visitor, str) and visitor else {}
    _, resp = await client.post("/api/web/messages", json=body, headers=headers)
    return resp.status, resp.json


async def test_message_answered_and_stored(client: SanicASGITestClient, bot: ScriptedBot) -> None:
    status, body = await post(client, {"visitor_id": "v1", "text": "hello", "lang": "en"})
    assert status == 200
    assert body["state"] == "bot"
    assert [r["text"] for r in body["replies"]] == ["echo:hello"]
    assert bot.calls[0][2]["lang"] == "en"
    _, resp = await client.get(
        f"/api/web/conversations/{body['conversation_id']}/messages", headers=visitor_headers(client, "v1")
    )
    assert [(m["sender"], m["text"]) for m in resp.json["messages"]] == [
        ("customer", "hello"),
        ("bot", "echo:hello"),
    ]
    after = resp.json["messages"][0]["id"]
    _, resp = await client.get(
        f"/api/web/conversations/{body['conversation_id']}/messages",
        params={"after": str(after)},
        headers=visitor_headers(client, "v1"),
    )
    assert [m["sender"] for m in resp.json["messages"]] == ["bot"]


async def test_retried_message_is_not_sent_to_the_bot_twice(
    client: SanicASGITestClient, bot: ScriptedBot
) -> None:
    body = {"visitor_id": "v2", "text": "where is my parcel", "client_message_id": "m-1"}
    _, first = await post(client, body)
    _, second = await post(client, body)
    assert len(bot.calls) == 1
    assert second["duplicate"] is True
    assert second["message_id"] == first["message_id"]
    assert [r["text"] for r in second["replies"]] == [r["text"] for r in first["replies"]]


async def test_decline_hands_off_and_silences_the_bot(client: SanicASGITestClient, bot: ScriptedBot) -> None:
    status, body = await post(client, {"visitor_id": "v3", "text": "帮我写一首诗"})
    assert status == 200
    assert body["state"] == "queued"
    assert any("转" in r["text"] for r in body["replies"])
    calls = len(bot.calls)
    _, again = await post(client, {"visitor_id": "v3", "text": "还在吗"})
    assert again["state"] == "queued"
    assert again["replies"] == []
    assert len(bot.calls) == calls  # while queued, nothing goes to the bot


async def test_bot_down_hands_off_and_keeps_the_message(
    client: SanicASGITestClient, bot: ScriptedBot
) -> None:
    bot.down = True
    status, body = await post(client, {"visitor_id": "v4", "text": "hello", "lang": "en"})
    assert status == 200
    assert body["state"] == "queued"
    _, resp = await client.get(
        f"/api/web/conversations/{body['conversation_id']}/messages", headers=visitor_headers(client, "v4")
    )
    assert resp.json["messages"][0]["text"] == "hello"


async def test_a_bot_that_answers_nothing_counts_as_down(
    client: SanicASGITestClient, bot: ScriptedBot
) -> None:
    bot.silent = True
    status, body = await post(client, {"visitor_id": "v5", "text": "退款多久到账", "lang": "zh"})
    assert status == 200 and body["state"] == "queued"
    assert body["replies"]  # the customer is told, never left with nothing


async def test_customers_see_only_their_own_conversation(client: SanicASGITestClient) -> None:
    _, body = await post(client, {"visitor_id": "owner", "text": "hi"})
    _, resp = await client.get(
        f"/api/web/conversations/{body['conversation_id']}/messages",
        headers=visitor_headers(client, "intruder"),
    )
    assert resp.status == 404
    assert resp.json["error"]["code"] == "conversation_not_found"


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"{not json", 422, "invalid_json"),
        (b'{"visitor_id": "v", "text": ""}', 422, "invalid_text"),
        (b'{"visitor_id": "v", "text": "hi", "lang": "de"}', 422, "invalid_lang"),
    ],
)
async def test_bad_input_gets_a_clear_4xx(
    client: SanicASGITestClient, raw: bytes, status: int, code: str
) -> None:
    _, resp = await client.post(
        "/api/web/messages", content=raw, headers={"content-type": "application/json"}
    )
    assert resp.status == status
    assert resp.json["error"]["code"] == code
    assert "Traceback" not in resp.text


async def test_unknown_route_and_bad_cursor(client: SanicASGITestClient) -> None:
    _, resp = await client.get("/api/nope")
    assert resp.status == 404 and resp.json["error"]["code"] == "not_found"
    _, resp = await client.get(
        "/api/web/conversations/abc/messages", params={"after": "x"}, headers=visitor_headers(client, "v")
    )
    assert resp.status == 422 and resp.json["error"]["code"] == "invalid_after"


async def test_healthz_reports_each_component(client: SanicASGITestClient, bot: ScriptedBot) -> None:
    _, resp = await client.get("/healthz")
    assert resp.status == 503  # no action server, no published knowledge in this test
    assert resp.json["components"]["redis"] == "up"
    assert resp.json["components"]["database"] == "up"
    assert resp.json["components"]["rasa"] == "up"
    assert resp.json["components"]["actions"] == "down"
    assert resp.json["components"]["knowledge"] == "down"
