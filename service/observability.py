"""Operators' view of the service: a request id on every request and log line, JSON logs, and
Prometheus metrics at ``GET /metrics``.

- Request id: taken from ``X-Request-Id`` when it is a sane token (1-64 of ``A-Za-z0-9._-``),
  else a new one; answered in ``X-Request-Id``; every log line written while the request runs
  carries it (a ``contextvars`` variable, so concurrent requests never mix).
- Logs: one JSON object per line (``service.logs``) when ``KEFU_LOG_FORMAT`` is ``json`` (the
  default). The id goes on to the bot in the message's metadata (``core.request_id``), and the
  action server logs its lines under it.
- Metrics (text format 0.0.4, per replica; scrape each): request count by route, method and
  status; request latency histogram by route; unhandled errors; and, read at scrape time, queue
  length and longest wait per group, agents online, alerts raised by type and alerts active.
  ``KEFU_METRICS_TOKEN``, when set, must come as a bearer token.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, text
from sqlalchemy import func, select

from core import request_id
from core.errors import Unauthenticated
from service.deps import Deps
from service.metrics import Metrics, esc
from supervision.tables import Alert


def install(app: Sanic[Any, Any], deps: Deps, metrics_token: str = "") -> Metrics:
    metrics = deps.metrics

    async def start(request: Request) -> None:
        request.ctx.request_id, request.ctx.token = request_id.adopt(request.headers.get("x-request-id"))
        request.ctx.started = time.perf_counter()

    async def finish(request: Request, response: HTTPResponse) -> None:
        given = getattr(request.ctx, "request_id", "")
        if given:
            response.headers["X-Request-Id"] = given
        started = getattr(request.ctx, "started", None)
        if started is not None:
            route = request.route.path if request.route else "unmatched"
            metrics.observe(
                "/" + route.lstrip("/"), request.method, response.status, time.perf_counter() - started
            )

    app.register_middleware(start, "request")
    app.register_middleware(finish, "response")  # type: ignore[arg-type]

    bp = Blueprint("metrics")

    @bp.get("/metrics")
    async def scrape(request: Request) -> HTTPResponse:
        if metrics_token:
            header = request.headers.get("authorization", "")
            if not hmac.compare_digest(header.encode(), f"Bearer {metrics_token}".encode()):
                raise Unauthenticated("a metrics token is required", code="missing_token")
        lines = metrics.render() + await live_gauges(deps)
        return text("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4; charset=utf-8")

    app.blueprint(bp)
    return metrics


async def live_gauges(deps: Deps) -> list[str]:
    queue = deps.desk.queue
    lines = [
        "# HELP kefu_queue_length Conversations waiting per group.",
        "# TYPE kefu_queue_length gauge",
    ]
    waits = [
        "# HELP kefu_queue_oldest_wait_seconds Longest wait per group.",
        "# TYPE kefu_queue_oldest_wait_seconds gauge",
    ]
    for group in await queue.groups():
        stats = await queue.stats(group)
        lines.append(f'kefu_queue_length{{group="{esc(group)}"}} {stats.length}')
        waits.append(f'kefu_queue_oldest_wait_seconds{{group="{esc(group)}"}} {stats.oldest_wait:.1f}')
    online = len(await deps.desk.presence.candidates(None))
    lines += [
        *waits,
        "# HELP kefu_agents_online Agents whose status is online.",
        "# TYPE kefu_agents_online gauge",
        f"kefu_agents_online {online}",
        "# HELP kefu_alerts_raised_total Alerts raised, by type (all replicas, from SQL).",
        "# TYPE kefu_alerts_raised_total counter",
    ]
    async with deps.sessions() as session:
        by_type = (await session.execute(select(Alert.type, func.count()).group_by(Alert.type))).all()
        active = await session.scalar(select(func.count()).where(Alert.active_key.is_not(None)))
    lines += [f'kefu_alerts_raised_total{{type="{esc(t)}"}} {n}' for t, n in sorted(by_type)]
    lines += [
        "# HELP kefu_alerts_active Alerts whose condition still holds.",
        "# TYPE kefu_alerts_active gauge",
        f"kefu_alerts_active {int(active or 0)}",
    ]
    return lines
