"""The access_token cache shared by replicas (key families kefu:wecom:token and :token-lock).

A token is cached until a margin before WeCom's ``expires_in``; a refresh happens under a
Redis lock, and whoever gets the lock second finds the fresh token already cached.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import LockError

from connectors.wecom import keys
from connectors.wecom.errors import WeComUnavailable

# Delete the key only if it still holds the token that failed (another replica may have refreshed).
_DELETE_IF_EQUAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


def cache_seconds(expires_in: int, margin: int) -> int:
    """How long to keep a token: ``margin`` seconds short of its expiry, never under 1 s."""
    if expires_in > 2 * margin:
        return expires_in - margin
    return max(expires_in // 2, 1)


class AccessTokens:
    def __init__(
        self,
        client: aioredis.Redis,
        credential: str,
        fetch: Callable[[], Awaitable[IssuedToken]],
        *,
        margin_seconds: int = 300,
        lock_timeout: float = 30.0,
        lock_wait: float = 20.0,
    ) -> None:
        self._client = client
        self._key = keys.access_token(credential)
        self._lock_key = keys.access_token_lock(credential)
        self._fetch = fetch
        self._margin = margin_seconds
        self._lock_timeout = lock_timeout
        self._lock_wait = lock_wait

    async def get(self) -> str:
        cached = await self._cached()
        if cached:
            return cached
        return await self._refresh()

    async def invalidate(self, stale: str) -> None:
        """Forget ``stale`` if it is still the cached token; a fresher one is kept."""
        await self._client.eval(_DELETE_IF_EQUAL, 1, self._key, stale)

    async def _cached(self) -> str | None:
        value = await self._client.get(self._key)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    async def _refresh(self) -> str:
        lock = self._client.lock(self._lock_key, timeout=self._lock_timeout, blocking_timeout=self._lock_wait)
        try:
            async with lock:
                cached = await self._cached()
                if cached:
                    return cached
                issued = await self._fetch()
                ttl = cache_seconds(issued.expires_in, self._margin)
                await self._client.set(self._key, issued.access_token, ex=ttl)
                return issued.access_token
        except LockError as exc:
            raise WeComUnavailable("timed out waiting for another access_token refresh") from exc
