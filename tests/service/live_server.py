"""The service app on a real socket in the test's own event loop, for WebSocket tests
(the ASGI test client cannot pass a query string to a WebSocket)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

from sanic import Sanic


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def serve(app: Sanic[Any, Any]) -> AsyncIterator[str]:
    """Yields the ``http://127.0.0.1:<port>`` the app listens on."""
    port = _free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    server_any: Any = server  # sanic's AsyncioServer is untyped
    server = server_any
    await server.startup()
    await server.before_start()
    await server.after_start()
    task = asyncio.create_task(server.serve_forever())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await server.after_stop()
