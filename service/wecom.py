"""Wiring of the WeCom channels: callbacks in, and the outbox's senders for 微信客服 and the app.

A callback's sync only stores the customer's messages (the switchboard); every reply goes out
through the outbox (``conversations.outbox``) with the stored message's id as WeCom's msgid, so
a resend is refused by WeCom as a repeated msgid and counted as delivered. The kf accounts are
also re-synced on a timer (``KF_RESYNC_SECONDS``), not only when a callback arrives.

With ``WECOM_KF_SERVICERS`` a 微信客服 conversation taken by a mapped agent moves to WeCom's
state 3 (``KfSessions``, the desk's ChannelSessions): the agent answers in the WeCom client, and
``ServicerTranscript`` keeps those messages (sync_msg origin 5) in the Kefu transcript.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, cast

import aiohttp
import redis.asyncio as aioredis
from sanic import Blueprint
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import InboundHandler
from connectors.wecom import (
    UNKNOWN_SERVICER,
    AppApi,
    KfApi,
    KfMessage,
    MessageDedup,
    ReplayGuard,
    ServicerSessions,
    WeComAppIngest,
    WeComClient,
    WeComCrypto,
    WeComKfIngest,
    WeComSendRuleError,
    create_app_blueprint,
    create_kf_blueprint,
)
from conversations import repo
from conversations.channel_cursors import SqlCursorStore
from conversations.channel_sessions import ChannelSessions
from conversations.http import LazySession
from conversations.tables import Conversation, Message
from core.background import pause, repeat
from core.errors import Undeliverable
from core.sending import ChannelSender
from core.settings import WeComSettings
from core.types import Channel, InboundMessage, OutboundMessage

log = logging.getLogger(__name__)


def _msgid(message_id: int | str) -> str:
    """A client msgid per stored message, so a resend after a crash is deduplicated by WeCom."""
    return f"kefu{message_id}"


SESSION_NOT_WITH_API = 95018  # kf/send_msg: the session is not in state 0/1


class EventPublisher(Protocol):
    async def message_added(self, conversation_id: str, message: Message) -> None: ...


class KfSender:
    """kf/send_msg; while a WeCom servicer holds the session, staff messages cannot go out:
    a system notice is skipped (logged), an agent reply is refused (the desk tells the agent).
    A send rule refusal (95xxx) will not change by retrying: the outbox marks it dead."""

    def __init__(self, api: KfApi, servicers: ServicerSessions) -> None:
        self._api = api
        self._servicers = servicers

    async def send(self, message: OutboundMessage) -> None:
        open_kfid, user = message.entry_point, message.channel_user_id
        if message.sender != "bot" and await self._servicers.holder(open_kfid, user):
            if message.sender == "agent":
                raise WeComSendRuleError(
                    SESSION_NOT_WITH_API, "a WeCom servicer holds the session", api="kf/send_msg"
                )
            log.info("notice %s not sent: a WeCom servicer holds the session", message.message_id)
            return
        try:
            await self._api.send_text(user, open_kfid, message.text, msgid=_msgid(message.message_id))
        except WeComSendRuleError as exc:
            if exc.errcode == SESSION_NOT_WITH_API:
                await self._servicers.refused(open_kfid, user)
            raise Undeliverable(exc.message, code=exc.code) from exc


class KfSessions:
    """ChannelSessions for 微信客服: agents mapped to WeCom servicers answer in the WeCom client."""

    def __init__(self, servicers: ServicerSessions, mapping: Mapping[str, str]) -> None:
        self._servicers = servicers
        self._mapping = dict(mapping)

    def can_hold(self, agent_username: str) -> bool:
        return agent_username in self._mapping

    async def holder(self, conv: Conversation) -> str:
        held = await self._servicers.holder(conv.entry_point, conv.channel_user_id)
        return "unknown" if held == UNKNOWN_SERVICER else held

    async def took_over(self, conv: Conversation, agent_username: str) -> None:
        servicer = self._mapping.get(agent_username, "")
        held = await self._servicers.holder(conv.entry_point, conv.channel_user_id)
        if not servicer:
            if held:  # WeCom moves a servicer's session only to another servicer (3 -> 3 / 4)
                log.warning(
                    "conversation %s: %s has no WeCom servicer id; WeCom keeps it", conv.id, agent_username
                )
            return
        if held == servicer:
            return
        if await self._servicers.hand_to(conv.entry_point, conv.channel_user_id, servicer):
            log.info("conversation %s: WeCom session handed to the servicer of %s", conv.id, agent_username)
        else:
            log.warning("conversation %s stays with the API: the WeCom hand-over failed", conv.id)

    async def ended(self, conv: Conversation) -> None:
        if not await self._servicers.end(conv.entry_point, conv.channel_user_id):
            log.warning("conversation %s: WeCom did not end the servicer session", conv.id)


class ServicerTranscript:
    """Stores what a servicer typed in the WeCom client as an agent message of the customer's
    latest conversation (once per WeCom msgid); nothing is sent back to WeCom."""

    def __init__(
        self, db: async_sessionmaker[AsyncSession], events: EventPublisher, mapping: Mapping[str, str]
    ) -> None:
        self._db = db
        self._events = events
        self._usernames = {userid: username for username, userid in mapping.items()}

    async def __call__(self, msg: KfMessage) -> None:
        async with self._db.begin() as session:
            conv = await session.scalar(
                select(Conversation)
                .where(
                    Conversation.channel == Channel.WECOM_KF,
                    Conversation.channel_user_id == msg.external_userid,
                )
                .order_by(Conversation.created_at.desc())
                .limit(1)
            )
            if conv is None:
                log.warning("a servicer message %s for a customer Kefu has not seen; skipped", msg.msgid)
                return
            if await self._stored(session, conv.id, msg.msgid):
                return
            payload = {
                "agent": self._usernames.get(msg.servicer_userid, ""),
                "wecom_servicer": msg.servicer_userid,
            }
            message = repo.add_message(
                session, conv.id, "agent", msg.text or "", payload=payload, client_message_id=msg.msgid
            )
            await session.flush()
        await self._events.message_added(conv.id, message)

    async def _stored(self, session: AsyncSession, conversation_id: str, msgid: str) -> bool:
        found = await session.scalar(
            select(Message.id).where(
                Message.conversation_id == conversation_id,
                Message.sender == "agent",
                Message.client_message_id == msgid,
            )
        )
        return found is not None


class AppSender:
    """message/send has no client msgid: a deliverer that dies between the send and recording
    it may send that one message again."""

    def __init__(self, api: AppApi) -> None:
        self._api = api

    async def send(self, message: OutboundMessage) -> None:
        await self._api.send_text(message.channel_user_id, message.text)


KF_RESYNC_SECONDS = 60.0


@dataclass
class WeComWiring:
    blueprints: list[Blueprint] = field(default_factory=list)
    senders: dict[Channel, ChannelSender] = field(default_factory=dict)
    sessions: dict[Channel, ChannelSessions] = field(default_factory=dict)
    resync: Callable[[], Awaitable[None]] | None = None

    def background(
        self, stop: asyncio.Event, interval: float = KF_RESYNC_SECONDS
    ) -> list[asyncio.Task[None]]:
        """The timed kf re-sync (every replica may run it: a Redis lock serialises each account)."""
        if self.resync is None:
            return []
        return [asyncio.create_task(_every(self.resync, stop, interval), name="wecom_kf_resync")]


async def _every(job: Callable[[], Awaitable[None]], stop: asyncio.Event, interval: float) -> None:
    """``job`` every ``interval`` seconds, the first time one interval after start."""
    await pause(stop, interval)
    await repeat(job, stop, interval, log=log, what="timed WeCom job")


def _client(http: LazySession, redis: aioredis.Redis, settings: WeComSettings, secret: str) -> WeComClient:
    session = cast(aiohttp.ClientSession, http)  # LazySession offers the request() the client uses
    return WeComClient(session, redis, settings.corp_id, secret, base_url=settings.api_base)


def build(
    settings: WeComSettings,
    redis: aioredis.Redis,
    http: LazySession,
    handler: InboundHandler,
    db: async_sessionmaker[AsyncSession],
    events: EventPublisher,
) -> WeComWiring:
    wiring = WeComWiring()
    if settings.kf_enabled:
        kf_api = KfApi(_client(http, redis, settings, settings.kf_secret))
        servicers = ServicerSessions(kf_api, redis)
        kf_sender = KfSender(kf_api, servicers)
        mapping = dict(settings.kf_servicers)

        async def on_kf(msg: InboundMessage) -> None:
            await handler.handle(msg)  # stores it; the replies go out through the outbox

        crypto = WeComCrypto(settings.kf_token, settings.kf_aes_key, settings.corp_id)
        ingest = WeComKfIngest(
            kf_api,
            redis,
            MessageDedup(redis, "kf"),
            on_servicer=ServicerTranscript(db, events, mapping),
            cursors=SqlCursorStore(db),
        )
        wiring.blueprints.append(create_kf_blueprint(crypto, ingest, on_kf, ReplayGuard(redis, "kf")))
        wiring.resync = lambda: ingest.resync(on_kf)
        wiring.senders[Channel.WECOM_KF] = kf_sender
        wiring.sessions[Channel.WECOM_KF] = KfSessions(servicers, mapping)
    if settings.app_enabled:
        app_api = AppApi(_client(http, redis, settings, settings.app_secret), int(settings.app_agent_id or 0))
        app_sender = AppSender(app_api)

        async def on_app(msg: InboundMessage) -> None:
            await handler.handle(msg)  # stores it; the replies go out through the outbox

        crypto = WeComCrypto(settings.app_token, settings.app_aes_key, settings.corp_id)
        wiring.blueprints.append(
            create_app_blueprint(
                crypto, WeComAppIngest(MessageDedup(redis, "app")), on_app, ReplayGuard(redis, "app")
            )
        )
        wiring.senders[Channel.WECOM_APP] = app_sender
    return wiring
