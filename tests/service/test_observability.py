"""Operators: a request id on every response and log line, JSON log lines, Prometheus metrics."""

from __future__ import annotations

import json
import logging

from sanic_testing.testing import SanicASGITestClient

from core.request_id import REQUEST_ID
from service.deps import Deps
from service.logs import JsonFormatter
from tests.service.test_agent_api import say, staff_member


async def test_a_request_id_is_kept_or_made_and_answered(client: SanicASGITestClient) -> None:
    _, resp = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert resp.headers["x-request-id"] == "abc-123"
    _, resp = await client.get("/healthz", headers={"X-Request-Id": "bad id\nwith newline"})
    made = resp.headers["x-request-id"]
    assert made != "bad id\nwith newline" and len(made) == 32


def test_log_lines_are_json_with_the_request_id() -> None:
    record = logging.LogRecord("kefu.x", logging.WARNING, __file__, 1, "queue %s is long", ("general",), None)
    token = REQUEST_ID.set("req-7")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line["level"] == "WARNING" and line["message"] == "queue general is long"
    assert line["request_id"] == "req-7" and line["logger"] == "kefu.x"


async def test_metrics_count_requests_and_read_the_queues(client: SanicASGITestClient, deps: Deps) -> None:
    await say(client, "metrics-cust", "帮我写一首诗")  # queued in "general"
    await client.get("/healthz")
    _, resp = await client.get("/metrics")
    assert resp.status == 200 and resp.headers["content-type"].startswith("text/plain")
    body = resp.text
    assert 'kefu_http_requests_total{route="/api/web/messages",method="POST",status="200"} 1' in body
    assert 'kefu_http_request_duration_seconds_count{route="/api/web/messages"} 1' in body
    assert 'kefu_queue_length{group="general"} 1' in body
    assert "kefu_agents_online 0" in body and "kefu_alerts_active" in body
    assert 'kefu_bot_request_duration_seconds_count{outcome="ok"} 1' in body
    assert "kefu_assignments_total{" not in body  # nobody has been given a conversation yet

    alice = await staff_member(client, deps, "alice", skills=["general"])
    await client.put("/api/agent/status", json={"status": "online"}, headers=alice)  # takes it
    _, resp = await client.get("/metrics")
    assert 'kefu_assignments_total{kind="assigned"} 1' in resp.text
    assert 'kefu_queue_length{group="general"} 0' in resp.text
