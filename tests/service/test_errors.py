"""The one error handler: what the service answers for failures that are not the client's."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from sanic import Sanic
from sqlalchemy.exc import OperationalError

from service import errors


def app_that_raises(exc: Exception) -> Sanic[Any, Any]:
    Sanic.test_mode = True
    app: Sanic[Any, Any] = Sanic(f"errors_{id(exc)}")
    errors.install(app)

    @app.get("/boom")
    async def boom(request: Any) -> None:
        raise exc

    return app


async def test_a_busy_database_is_a_503_to_retry_not_a_500() -> None:
    """Found by the soak: SQLite shared by two replicas past its busy timeout answered 500."""
    locked = OperationalError("UPDATE outbox ...", {}, sqlite3.OperationalError("database is locked"))
    _, resp = await app_that_raises(locked).asgi_client.get("/boom")
    assert resp.status == 503 and resp.headers["retry-after"] == "1"
    assert json.loads(resp.body)["error"]["code"] == "database_busy"
    assert "UPDATE" not in resp.text  # no SQL leaks


async def test_anything_else_is_a_500_that_says_nothing() -> None:
    _, resp = await app_that_raises(RuntimeError("secret detail")).asgi_client.get("/boom")
    assert resp.status == 500 and resp.json == {"error": {"code": "internal", "message": "internal error"}}
