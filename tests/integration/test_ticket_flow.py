"""After hours on the real system: the customer's request becomes a ticket with its number, an
agent's reply on the ticket reaches the customer, and an SLA breach raises an alert."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import redis.asyncio as aioredis

from core.settings import ROOT
from store.engine import create_engine, session_factory
from tests.support import visitors
from tests.support.stack import Stack
from tickets import keys
from tickets.alerts import sweep_sla

pytestmark = pytest.mark.integration


def closed_today() -> str:
    """Open around the clock except today (Shanghai): closed now, yet SLA deadlines exist."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    days = "\n".join(f'  {d}: ["00:00-24:00"]' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    return f"timezone: Asia/Shanghai\nweekly:\n{days}\noverrides:\n  '{today}': closed\n"


def _login(stack: Stack, name: str) -> dict[str, str]:
    return stack.staff(name)


async def _alerts_after_sweep(stack: Stack, at: datetime) -> list[dict[str, Any]]:
    client = aioredis.Redis.from_url(stack.env["REDIS_URL"], decode_responses=True)
    engine = create_engine(stack.env["DATABASE_URL"])
    pubsub = client.pubsub()
    await pubsub.subscribe(keys.sla_alerts())
    try:
        await sweep_sla(session_factory(engine), client, at)
        received = []
        for _ in range(50):
            item = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if item:
                received.append(json.loads(item["data"]))
        return received
    finally:
        await pubsub.aclose()
        await client.aclose()
        await engine.dispose()


def test_after_hours_request_becomes_a_ticket_and_the_reply_reaches_the_customer(
    stack: Stack, tmp_path: Path
) -> None:
    closed = tmp_path / "closed.yaml"
    closed.write_text(closed_today(), encoding="utf-8")
    assert stack.kefu("hours", "set", str(closed), "--group", "general", "--mode", "ticket").returncode == 0
    try:
        visitor = uuid.uuid4().hex
        resp = httpx.post(
            f"{stack.service_url}/api/web/messages",
            json={"visitor_id": visitor, "text": "帮我写一首诗", "lang": "zh"},
            timeout=60,
        )
        body = resp.json()
        assert body["state"] == "ticket", body
        text = "".join(r["text"] for r in body["replies"])
        number = re.search(r"T\d{8}-\d{4}", text)
        assert number, text  # the customer is told the ticket number

        headers = _login(stack, "ticket-agent")
        found = httpx.get(f"{stack.service_url}/api/tickets/{number.group(0)}", headers=headers, timeout=10)
        assert found.status_code == 200, found.text
        replied = httpx.post(
            f"{stack.service_url}/api/tickets/{number.group(0)}/replies",
            json={"text": "您好，诗歌创作不在我们的服务范围内。"},
            headers=headers,
            timeout=10,
        )
        assert replied.status_code in (200, 201), replied.text
        seen = httpx.get(
            f"{stack.service_url}/api/web/conversations/{body['conversation_id']}/messages",
            headers={visitors.HEADER: body["visitor_token"]},
            timeout=10,
        ).json()
        assert "您好，诗歌创作不在我们的服务范围内。" in [m["text"] for m in seen["messages"]]

        alerts = asyncio.run(_alerts_after_sweep(stack, datetime.now(UTC) + timedelta(days=30)))
        assert any(a.get("ticket") == number.group(0) and a["level"] == "breached" for a in alerts), alerts
    finally:
        demo_hours = (ROOT / "demo" / "hours.yaml").as_posix()
        assert stack.kefu("hours", "set", demo_hours, "--group", "general").returncode == 0
