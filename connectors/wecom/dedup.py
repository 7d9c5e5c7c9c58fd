"""Handle each WeCom message once: a SET NX with a TTL per message id (key family kefu:wecom:seen)."""

from __future__ import annotations

import redis.asyncio as aioredis

from connectors.wecom import keys

# sync_msg serves the last 3 days; a day more covers retries around the edge.
DEFAULT_TTL_SECONDS = 4 * 24 * 3600


class MessageDedup:
    def __init__(self, client: aioredis.Redis, scope: str, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        self._client = client
        self._scope = scope
        self._ttl = ttl_seconds

    async def first_time(self, msgid: str) -> bool:
        """True exactly once per message id within the TTL, across replicas."""
        created = await self._client.set(keys.seen_message(self._scope, msgid), "1", nx=True, ex=self._ttl)
        return bool(created)

    async def seen(self, msgid: str) -> bool:
        """Whether the message was handled already (check only; ``mark`` records it)."""
        return bool(await self._client.exists(keys.seen_message(self._scope, msgid)))

    async def mark(self, msgid: str) -> None:
        await self._client.set(keys.seen_message(self._scope, msgid), "1", ex=self._ttl)

    async def forget(self, msgid: str) -> None:
        """Let a message be handled again (after its handling failed)."""
        await self._client.delete(keys.seen_message(self._scope, msgid))
