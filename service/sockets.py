"""What every long-lived staff socket does: re-check its session and role as it runs."""

from __future__ import annotations

from sanic import Websocket

from core.errors import Unauthenticated
from handoff.auth import Sessions, SocketGrant, Staff


async def still_allowed(ws: Websocket, sessions: Sessions, grant: SocketGrant, role: str) -> Staff | None:
    """The staff member now, or None after closing the socket: 4401 when the session ended
    (logout everywhere, account disabled), 4403 when the role was taken away."""
    try:
        staff = await sessions.still_valid(grant)
    except Unauthenticated:
        await ws.close(code=4401, reason="session ended")
        return None
    if not staff.may(role):
        await ws.close(code=4403, reason="role changed")
        return None
    return staff
