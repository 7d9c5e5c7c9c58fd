"""Wiring of the WeCom channels: callbacks in, bot replies and staff messages out."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
import redis.asyncio as aioredis
from sanic import Blueprint

from connectors.base import InboundHandler
from connectors.wecom import (
    AppApi,
    KfApi,
    MessageDedup,
    WeComAppIngest,
    WeComClient,
    WeComCrypto,
    WeComKfIngest,
    create_app_blueprint,
    create_kf_blueprint,
)
from kefu.http import LazySession
from kefu.settings import WeComSettings
from kefu.types import Channel, InboundMessage, OutboundMessage

log = logging.getLogger(__name__)


def _msgid(message_id: int | str) -> str:
    """A client msgid per stored message, so a resend after a crash is deduplicated by WeCom."""
    return f"kefu{message_id}"


class KfSender:
    def __init__(self, api: KfApi) -> None:
        self._api = api

    async def send(self, message: OutboundMessage) -> None:
        await self._api.send_text(
            message.channel_user_id, message.entry_point, message.text, msgid=_msgid(message.message_id)
        )


class AppSender:
    def __init__(self, api: AppApi) -> None:
        self._api = api

    async def send(self, message: OutboundMessage) -> None:
        await self._api.send_text(message.channel_user_id, message.text)


@dataclass
class WeComWiring:
    blueprints: list[Blueprint] = field(default_factory=list)
    senders: dict[Channel, Any] = field(default_factory=dict)


def _client(http: LazySession, redis: aioredis.Redis, settings: WeComSettings, secret: str) -> WeComClient:
    session = cast(aiohttp.ClientSession, http)  # LazySession offers the request() the client uses
    return WeComClient(session, redis, settings.corp_id, secret, base_url=settings.api_base)


def build(
    settings: WeComSettings, redis: aioredis.Redis, http: LazySession, handler: InboundHandler
) -> WeComWiring:
    wiring = WeComWiring()
    if settings.kf_enabled:
        kf_api = KfApi(_client(http, redis, settings, settings.kf_secret))
        kf_sender = KfSender(kf_api)

        async def on_kf(msg: InboundMessage) -> None:
            result = await handler.handle(msg)
            for reply in result.replies:  # a duplicate resends the stored replies; msgid dedups
                await kf_sender.send(_reply(msg, reply.text, reply.message_id))

        crypto = WeComCrypto(settings.kf_token, settings.kf_aes_key, settings.corp_id)
        ingest = WeComKfIngest(kf_api, redis, MessageDedup(redis, "kf"))
        wiring.blueprints.append(create_kf_blueprint(crypto, ingest, on_kf))
        wiring.senders[Channel.WECOM_KF] = kf_sender
    if settings.app_enabled:
        app_api = AppApi(_client(http, redis, settings, settings.app_secret), int(settings.app_agent_id or 0))
        app_sender = AppSender(app_api)

        async def on_app(msg: InboundMessage) -> None:
            result = await handler.handle(msg)
            for reply in result.replies:
                await app_sender.send(_reply(msg, reply.text, reply.message_id))

        crypto = WeComCrypto(settings.app_token, settings.app_aes_key, settings.corp_id)
        wiring.blueprints.append(
            create_app_blueprint(crypto, WeComAppIngest(MessageDedup(redis, "app")), on_app)
        )
        wiring.senders[Channel.WECOM_APP] = app_sender
    return wiring


def _reply(msg: InboundMessage, text: str, message_id: int) -> OutboundMessage:
    return OutboundMessage(
        conversation_id="",
        channel=msg.channel,
        channel_user_id=msg.channel_user_id,
        text=text,
        message_id=str(message_id),
        entry_point=msg.entry_point,
    )
