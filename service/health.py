"""GET /healthz: every component the message path needs, each with a yes or no."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

Check = Callable[[], Awaitable[bool]]


async def _run(check: Check) -> bool:
    try:
        return await asyncio.wait_for(check(), timeout=4)
    except Exception:  # a failing check is a "down" component, never an error page
        return False


def create_blueprint(checks: Mapping[str, Check]) -> Blueprint:
    bp = Blueprint("health")

    @bp.get("/healthz")
    async def healthz(request: Request) -> HTTPResponse:
        names = list(checks)
        results = await asyncio.gather(*(_run(checks[n]) for n in names))
        components = {n: ("up" if ok else "down") for n, ok in zip(names, results, strict=True)}
        ok = all(results)
        return json(
            {"status": "ok" if ok else "degraded", "components": components},
            status=200 if ok else 503,
        )

    return bp
