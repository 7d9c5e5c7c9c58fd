"""Wiring of the mobile-app channel: signed messages in, staff messages out to the app's webhook.

Bot replies travel back in the HTTP response of ``POST /api/app/messages``; agent and system
messages (sent by the outbox, ``conversations.outbox``) are queued for the app's webhook and
delivered by a background ``DeliveryWorker`` that lives and dies with the server.
Nothing happens without configured apps.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sanic import Blueprint, Sanic
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.app import routes as app_routes
from connectors.app.delivery import AppSender, DeliveryWorker
from connectors.app.outbound import AppChannelSender
from conversations.tables import Conversation
from core.app_clients import AppClient
from core.types import Channel
from service.deps import Deps

TASK_NAME = "kefu.app_delivery"
STOP_TIMEOUT = 15.0  # the worker finishes its batch (HTTP timeout 10 s) or is cancelled


def conversation_app(sessions: async_sessionmaker[AsyncSession]) -> Callable[[str], Awaitable[str | None]]:
    """``app_of(conversation_id)``: the app an app-channel conversation came in through."""

    async def app_of(conversation_id: str) -> str | None:
        async with sessions() as session:
            conv = await session.get(Conversation, conversation_id)
        if conv is None or conv.channel != Channel.APP:
            return None
        return conv.entry_point or None

    return app_of


@dataclass(frozen=True)
class AppChannelWiring:
    blueprint: Blueprint
    sender: AppChannelSender
    new_worker: Callable[..., DeliveryWorker]


def build(deps: Deps, clients: Mapping[str, AppClient]) -> AppChannelWiring:
    """The channel's parts; opens nothing (a worker connects when it runs)."""
    return AppChannelWiring(
        blueprint=app_routes.create_blueprint(deps.switchboard, clients),
        sender=AppChannelSender(AppSender(deps.redis), clients, conversation_app(deps.sessions)),
        new_worker=lambda **options: DeliveryWorker(deps.redis, clients, **options),
    )


def install(app: Sanic[Any, Any], deps: Deps, clients: Mapping[str, AppClient]) -> None:
    """Add the app channel to ``app`` when any app is configured (``parse_app_clients``).

    A fresh delivery worker runs from each server start to the next stop (a stopped worker
    cannot be restarted, and test clients start and stop the app around every request).
    """
    if not clients:
        return
    wiring = build(deps, clients)
    app.blueprint(wiring.blueprint)
    deps.outbound.register(Channel.APP, wiring.sender)
    running: list[tuple[DeliveryWorker, asyncio.Task[None] | None]] = []

    @app.after_server_start
    async def start_delivery(app: Sanic[Any, Any]) -> None:
        if not running:
            worker = wiring.new_worker()
            running.append((worker, app.add_task(worker.run(), name=TASK_NAME)))

    @app.before_server_stop
    async def stop_delivery(app: Sanic[Any, Any]) -> None:
        if not running:
            return
        worker, task = running.pop()
        worker.stop()
        task = task or app.get_task(TASK_NAME, raise_exception=False)
        if task is not None:
            # Wait for the worker's last read to return: a read left blocked in Redis would take
            # the next job for a worker that is gone. A delivery cut short stays pending in the
            # stream and is claimed again later.
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, timeout=STOP_TIMEOUT)
