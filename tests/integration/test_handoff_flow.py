"""Handoff end to end on the real system with two service replicas sharing Redis and SQL:
the customer talks to replica A, the agent works on replica B."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.support import visitors
from tests.support.stack import Stack

pytestmark = pytest.mark.integration


def agent(stack: Stack, name: str, skills: str = "general", max_concurrent: int = 3) -> dict[str, str]:
    return stack.staff(name, skills=skills, max_concurrent=max_concurrent, replica=1)


def say(url: str, visitor: str, text: str) -> dict[str, Any]:
    resp = httpx.post(
        f"{url}/api/web/messages",
        json={"visitor_id": visitor, "text": text, "lang": "zh"},
        headers=visitors.headers(visitor),
        timeout=60,
    )
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = visitors.remember(visitor, resp.json())
    return body


def transcript(url: str, conv: str, visitor: str) -> dict[str, Any]:
    resp = httpx.get(
        f"{url}/api/web/conversations/{conv}/messages", headers=visitors.headers(visitor), timeout=10
    )
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def test_decline_queue_assign_reply_close_csat_and_back_to_the_bot(stack: Stack) -> None:
    replica_a, replica_b = stack.service_urls
    headers = agent(stack, "flow-agent", max_concurrent=20)
    visitor = uuid.uuid4().hex
    first = say(replica_a, visitor, "帮我写一首诗")
    conv = first["conversation_id"]
    assert first["state"] == "queued"
    assert any("第" in r["text"] and "位" in r["text"] for r in first["replies"])  # queue position

    # The socket opens with a one-time ticket from replica A (tickets live in Redis).
    ticket = httpx.post(f"{replica_a}/api/auth/ws-ticket", headers=headers, timeout=10).json()["ticket"]
    ws_url = replica_b.replace("http://", "ws://") + f"/api/agent/ws?ticket={ticket}"
    events: list[dict[str, Any]] = []
    with connect(ws_url, open_timeout=10) as ws:
        reader = threading.Thread(target=lambda: _read(ws, events), daemon=True)
        reader.start()
        resp = httpx.put(
            f"{replica_b}/api/agent/status", json={"status": "online"}, headers=headers, timeout=30
        )
        assert resp.status_code == 200
        mine = httpx.get(f"{replica_b}/api/agent/conversations", headers=headers, timeout=10).json()
        assert conv in [c["id"] for c in mine["conversations"]]
        say(replica_a, visitor, "请尽快")  # the customer writes on replica A ...
        _wait(lambda: any(e.get("type") == "new_message" and e.get("text") == "请尽快" for e in events))
        # ... and the agent's socket on replica B gets it (fan-out over Redis).

    detail = httpx.get(f"{replica_b}/api/agent/conversations/{conv}", headers=headers, timeout=10).json()
    assert detail["handoff_reason"] == "low_confidence"
    assert detail["messages"][0]["text"] == "帮我写一首诗"  # the bot part of the transcript is there
    suggestions = httpx.get(
        f"{replica_b}/api/agent/conversations/{conv}/suggestions", headers=headers, timeout=120
    )
    assert suggestions.status_code == 200 and suggestions.json()["suggestions"]

    resp = httpx.post(
        f"{replica_b}/api/agent/conversations/{conv}/messages",
        json={"text": "您好，我是客服"},
        headers=headers,
        timeout=10,
    )
    assert resp.status_code == 200
    seen = transcript(replica_a, conv, visitor)
    assert seen["state"] == "agent"
    assert "您好，我是客服" in [m["text"] for m in seen["messages"] if m["sender"] == "agent"]

    resp = httpx.post(f"{replica_b}/api/agent/conversations/{conv}/close", headers=headers, timeout=10)
    assert resp.status_code == 200
    rated = say(replica_a, visitor, "/csat 4")
    assert rated["state"] == "closed" and rated["replies"]
    back = say(replica_a, visitor, "退款多久能到账？")
    assert back["state"] == "bot"
    assert "工作日" in "".join(r["text"] for r in back["replies"])
    httpx.put(f"{replica_b}/api/agent/status", json={"status": "offline"}, headers=headers, timeout=30)


def test_a_killed_replica_loses_no_queued_conversation_or_message(stack: Stack) -> None:
    replica_a, replica_b = stack.service_urls
    visitor = uuid.uuid4().hex
    first = say(replica_a, visitor, "帮我写一首诗，关于大海")
    conv = first["conversation_id"]
    assert first["state"] == "queued"
    acknowledged = say(replica_a, visitor, "我还在等")
    stack.kill_service(0)  # SIGKILL: no shutdown code runs
    try:
        seen = transcript(replica_b, conv, visitor)
        texts = [m["text"] for m in seen["messages"] if m["sender"] == "customer"]
        assert texts == ["帮我写一首诗，关于大海", "我还在等"]
        assert acknowledged["message_id"] in [m["id"] for m in seen["messages"]]
        headers = agent(stack, "failover-agent", max_concurrent=50)
        httpx.put(f"{replica_b}/api/agent/status", json={"status": "online"}, headers=headers, timeout=30)
        mine = httpx.get(f"{replica_b}/api/agent/conversations", headers=headers, timeout=10).json()
        assert conv in [c["id"] for c in mine["conversations"]]  # still queued in Redis, now assigned
        httpx.put(f"{replica_b}/api/agent/status", json={"status": "offline"}, headers=headers, timeout=30)
    finally:
        stack.restart_service(0)


def _read(ws: Any, sink: list[dict[str, Any]]) -> None:
    try:
        for raw in ws:
            sink.append(json.loads(raw))
    except Exception:  # the socket closes when the test leaves the with-block
        return


def _wait(predicate: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")
