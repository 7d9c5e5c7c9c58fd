"""The supervision collaborators, built together (the service's ``Deps`` holds one)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.presence import Presence
from handoff.queue import HandoffQueue
from supervision.alerts import Alerts
from supervision.floor import Floor
from supervision.monitor import Monitor
from supervision.quality import QualityInspector
from supervision.webhook import Poster, Webhooks


@dataclass
class Supervision:
    floor: Floor
    alerts: Alerts
    monitor: Monitor
    inspector: QualityInspector
    webhooks: Webhooks


def build_supervision(
    sessions: async_sessionmaker[AsyncSession],
    redis: aioredis.Redis,
    presence: Presence,
    queue: HandoffQueue,
    http: Poster,
    *,
    webhook_secret: str,
    routed_groups: Callable[[], Awaitable[Iterable[str]]],
) -> Supervision:
    webhooks = Webhooks(http, webhook_secret)
    alerts = Alerts(sessions, redis, notify=webhooks.notify)
    return Supervision(
        floor=Floor(sessions, presence, queue, routed_groups),
        alerts=alerts,
        monitor=Monitor(sessions, redis, queue, alerts),
        inspector=QualityInspector(sessions, alerts),
        webhooks=webhooks,
    )
