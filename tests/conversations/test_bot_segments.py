"""Segments of a conversation with the bot, and how the Rasa client tells a running form."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from conversations.bot_segments import Segment, sender_of
from conversations.botclient import RasaClient, active_loop
from conversations.http import LazySession

TOKEN = "rasa-token-0123456789"


def test_segment_zero_is_the_conversation_itself() -> None:
    assert sender_of("c1", 0) == "c1"
    assert sender_of("c1", 3) == "c1.3"


def test_a_segment_is_full_after_its_turns() -> None:
    segment = Segment(0, 0)
    for _ in range(3):
        assert not segment.full(3)
        segment = segment.after_turn()
    assert segment.full(3)
    assert segment.next() == Segment(1, 0)


@pytest.mark.parametrize(
    ("state", "running"),
    [
        ({"active_loop": {}}, None),
        ({"active_loop": {"name": None}}, None),
        ({"sender_id": "c1"}, None),
        ({"active_loop": {"name": "order_status_form"}}, "order_status_form"),
        ({"active_loop": "odd"}, "unknown"),
        ([], "unknown"),
    ],
)
def test_active_loop_of_a_tracker_state(state: Any, running: str | None) -> None:
    assert active_loop(state) == running


class TrackerRasa:
    """Rasa's tracker endpoint (``GET /conversations/<id>/tracker``), token checked."""

    def __init__(self) -> None:
        self.forms = {"in.form": "order_status_form"}
        self.asked: list[tuple[str, str]] = []
        self.app = web.Application()
        self.app.router.add_get("/conversations/{sender}/tracker", self.tracker)

    async def tracker(self, request: web.Request) -> web.Response:
        if request.query.get("token") != TOKEN:
            return web.json_response({"status": "failure", "code": 401}, status=401)
        sender = request.match_info["sender"]
        self.asked.append((sender, request.query.get("include_events", "")))
        if sender == "broken":
            return web.json_response({"status": "failure"}, status=500)
        loop = {"name": self.forms[sender]} if sender in self.forms else {}
        return web.json_response({"sender_id": sender, "active_loop": loop})


@pytest.fixture
async def rasa() -> AsyncIterator[tuple[TrackerRasa, str]]:
    fake = TrackerRasa()
    server = TestServer(fake.app, host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


async def test_the_client_reads_the_running_form_without_events(rasa: tuple[TrackerRasa, str]) -> None:
    fake, url = rasa
    http = LazySession()
    try:
        client = RasaClient(http, url, timeout=5, token=TOKEN)
        assert await client.in_form("in.form")
        assert not await client.in_form("c1.2")
        assert await client.in_form("broken")  # cannot tell: the segment stays
        assert await RasaClient(http, url, timeout=5, token="wrong").in_form("c1")
    finally:
        await http.close()
    assert fake.asked[:2] == [("in.form", "NONE"), ("c1.2", "NONE")]
