"""The app channel's side of ``conversations.outbound.ChannelSender``: a message to a queued job."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol

from connectors.app.users import app_user
from connectors.app.webhook import AppMessage
from core.app_clients import AppClient
from core.types import OutboundMessage

log = logging.getLogger(__name__)


class Enqueuer(Protocol):
    async def send(
        self, client: AppClient, user_id: str, conversation_id: str, message: AppMessage
    ) -> str: ...


class AppChannelSender:
    """``app_of(conversation_id)`` names the conversation's app (its ``entry_point``)."""

    def __init__(
        self,
        sender: Enqueuer,
        clients: Mapping[str, AppClient],
        app_of: Callable[[str], Awaitable[str | None]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sender = sender
        self._clients = clients
        self._app_of = app_of
        self._clock = clock

    async def send(self, message: OutboundMessage) -> None:
        if message.sender == "bot":
            return  # the answer to the app's own request: it travelled in that HTTP response
        app_id = await self._app_of(message.conversation_id)
        client = self._clients.get(app_id or "")
        if client is None:
            log.warning(
                "conversation %s: app %r is not configured; not delivered", message.conversation_id, app_id
            )
            return
        created_at = message.created_at or datetime.fromtimestamp(self._clock(), UTC).isoformat()
        app_message = AppMessage(message.message_id, message.sender, message.text, created_at)
        user_id = app_user(client.app_id, message.channel_user_id)
        await self._sender.send(client, user_id, message.conversation_id, app_message)
