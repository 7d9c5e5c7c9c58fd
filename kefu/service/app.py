"""The service's app factory. Wiring (settings, logging) happens only in ``__main__``."""

from __future__ import annotations

from typing import Any

from sanic import Sanic

from connectors import web
from kefu.service import agent_routes, auth_routes, customer_routes, errors, health, pages, wecom
from kefu.service.deps import Deps


def create_app(deps: Deps, name: str = "kefu") -> Sanic[Any, Any]:
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.ctx.deps = deps
    errors.install(app)
    app.blueprint(health.create_blueprint(deps.health_checks()))
    app.blueprint(web.create_blueprint(deps.switchboard, deps.transcripts, deps.events))
    app.blueprint(auth_routes.create_blueprint(deps.staff_sessions))
    app.blueprint(
        agent_routes.create_blueprint(deps.staff_sessions, deps.desk, deps.sessions, deps.suggester)
    )
    app.blueprint(customer_routes.create_blueprint(deps.desk, deps.transcripts))
    channels = wecom.build(deps.settings.wecom, deps.redis, deps.http, deps.switchboard)
    for blueprint in channels.blueprints:
        app.blueprint(blueprint)
    for channel, sender in channels.senders.items():
        deps.outbound.register(channel, sender)
    app.blueprint(pages.create_blueprint())

    @app.after_server_stop
    async def close(app: Sanic[Any, Any]) -> None:
        await deps.close()

    return app
