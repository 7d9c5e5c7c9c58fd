"""Limits on the public web channel, in Redis so every replica counts together.

- per address: every request under ``/api/web/`` (messages, transcripts, CSAT, socket opens);
- per visitor: customer messages (``POST /api/web/messages``), so one visitor cannot keep Rasa
  busy for everybody else;
- per visitor: open WebSockets (``SocketSlots``), so nobody exhausts Redis connections and file
  handles. A slot is a member of a sorted set with a lease (``SOCKET_LEASE`` seconds, refreshed
  while the socket lives); a replica that dies leaves slots that lapse with their lease.

Over a limit: 429 ``rate_limited`` with ``Retry-After``; a socket over the cap is refused before
the upgrade the same way (and, if two replicas race, closed with code 4429 after it). Fixed
one-minute windows (INCR + EXPIRE NX). Key family ``kefu:rate:*`` is written only here.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import redis.asyncio as aioredis
from sanic import Request, Sanic

from connectors.visitor_token import HEADER, VisitorTokens
from connectors.web import socket_token
from core.errors import RateLimited
from core.settings import RateLimitSettings

WINDOW = 60
SOCKET_LEASE = 120.0


def _key(scope: str, subject: str) -> str:
    return f"kefu:rate:{scope}:{hashlib.sha256(subject.encode()).hexdigest()[:32]}"


class PublicLimits:
    def __init__(
        self,
        redis: aioredis.Redis,
        limits: RateLimitSettings,
        tokens: VisitorTokens,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._limits = limits
        self._tokens = tokens
        self._clock = clock

    async def hit(self, scope: str, subject: str, limit: int) -> None:
        """Count one request; ``RateLimited`` once ``subject`` is over ``limit`` in this window."""
        if limit <= 0:
            return
        key = _key(scope, subject)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, WINDOW, nx=True)
            pipe.ttl(key)
            count, _, ttl = await pipe.execute()
        if int(count) > limit:
            raise RateLimited(
                "too many requests, please slow down", retry_after=int(ttl) if int(ttl) > 0 else WINDOW
            )

    async def check(self, request: Request) -> None:
        """The middleware's check of one public request (before any handler or upgrade)."""
        await self.hit("ip", request.remote_addr or request.ip or "-", self._limits.ip_requests_per_minute)
        if request.path == "/api/web/messages" and request.method == "POST":
            visitor = self._tokens.visitor_of(request.headers.get(HEADER)) or _claimed_visitor(request)
            if visitor:
                await self.hit("visitor", visitor, self._limits.visitor_messages_per_minute)
        elif request.path == "/api/web/ws":
            visitor = self._tokens.visitor_of(socket_token(request))
            if visitor and await self.sockets_open(visitor) >= self._limits.sockets_per_visitor > 0:
                raise RateLimited("too many open connections for this visitor", retry_after=int(SOCKET_LEASE))

    async def sockets_open(self, visitor_id: str) -> int:
        key = _key("ws", visitor_id)
        await self._redis.zremrangebyscore(key, "-inf", self._clock())
        return int(await self._redis.zcard(key))

    @contextlib.asynccontextmanager
    async def socket(self, visitor_id: str) -> AsyncIterator[None]:
        """Hold one of the visitor's socket slots while the socket is open (its lease refreshed
        in the background); ``RateLimited`` when the visitor already holds all of them."""
        cap = self._limits.sockets_per_visitor
        key, slot = _key("ws", visitor_id), uuid.uuid4().hex

        async def refresh() -> None:
            await self._redis.zadd(key, {slot: self._clock() + SOCKET_LEASE})
            await self._redis.expire(key, int(SOCKET_LEASE) * 2)

        async def keep_alive() -> None:
            while True:
                await asyncio.sleep(SOCKET_LEASE / 3)
                await refresh()

        await refresh()
        keeper = asyncio.create_task(keep_alive())
        try:
            if cap > 0 and await self.sockets_open(visitor_id) > cap:
                raise RateLimited("too many open connections for this visitor", retry_after=int(SOCKET_LEASE))
            yield
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await self._redis.zrem(key, slot)


def _claimed_visitor(request: Request) -> str | None:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    visitor = body.get("visitor_id") if isinstance(body, dict) else None
    return visitor if isinstance(visitor, str) and 0 < len(visitor) <= 64 else None


def install(app: Sanic[Any, Any], limits: PublicLimits) -> None:
    @app.on_request
    async def limit_public_traffic(request: Request) -> None:
        if request.path.startswith("/api/web/"):
            await limits.check(request)
