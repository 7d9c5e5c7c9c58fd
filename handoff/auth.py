"""Staff sessions: opaque bearer tokens kept in Redis (only their hash), with roles.

A session only names its user: every request reads the user's current state (enabled, role)
from SQL through a short per-process cache (``user_cache_seconds``, 10 s), so a role change
applies within seconds on every replica, and disabling an account ends its sessions at once
(they are deleted from Redis). Each user's session hashes are kept in a set, so one call logs a
user out everywhere.

The agent WebSocket cannot carry an ``Authorization`` header: the console first asks for a
one-time ticket (``issue_ws_ticket``, valid ``WS_TICKET_TTL`` seconds, stored hashed, redeemed
with ``GETDEL``) and opens the socket with it, so the session token never travels in a URL.

Key families ``kefu:session:*``, ``kefu:sessions:user:*`` and ``kefu:ws-ticket:*`` are
written only here.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
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
WS_TICKET_TTL = 30
USER_CACHE_SECONDS = 10.0
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


@dataclass(frozen=True)
class SocketGrant:
    """What a redeemed WebSocket ticket grants: the staff member and the session it came from."""

    staff: Staff
    session_hash: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _invalid() -> Unauthenticated:
    return Unauthenticated("the session has expired or is invalid", code="invalid_token")


class Sessions:
    def __init__(
        self,
        redis: aioredis.Redis,
        sessions: async_sessionmaker[AsyncSession],
        throttle: LoginThrottle | None = None,
        *,
        user_cache_seconds: float = USER_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._sessions = sessions
        self._throttle = throttle or LoginThrottle(redis)
        self._cache_seconds = user_cache_seconds
        self._clock = clock
        self._users: dict[int, tuple[float, Staff | None]] = {}

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
        if not user.enabled:
            raise Forbidden("this account is disabled", code="account_disabled")
        staff = Staff(user.id, user.username, user.role)
        self._users[user.id] = (self._clock() + self._cache_seconds, staff)
        token = secrets.token_urlsafe(32)
        token_hash = _hash(token)
        record = json.dumps({"user_id": staff.user_id, "username": staff.username, "role": staff.role})
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.session_token(token_hash), record, ex=SESSION_TTL)
            pipe.sadd(keys.user_sessions(staff.user_id), token_hash)
            pipe.expire(keys.user_sessions(staff.user_id), SESSION_TTL)
            await pipe.execute()
        return token, staff

    async def logout(self, token: str) -> None:
        token_hash = _hash(token)
        user_id = await self._user_of(token_hash)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.session_token(token_hash))
            if user_id is not None:
                pipe.srem(keys.user_sessions(user_id), token_hash)
            await pipe.execute()

    async def logout_everywhere(self, user_id: int) -> int:
        """End every session of one user (on every device); returns how many there were."""
        members = await self._redis.smembers(keys.user_sessions(user_id))
        async with self._redis.pipeline(transaction=True) as pipe:
            for token_hash in members:
                pipe.delete(keys.session_token(str(token_hash)))
            pipe.delete(keys.user_sessions(user_id))
            results = await pipe.execute()
        self._users.pop(user_id, None)
        return sum(int(r) for r in results[:-1])

    async def resolve(self, token: str) -> Staff:
        """The staff member behind a bearer token, with their current role; 401 if revoked."""
        return await self._resolve_hash(_hash(token))

    async def issue_ws_ticket(self, token: str) -> str:
        """A one-time ticket for the agent WebSocket, valid ``WS_TICKET_TTL`` seconds."""
        token_hash = _hash(token)
        await self._resolve_hash(token_hash)
        ticket = secrets.token_urlsafe(32)
        await self._redis.set(keys.ws_ticket(_hash(ticket)), token_hash, ex=WS_TICKET_TTL)
        return ticket

    async def redeem_ws_ticket(self, ticket: str) -> SocketGrant:
        """The session a ticket was issued for; the ticket works once only."""
        token_hash = await self._redis.getdel(keys.ws_ticket(_hash(ticket)))
        if token_hash is None:
            raise Unauthenticated("the ticket has expired, was used or is invalid", code="invalid_ticket")
        staff = await self._resolve_hash(str(token_hash))
        return SocketGrant(staff, str(token_hash))

    async def open_socket(self, ticket: str, role: str) -> SocketGrant:
        """A staff socket's credentials: its one-time ticket (``?ticket=``), for a ``role``."""
        if not ticket:
            raise Unauthenticated("a ticket query parameter is required", code="missing_ticket")
        grant = await self.redeem_ws_ticket(ticket)
        if not grant.staff.may(role):
            raise Unauthenticated(f"this needs the {role} role", code="forbidden_role")
        return grant

    async def still_valid(self, grant: SocketGrant) -> Staff:
        """Re-checked by a long-lived socket: the session still exists and the user may still act."""
        return await self._resolve_hash(grant.session_hash)

    async def _user_of(self, token_hash: str) -> int | None:
        raw = await self._redis.get(keys.session_token(token_hash))
        if raw is None:
            return None
        return int(json.loads(raw)["user_id"])

    async def _resolve_hash(self, token_hash: str) -> Staff:
        user_id = await self._user_of(token_hash)
        if user_id is None:
            raise _invalid()
        staff = await self._current(user_id)
        if staff is None:  # disabled or deleted meanwhile
            await self._redis.delete(keys.session_token(token_hash))
            raise _invalid()
        return staff

    async def _current(self, user_id: int) -> Staff | None:
        now = self._clock()
        cached = self._users.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self._sessions() as session:
            user = await session.get(User, user_id)
        staff = Staff(user.id, user.username, user.role) if user is not None and user.enabled else None
        self._users[user_id] = (now + self._cache_seconds, staff)
        return staff


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
