"""Supervision on the running system (two replicas, real Rasa): an agent's reply with a
forbidden word reaches a supervisor's socket on the other replica as an alert within a second;
the supervisor's socket says the floor changed when a customer queues."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.support.stack import Stack

pytestmark = pytest.mark.integration


def _read(ws: Any, sink: list[tuple[float, dict[str, Any]]]) -> None:
    try:
        for raw in ws:
            sink.append((time.monotonic(), json.loads(raw)))
    except Exception:
        return


def _wait(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_forbidden_word_reaches_the_supervisor_socket_within_a_second(stack: Stack) -> None:
    replica_a, replica_b = stack.service_urls
    word = f"滚{uuid.uuid4().hex[:4]}"
    added = stack.kefu("quality", "words", "add", "forbidden", word, "--lang", "zh")
    assert added.returncode == 0, added.stderr
    boss = stack.staff("floor-boss", role="supervisor", replica=0)
    agent = stack.staff("rude-agent", skills="general", max_concurrent=50, replica=1)
    ticket = httpx.post(f"{replica_a}/api/auth/ws-ticket", headers=boss, timeout=10).json()["ticket"]
    events: list[tuple[float, dict[str, Any]]] = []
    with connect(
        replica_a.replace("http://", "ws://") + f"/api/supervisor/ws?ticket={ticket}", open_timeout=10
    ) as ws:
        threading.Thread(target=_read, args=(ws, events), daemon=True).start()
        time.sleep(0.5)  # the socket has subscribed
        visitor = uuid.uuid4().hex
        first = httpx.post(
            f"{replica_a}/api/web/messages",
            json={"visitor_id": visitor, "text": "帮我写一首诗", "lang": "zh"},
            timeout=60,
        ).json()
        conv = first["conversation_id"]
        assert first["state"] == "queued"
        _wait(lambda: any(e.get("type") == "floor_changed" for _, e in events))  # the queue grew

        httpx.put(f"{replica_b}/api/agent/status", json={"status": "online"}, headers=agent, timeout=30)
        mine = httpx.get(f"{replica_b}/api/agent/conversations", headers=agent, timeout=10).json()
        assert conv in [c["id"] for c in mine["conversations"]]
        sent_at = time.monotonic()
        resp = httpx.post(
            f"{replica_b}/api/agent/conversations/{conv}/messages",
            json={"text": f"你给我{word}"},
            headers=agent,
            timeout=10,
        )
        assert resp.status_code == 200
        _wait(
            lambda: any(
                e.get("type") == "alert" and e["alert"]["conversation_id"] == conv for _, e in events
            ),
            5,
        )
        arrived, alert = next(
            (t, e) for t, e in events if e.get("type") == "alert" and e["alert"]["conversation_id"] == conv
        )
        assert alert["alert"]["type"] == "forbidden_word" and word in alert["message_zh"]
        assert arrived - sent_at < 1.0, f"the alert took {arrived - sent_at:.2f} s"
    listed = httpx.get(f"{replica_b}/api/supervisor/alerts", headers=boss, timeout=10).json()["alerts"]
    assert any(a["conversation_id"] == conv and a["type"] == "forbidden_word" for a in listed)
    httpx.post(f"{replica_b}/api/agent/conversations/{conv}/close", headers=agent, timeout=10)
    httpx.put(f"{replica_b}/api/agent/status", json={"status": "offline"}, headers=agent, timeout=30)
