"""The service's app factory. Wiring (settings, logging) happens only in ``__main__``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sanic import Sanic

from connectors import web
from connectors.visitor_token import VisitorTokens
from conversations.reconcile import reconcile_once
from core.background import repeat
from core.clock import utc_now
from knowledge.config import IndexConfig
from service import (
    admin_routes,
    agent_routes,
    app_channel,
    auth_routes,
    customer_routes,
    editor_routes,
    errors,
    floor_settings_routes,
    headers,
    health,
    hours_routes,
    identity_routes,
    knowledge_routes,
    observability,
    openapi,
    pages,
    rate_limits,
    staff_routes,
    supervisor_routes,
    ticket_routes,
    wecom,
)
from service.deps import Deps
from tickets.alerts import run_sla_sweeper


def create_app(
    deps: Deps,
    name: str = "kefu",
    *,
    clock: Callable[[], datetime] | None = None,
) -> Sanic[Any, Any]:
    """``clock`` (tests) fixes "now" for tickets and business hours."""
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.router.register_pattern("id", row_id, r"^[0-9]{1,15}$")
    app.ctx.deps = deps
    errors.install(app)
    headers.install(app)
    observability.install(app, deps, deps.settings.metrics_token)
    app.blueprint(health.create_blueprint(deps.health_checks()))
    visitor_tokens = VisitorTokens(deps.settings.secret_key)
    public_limits = rate_limits.PublicLimits(deps.redis, deps.settings.rate_limits, visitor_tokens)
    rate_limits.install(app, public_limits)
    app.blueprint(
        web.create_blueprint(
            deps.switchboard, deps.transcripts, deps.events, visitor_tokens, deps.transcripts, public_limits
        )
    )
    app.blueprint(auth_routes.create_blueprint(deps.staff_sessions))
    app.blueprint(
        agent_routes.create_blueprint(
            deps.staff_sessions, deps.desk, deps.sessions, deps.suggester, deps.events
        )
    )
    app.blueprint(
        customer_routes.create_blueprint(
            deps.desk, deps.transcripts, web.VisitorGate(visitor_tokens), deps.transcripts
        )
    )
    clock = clock or utc_now
    app.blueprint(
        ticket_routes.create_blueprint(deps.staff_sessions, deps.sessions, deps.outbound, clock=clock)
    )
    app.blueprint(hours_routes.create_blueprint(deps.staff_sessions, deps.sessions, clock=clock))
    channels = wecom.build(
        deps.settings.wecom, deps.redis, deps.http, deps.switchboard, deps.sessions, deps.events
    )
    for blueprint in channels.blueprints:
        app.blueprint(blueprint)
    for channel, sender in channels.senders.items():
        deps.outbound.register(channel, sender)
    for channel, channel_sessions in channels.sessions.items():
        deps.desk.assignments.register_sessions(channel, channel_sessions)
    app.blueprint(identity_routes.create_blueprint(deps.staff_sessions, deps.sessions))
    app.blueprint(admin_routes.create_blueprint(deps.staff_sessions, deps.redis))
    app.blueprint(
        knowledge_routes.create_blueprint(
            deps.staff_sessions,
            deps.sessions,
            deps.redis,
            deps.settings.knowledge_dir,
            config=IndexConfig.for_model(deps.settings.knowledge_model),
            on_published=deps.metrics.published,
        )
    )
    app.blueprint(
        supervisor_routes.create_blueprint(
            deps.staff_sessions,
            deps.sessions,
            deps.redis,
            deps.supervision,
            timezone=deps.settings.business_timezone,
        )
    )
    app.blueprint(supervisor_routes.create_cases_blueprint(deps.staff_sessions, deps.sessions))
    app.blueprint(
        floor_settings_routes.create_blueprint(deps.staff_sessions, deps.sessions, deps.desk.floor_settings)
    )
    app.blueprint(
        supervisor_routes.create_reports_blueprint(
            deps.staff_sessions, deps.sessions, timezone=deps.settings.business_timezone
        )
    )
    app.blueprint(supervisor_routes.create_admin_blueprint(deps.staff_sessions, deps.sessions))
    app.blueprint(staff_routes.create_blueprint(deps.staff_sessions, deps.sessions, deps.desk.assignments))
    app.blueprint(
        editor_routes.create_blueprint(
            deps.staff_sessions,
            deps.sessions,
            deps.settings.knowledge_dir,
            config=IndexConfig.for_model(deps.settings.knowledge_model),
            clock=clock,
        )
    )
    app.blueprint(
        customer_routes.feedback_blueprint(deps.sessions, deps.transcripts, web.VisitorGate(visitor_tokens))
    )
    app_channel.install(app, deps, deps.settings.app_clients)
    app.blueprint(openapi.create_blueprint())
    app.blueprint(pages.create_blueprint(site_keys=deps.settings.site_keys))

    @app.before_server_start
    async def start_background(app: Sanic[Any, Any]) -> None:
        if deps.reconcile_at_start:
            await reconcile_handoff(deps)
        await sync_knowledge(deps)
        app.ctx.stop = asyncio.Event()
        app.ctx.background = [
            asyncio.create_task(
                run_sla_sweeper(
                    app.ctx.stop, 60.0, session_factory=deps.sessions, redis=deps.redis, clock=clock
                ),
                name="sla_sweeper",
            ),
            asyncio.create_task(sweep_presence(deps, app.ctx.stop), name="presence_sweeper"),
            asyncio.create_task(deps.outbound.deliverer.run(app.ctx.stop), name="outbox"),
            asyncio.create_task(
                deps.supervision.monitor.run(app.ctx.stop, deps.settings.alert_interval), name="alert_monitor"
            ),
            asyncio.create_task(
                deps.knowledge_mirror.run(app.ctx.stop, deps.settings.knowledge_sync_seconds),
                name="knowledge_mirror",
            ),
            *channels.background(app.ctx.stop),
        ]

    @app.before_server_stop
    async def stop_background(app: Sanic[Any, Any]) -> None:
        # Let each loop finish its turn: a task cancelled mid-query would leak its connection.
        app.ctx.stop.set()
        _, pending = await asyncio.wait(app.ctx.background, timeout=15)
        for task in pending:
            task.cancel()

    @app.after_server_stop
    async def close(app: Sanic[Any, Any]) -> None:
        await deps.close()

    return app


def row_id(raw: str) -> int:
    """A row id in a path (``<reply_id:id>``): up to 15 ASCII digits, else the route does not
    match (404). Sanic's ``int`` takes any length and sign, which SQLite cannot bind (a 500)."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 15):
        raise ValueError(raw)
    return int(raw)


async def sync_knowledge(deps: Deps) -> None:
    """Install the active knowledge version before serving, so a new host with an empty knowledge
    folder answers from its first request; a failure is logged, the background sync retries."""
    try:
        version = await deps.knowledge_mirror.sync_once()
    except Exception:
        logging.getLogger(__name__).exception("syncing the knowledge folder at start-up failed")
        return
    logging.getLogger(__name__).info("knowledge version at start-up: %s", version)


async def reconcile_handoff(deps: Deps) -> None:
    """Rebuild the handoff engine's Redis state from SQL before serving (one replica at a time);
    a failure is logged, not fatal: ``kefu handoff reconcile`` can run it again."""
    log = logging.getLogger(__name__)
    try:
        report = await reconcile_once(deps.reconciler(), deps.redis)
    except Exception:
        log.exception("reconciling the handoff engine at start-up failed")
        return
    if report is None:
        log.info("another process is reconciling the handoff engine")
        return
    for line in report.lines():
        log.info("handoff reconcile: %s", line)


async def sweep_presence(deps: Deps, stop: asyncio.Event, interval: float = 15.0) -> None:
    """Agents whose console stopped sending heartbeats become away (any replica may sweep)."""
    await repeat(
        deps.desk.presence.sweep_presence,
        stop,
        interval,
        log=logging.getLogger(__name__),
        what="presence sweep",
    )
