"""Staff sessions: opaque bearer tokens kept in Redis (only their hash), with roles.

Key family ``kefu:session:*`` is written only here.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from functools import wraps
from typing import Any, TypeVar

import redis.asyncio as aioredis
from sanic import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import Forbidden, Unauthenticated
from handoff import keys
from handoff.login_throttle import LoginThrottle
from handoff.passwords import verify_password
from handoff.tables import User

SESSION_TTL = 12 * 3600
# Who may do what: a supervisor can do everything an agent can, an admin everything.
ROLE_GRANTS: dict[str, frozenset[str]] = {
    "agent": frozenset({"agent"}),
    "supervisor": frozenset({"agent", "supervisor"}),
    "editor": frozenset({"editor"}),
    "admin": frozenset({"agent", "supervisor", "editor", "admin"}),
}


@dataclass(frozen=True)
class Staff:
    user_id: int
    username: str
    role: str

    def may(self, role: str) -> bool:
        return role in ROLE_GRANTS.get(self.role, frozenset())


def _token_key(token: str) -> str:
    return keys.session_token(hashlib.sha256(token.encode()).hexdigest())


class Sessions:
    def __init__(
        self,
        redis: aioredis.Redis,
        sessions: async_sessionmaker[AsyncSession],
        throttle: LoginThrottle | None = None,
    ) -> None:
        self._redis = redis
        self._sessions = sessions
        self._throttle = throttle or LoginThrottle(redis)

    async def login(self, username: str, password: str, ip: str = "") -> tuple[str, Staff]:
        """A new session; ``RateLimited`` after too many failed tries for the account or ``ip``."""
        await self._throttle.attempt(username, ip)
        async with self._sessions() as session:
            user = await session.scalar(select(User).where(User.username == username))
        # Verify even for unknown users so timing does not tell which usernames exist.
        stored = user.password_hash if user else "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA"
        # scrypt takes tens of milliseconds of CPU: in a thread, so customer sockets keep flowing.
        if not await asyncio.to_thread(verify_password, password, stored) or user is None:
            raise Unauthenticated("wrong username or password", code="bad_credentials")
        await self._throttle.succeeded(username, ip)
        staff = Staff(user.id, user.username, user.role)
        token = secrets.token_urlsafe(32)
        await self._redis.set(_token_key(token), json.dumps(asdict(staff)), ex=SESSION_TTL)
        return token, staff

    async def logout(self, token: str) -> None:
        await self._redis.delete(_token_key(token))

    async def resolve(self, token: str) -> Staff:
        raw = await self._redis.get(_token_key(token))
        if raw is None:
            raise Unauthenticated("the session has expired or is invalid", code="invalid_token")
        return Staff(**json.loads(raw))


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("an Authorization: Bearer token is required", code="missing_token")
    return token.strip()


Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


def require_role(sessions: Sessions, roles: Sequence[str]) -> Callable[[Handler], Handler]:
    """Decorator for a route: 401 without a valid token, 403 for a role that is not allowed."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
            staff = await sessions.resolve(bearer_token(request))
            if not any(staff.may(role) for role in roles):
                raise Forbidden(f"this needs the {' or '.join(roles)} role", code="forbidden_role")
            request.ctx.staff = staff
            return await handler(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
