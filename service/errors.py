"""One error handler per app: domain errors become JSON with a stable code; nothing leaks."""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError
from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse, json
from sqlalchemy.exc import OperationalError

from core.errors import KefuError, RateLimited

log = logging.getLogger(__name__)


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


async def handle_error(request: Request, exc: Exception) -> HTTPResponse:
    if isinstance(exc, KefuError):
        headers = {}
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        return json(error_body(exc.code, exc.message), status=exc.status, headers=headers)
    if isinstance(exc, LockError):
        return json(error_body("conversation_busy", "this conversation is busy, retry shortly"), status=409)
    if isinstance(exc, OperationalError):
        # SQLite busy past its timeout (two replicas on one file under load), or the database
        # unreachable: the request can be tried again; nothing was half done (one transaction)
        log.warning("database unavailable on %s %s: %s", request.method, request.path, exc.orig)
        return json(
            error_body("database_busy", "the database is busy, retry shortly"),
            status=503,
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, RedisConnectionError):
        log.error("redis unavailable on %s %s", request.method, request.path)
        return json(error_body("unavailable", "a backing service is unavailable"), status=503)
    if isinstance(exc, SanicException):
        status = exc.status_code
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            status, "bad_request"
        )
        return json(error_body(code, str(exc.message or code).splitlines()[0][:200]), status=status)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return json(error_body("internal", "internal error"), status=500)


def install(app: Sanic[Any, Any]) -> None:
    app.error_handler.add(Exception, handle_error)
