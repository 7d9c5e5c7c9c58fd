"""Per-customer Redis locks (key family kefu:lock:customer:*, written only here)."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.lock import Lock

from conversations import keys


class RedisLocks:
    def __init__(self, client: aioredis.Redis, timeout: float = 60.0, wait: float = 30.0) -> None:
        self._client = client
        self._timeout = timeout
        self._wait = wait

    def __call__(self, channel: str, channel_user_id: str) -> Lock:
        return self._client.lock(
            keys.conversation_lock(channel, channel_user_id),
            timeout=self._timeout,
            blocking_timeout=self._wait,
        )
