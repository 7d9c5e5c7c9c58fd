"""SLA alerts for supervisors: a target at risk or breached is published once on Redis pub/sub.

"Once" is per ticket, target (first_response / resolution) and level (at_risk / breached): the
alert is recorded as a TicketEvent "sla_alert" in the same transaction that decides it, and
published after the commit. A Redis lock keeps two replicas from sweeping at the same time.
Pending, solved and closed tickets are not swept (their clocks stand still or are done).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.background import repeat
from core.clock import utc_now
from tickets import keys, store
from tickets.sla import SlaState
from tickets.tables import Ticket
from tickets.views import current_sla

log = logging.getLogger(__name__)

ALERT_LEVELS = (SlaState.AT_RISK, SlaState.BREACHED)
DEFAULT_WARN_BEFORE = timedelta(minutes=30)
DEFAULT_INTERVAL = 60.0


@dataclass(frozen=True)
class SlaAlert:
    number: str
    target: str  # first_response | resolution
    level: str  # at_risk | breached
    due: datetime
    priority: str
    group: str
    assignee_id: int | None
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "sla_alert",
            "ticket": self.number,
            "target": self.target,
            "level": self.level,
            "due": self.due.isoformat(),
            "priority": self.priority,
            "group": self.group,
            "assignee_id": self.assignee_id,
            "at": self.at.isoformat(),
        }


def _alerts_of(ticket: Ticket, now: datetime, warn_before: timedelta) -> list[SlaAlert]:
    status = current_sla(ticket, now, warn_before)
    if status is None:
        return []
    targets = (
        ("first_response", status.first_response, ticket.first_response_due),
        ("resolution", status.resolution, ticket.resolution_due),
    )
    return [
        SlaAlert(
            ticket.number,
            target,
            state,
            store.aware(due),
            ticket.priority,
            ticket.group,
            ticket.assignee_id,
            now,
        )
        for target, state, due in targets
        if state in ALERT_LEVELS and due is not None
    ]


async def record_new_alerts(session: AsyncSession, now: datetime, warn_before: timedelta) -> list[SlaAlert]:
    """Find at-risk and breached targets not alerted before; record each as an "sla_alert" event."""
    tickets = await store.tickets_due(session, now + warn_before)
    seen = await store.alerts_recorded(session, [ticket.id for ticket in tickets])
    fresh: list[SlaAlert] = []
    for ticket in tickets:
        for alert in _alerts_of(ticket, now, warn_before):
            if (ticket.id, alert.target, alert.level) in seen:
                continue
            data = {"target": alert.target, "level": alert.level, "due": alert.due.isoformat()}
            store.add_event(session, ticket, store.SLA_ALERT, "system", data, now)
            fresh.append(alert)
    return fresh


async def sweep_sla(
    session_factory: async_sessionmaker[AsyncSession],
    redis: aioredis.Redis,
    now: datetime,
    warn_before: timedelta = DEFAULT_WARN_BEFORE,
    *,
    lock_timeout: float = 60.0,
) -> list[SlaAlert]:
    """One sweep: record and publish the new alerts (none if another replica is sweeping)."""
    lock = redis.lock(keys.sla_sweep_lock(), timeout=lock_timeout, blocking=False)
    if not await lock.acquire():
        return []
    try:
        async with session_factory.begin() as session:
            fresh = await record_new_alerts(session, now, warn_before)
        for alert in fresh:
            await redis.publish(keys.sla_alerts(), json.dumps(alert.to_json(), ensure_ascii=False))
        return fresh
    finally:
        await lock.release()


async def run_sla_sweeper(
    stop_event: asyncio.Event,
    interval: float = DEFAULT_INTERVAL,
    *,
    session_factory: async_sessionmaker[AsyncSession],
    redis: aioredis.Redis,
    warn_before: timedelta = DEFAULT_WARN_BEFORE,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Sweep every ``interval`` seconds until ``stop_event`` is set; a failed sweep is logged."""

    async def sweep() -> None:
        alerts = await sweep_sla(session_factory, redis, clock(), warn_before)
        if alerts:
            log.info("raised %d SLA alert(s)", len(alerts))

    await repeat(sweep, stop_event, interval, log=log, what="SLA sweep")
