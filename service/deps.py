"""The service's collaborators, built from settings without opening any connection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from conversations.botclient import RasaClient
from conversations.desk import Desk, build_desk
from conversations.http import LazySession
from conversations.locks import RedisLocks
from conversations.outbound import Outbound
from conversations.outbox import Deliverer
from conversations.realtime import RedisEvents, SocketSender
from conversations.reconcile import Reconciler
from conversations.suggest import Suggester
from conversations.switchboard import Switchboard
from conversations.transcripts import SqlTranscripts
from core.settings import Settings
from core.types import Channel
from handoff.assigner import Assigner
from handoff.auth import Sessions
from handoff.events import HandoffEvents
from handoff.floor_settings import FloorSettingsReader
from handoff.presence import Presence
from handoff.queue import HandoffQueue
from handoff.repair import EngineRepair
from knowledge.live import published_version
from knowledge.mirror import KnowledgeMirror
from service.metrics import Metrics, TimedBot
from store.engine import create_engine, session_factory
from supervision.wiring import Supervision, build_supervision


@dataclass
class Deps:
    settings: Settings
    redis: aioredis.Redis
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bot: RasaClient
    events: RedisEvents
    switchboard: Switchboard
    transcripts: SqlTranscripts
    staff_sessions: Sessions
    http: LazySession
    outbound: Outbound
    desk: Desk
    suggester: Suggester
    metrics: Metrics = field(default_factory=Metrics)
    reconcile_at_start: bool = True  # rebuild the handoff engine's Redis state before serving
    reconcile_settle: float = 1.0  # seconds between the reconciler's two looks at a difference
    supervision: Supervision = field(init=False)
    knowledge_mirror: KnowledgeMirror = field(init=False)

    def __post_init__(self) -> None:
        self.knowledge_mirror = KnowledgeMirror(self.sessions, self.settings.knowledge_dir)
        self.supervision = build_supervision(
            self.sessions,
            self.redis,
            self.desk.presence,
            self.desk.queue,
            self.http,
            webhook_secret=self.settings.alert_webhook_secret,
            routed_groups=self.desk.routing.routed_groups,
        )
        self.desk.agents.observers.append(self.supervision.inspector)
        self.desk.routing.observers.append(self.supervision.inspector)

    def reconciler(self) -> Reconciler:
        return Reconciler(
            self.sessions,
            EngineRepair(self.redis),
            self.desk.assignments,
            self.desk.queue,
            settle=self.reconcile_settle,
        )

    async def close(self) -> None:
        await self.http.close()
        await self.redis.aclose()
        await self.engine.dispose()

    def health_checks(self) -> dict[str, Callable[[], Awaitable[bool]]]:
        return {
            "redis": self._redis_up,
            "database": self._db_up,
            "rasa": self.bot.healthy,
            "actions": self._actions_up,
            "knowledge": self._knowledge_up,
        }

    async def _redis_up(self) -> bool:
        return bool(await self.redis.ping())

    async def _db_up(self) -> bool:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def _actions_up(self) -> bool:
        async with self.http.get(
            f"{self.settings.actions_url}/health", timeout=aiohttp.ClientTimeout(total=3)
        ) as resp:
            return bool(resp.status == 200)

    async def _knowledge_up(self) -> bool:
        return published_version(self.settings.knowledge_dir) is not None


def connect_redis(url: str) -> aioredis.Redis:
    """A client that reconnects through a Redis restart or failover: a command that finds its
    pooled connection closed is sent again on a new one (with backoff), not failed."""
    return aioredis.Redis.from_url(
        url,
        decode_responses=True,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), retries=5),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )


def build_deps(settings: Settings) -> Deps:
    client = connect_redis(settings.redis_url)
    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    sessions = session_factory(engine)
    http = LazySession()
    bot = RasaClient(http, settings.rasa_url, settings.bot_timeout, settings.rasa_token)
    events = RedisEvents(client)
    outbound = Outbound(Deliverer(sessions, {Channel.WEB: SocketSender(events)}))
    handoff_events = HandoffEvents(client)
    queue = HandoffQueue(client, events=handoff_events)
    presence = Presence(client)
    floor_settings = FloorSettingsReader(sessions, client)
    assigner = Assigner(client, presence, queue, events=handoff_events, policy_source=floor_settings.policies)
    desk = build_desk(sessions, queue, presence, assigner, handoff_events, outbound, floor_settings)
    metrics = Metrics()
    desk.assignments.on_assigned = metrics.assigned
    switchboard = Switchboard(
        sessions,
        TimedBot(bot, metrics),
        RedisLocks(client),
        desk.routing,
        desk.csat,
        events,
        outbound,
        segment_turns=settings.bot_segment_turns,
    )
    return Deps(
        settings,
        client,
        engine,
        sessions,
        bot,
        events,
        switchboard,
        SqlTranscripts(sessions, queue.position),
        Sessions(client, sessions),
        http,
        outbound,
        desk,
        Suggester(sessions, settings.knowledge_dir),
        metrics=metrics,
    )
