"""The ticket API with real Redis and a real migrated SQLite database (clock set by the test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sanic_testing.testing import SanicASGITestClient

from conversations import tickets as service
from conversations.repo import get_conversation
from service.deps import Deps
from tests.service.staff_app import Clock, RecordingSender, make_app, make_deps, staff_tokens
from tests.service.visitors import visitor_headers
from tests.tickets.db import conversation_with
from tests.tickets.schedules import sh

Headers = dict[str, str]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
async def deps(tmp_path: Path, redis_url: str) -> AsyncIterator[Deps]:
    built = make_deps(tmp_path, redis_url)
    yield built
    await built.close()


@pytest.fixture
async def client(deps: Deps, clock: Clock, sender: RecordingSender) -> SanicASGITestClient:
    return make_app(deps, clock, sender).asgi_client


@pytest.fixture
async def staff(deps: Deps, client: SanicASGITestClient) -> dict[str, tuple[int, Headers]]:
    """An agent and a supervisor, logged in (the role test logs in every role itself)."""
    return await staff_tokens(deps, client, ("agent", "supervisor"))


def headers(staff: dict[str, tuple[int, Headers]], role: str) -> Headers:
    return staff[role][1]


async def new_ticket(
    deps: Deps, at: datetime, user: str = "v1", channel: str = "web", text: str = "包裹丢了"
) -> str:
    async with deps.sessions.begin() as session:
        conv = await conversation_with(session, user, text, channel=channel)
        view = await service.create_ticket_from_conversation(session, conv, now=at)
    return view.number


async def test_roles_are_enforced(deps: Deps, client: SanicASGITestClient) -> None:
    staff = await staff_tokens(deps, client)
    number = await new_ticket(deps, sh(2025, 10, 13, 10))
    calls: list[tuple[str, str, Any]] = [
        ("get", "/api/tickets", None),
        ("get", f"/api/tickets/{number}", None),
        ("patch", f"/api/tickets/{number}", {"priority": "high"}),
        ("post", f"/api/tickets/{number}/replies", {"text": "hi"}),
        ("post", f"/api/tickets/{number}/notes", {"text": "hi"}),
    ]
    for method, url, body in calls:
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        _, resp = await getattr(client, method)(url, **kwargs)
        assert resp.status == 401 and resp.json["error"]["code"] == "missing_token", url
        _, resp = await getattr(client, method)(url, headers=headers(staff, "editor"), **kwargs)
        assert resp.status == 403 and resp.json["error"]["code"] == "forbidden_role", url
        for role in ("agent", "supervisor", "admin"):
            _, resp = await getattr(client, method)(url, headers=headers(staff, role), **kwargs)
            assert resp.status in (200, 201), (url, role, resp.text)
    _, resp = await client.get("/api/tickets", headers={"authorization": "Bearer nope"})
    assert resp.status == 401 and resp.json["error"]["code"] == "invalid_token"


async def test_after_hours_ticket_shows_deadlines_past_national_day(
    deps: Deps, client: SanicASGITestClient, staff: dict[str, tuple[int, Headers]], clock: Clock
) -> None:
    clock.now = sh(2025, 9, 30, 20)
    number = await new_ticket(deps, clock.now)
    _, resp = await client.get(f"/api/tickets/{number}", headers=headers(staff, "agent"))
    assert resp.status == 200
    ticket = resp.json["ticket"]
    assert number == "T20250930-0001" and ticket["status"] == "new"
    assert datetime.fromisoformat(ticket["first_response_due"]) == sh(2025, 10, 9, 12)
    assert datetime.fromisoformat(ticket["resolution_due"]) == sh(2025, 10, 10, 12)
    assert ticket["sla"] == {"first_response": "ok", "resolution": "ok"}
    assert [e["kind"] for e in resp.json["events"]] == ["created"]
    assert [m["text"] for m in resp.json["transcript"]] == ["包裹丢了"]


async def test_reply_reaches_the_web_customer_and_the_transcript(
    deps: Deps, client: SanicASGITestClient, staff: dict[str, tuple[int, Headers]], clock: Clock
) -> None:
    number = await new_ticket(deps, clock.now, user="visitor-9")
    _, resp = await client.post(
        f"/api/tickets/{number}/replies", json={"text": "  已为您补发  "}, headers=headers(staff, "agent")
    )
    assert resp.status == 201 and resp.json["delivered"] is True
    assert resp.json["ticket"]["status"] == "open"
    assert datetime.fromisoformat(resp.json["ticket"]["first_responded_at"]) == clock.now
    conversation_id = resp.json["ticket"]["conversation_id"]
    _, resp = await client.get(
        f"/api/web/conversations/{conversation_id}/messages", headers=visitor_headers(client, "visitor-9")
    )
    assert [(m["sender"], m["text"]) for m in resp.json["messages"]] == [
        ("customer", "包裹丢了"),
        ("agent", "已为您补发"),
    ]
    _, resp = await client.get(f"/api/tickets/{number}", headers=headers(staff, "agent"))
    reply = [e for e in resp.json["events"] if e["kind"] == "reply"]
    assert reply[0]["actor"] == "staff:agent1" and reply[0]["data"]["text"] == "已为您补发"


async def test_reply_goes_out_on_the_customers_own_channel(
    deps: Deps, client: SanicASGITestClient, staff: dict[str, tuple[int, Headers]], sender: RecordingSender
) -> None:
    number = await new_ticket(deps, sh(2025, 10, 13, 10), user="wm-external-1", channel="wecom_kf")
    _, resp = await client.post(
        f"/api/tickets/{number}/replies", json={"text": "您好"}, headers=headers(staff, "supervisor")
    )
    assert resp.status == 201
    assert [(m.channel, m.channel_user_id, m.text, m.sender) for m in sender.sent] == [
        ("wecom_kf", "wm-external-1", "您好", "agent")
    ]
    assert sender.sent[0].message_id == str(resp.json["message_id"])


async def test_customer_answer_reopens_a_pending_ticket(
    deps: Deps, client: SanicASGITestClient, staff: dict[str, tuple[int, Headers]], clock: Clock
) -> None:
    number = await new_ticket(deps, clock.now)
    agent = headers(staff, "agent")
    _, resp = await client.patch(f"/api/tickets/{number}", json={"status": "pending"}, headers=agent)
    assert resp.status == 200 and resp.json["ticket"]["status"] == "pending"
    assert resp.json["ticket"]["sla"] is None  # the clocks stand still
    conversation_id = resp.json["ticket"]["conversation_id"]
    clock.now = sh(2025, 10, 13, 11)
    async with deps.sessions.begin() as session:  # what the switchboard does with the answer
        conv = await get_conversation(session, conversation_id)
        reopened = await service.on_customer_message(session, conv.id, "单号是 123", now=clock.now)
    assert reopened is not None
    _, resp = await client.get(f"/api/tickets/{number}", headers=agent)
    ticket = resp.json["ticket"]
    assert ticket["status"] == "open" and ticket["pending_since"] is None
    assert datetime.fromisoformat(ticket["first_response_due"]) == sh(2025, 10, 13, 15)  # 14:00 + 1 h paused
    assert resp.json["events"][-2]["kind"] == "status" and resp.json["events"][-2]["actor"] == "customer"


async def test_patch_changes_and_lists(
    deps: Deps, client: SanicASGITestClient, staff: dict[str, tuple[int, Headers]]
) -> None:
    first = await new_ticket(deps, sh(2025, 10, 13, 10), user="a", text="退款还没到")
    second = await new_ticket(deps, sh(2025, 10, 13, 10, 5), user="b", text="发票")
    agent_id, agent = staff["agent"]
    _, resp = await client.patch(
        f"/api/tickets/{first}",
        json={"priority": "urgent", "assignee": agent_id, "tags": ["退款"], "status": "open"},
        headers=agent,
    )
    assert resp.status == 200
    assert resp.json["ticket"]["assignee_id"] == agent_id and resp.json["ticket"]["tags"] == ["退款"]
    queries = {
        "assignee=me": [first],
        "assignee=none": [second],
        "priority=urgent": [first],
        "status=new": [second],
        "q=退款": [first],
        "group=general": [second, first],  # the latest change first
        "page=2": [],
    }
    for query, expected in queries.items():
        _, resp = await client.get(f"/api/tickets?{query}", headers=agent)
        assert resp.status == 200, query
        assert [t["number"] for t in resp.json["tickets"]] == expected, query
    _, resp = await client.post(f"/api/tickets/{first}/notes", json={"text": "内部备注"}, headers=agent)
    assert resp.status == 201
    _, resp = await client.get(f"/api/tickets/{first}", headers=agent)
    kinds = [e["kind"] for e in resp.json["events"]]
    assert {"priority", "assignee", "tags", "status", "note"} <= set(kinds)
    assert "内部备注" not in [m["text"] for m in resp.json["transcript"]]


BAD_INPUT: list[tuple[str, str, Any, int, str]] = [
    ("patch", "", {"status": "archived"}, 422, "invalid_status"),
    ("patch", "", {"priority": "asap"}, 422, "invalid_priority"),
    ("patch", "", {"assignee": "alice"}, 422, "invalid_assignee"),
    ("patch", "", {"assignee": True}, 422, "invalid_assignee"),
    ("patch", "", {"assignee": 999}, 422, "invalid_assignee"),
    ("patch", "", {"tags": "x"}, 422, "invalid_tags"),
    ("patch", "", {"tags": ["x" * 40]}, 422, "invalid_tags"),
    ("patch", "", {"subject": "x"}, 422, "unknown_field"),
    ("patch", "", {}, 422, "empty_change"),
    ("patch", "", [1], 422, "invalid_json"),
    ("post", "/replies", {"text": ""}, 422, "invalid_text"),
    ("post", "/replies", {"text": "x" * 4001}, 422, "text_too_long"),
    ("post", "/notes", {}, 422, "invalid_text"),
    ("get", "?status=x", None, 422, "invalid_status"),
    ("get", "?page=0", None, 422, "invalid_page"),
    ("get", "?page=abc", None, 422, "invalid_page"),
    ("get", "?assignee=bob", None, 422, "invalid_assignee"),
    ("get", "?group=Bad%20Group", None, 422, "invalid_group"),
    ("get", "?q=" + "x" * 101, None, 422, "invalid_q"),
]


async def test_bad_input_gets_a_stable_4xx(deps: Deps, client: SanicASGITestClient) -> None:
    staff = await staff_tokens(deps, client, ("agent",))
    number = await new_ticket(deps, sh(2025, 10, 13, 10))
    for method, path, body, status, code in BAD_INPUT:
        url = f"/api/tickets{path}" if method == "get" else f"/api/tickets/{number}{path}"
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        _, resp = await getattr(client, method)(url, headers=headers(staff, "agent"), **kwargs)
        assert (resp.status, resp.json["error"]["code"]) == (status, code), (method, path, body)
        assert "Traceback" not in resp.text


async def test_unknown_closed_and_malformed_tickets(
    deps: Deps, client: SanicASGITestClient, staff: dict[str, tuple[int, Headers]]
) -> None:
    agent = headers(staff, "agent")
    for url in ("/api/tickets/T20990101-0001", "/api/tickets/../../etc", "/api/tickets/%00"):
        _, resp = await client.get(url, headers=agent)
        assert resp.status == 404, url
    number = await new_ticket(deps, sh(2025, 10, 13, 10))
    _, resp = await client.patch(f"/api/tickets/{number}", json={"status": "closed"}, headers=agent)
    assert resp.status == 200
    _, resp = await client.post(f"/api/tickets/{number}/replies", json={"text": "hi"}, headers=agent)
    assert resp.status == 409 and resp.json["error"]["code"] == "ticket_closed"
    _, resp = await client.patch(f"/api/tickets/{number}", json={"status": "open"}, headers=agent)
    assert resp.status == 409 and resp.json["error"]["code"] == "ticket_closed"
    _, resp = await client.post(
        f"/api/tickets/{number}/replies",
        content=b"{oops",
        headers={**agent, "content-type": "application/json"},
    )
    assert resp.status == 422 and resp.json["error"]["code"] == "invalid_json"
