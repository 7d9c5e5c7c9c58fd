"""Replayed callbacks are refused: a signed callback counts only near its own timestamp, and once.

The signature covers ``timestamp`` and ``nonce``, so an attacker who captured a callback can
resend it but not restamp it. A timestamp more than ``window`` from now is refused (403
``stale_callback``); within the window each (timestamp, nonce) is remembered with a SET NX
(key family kefu:wecom:nonce) until the timestamp leaves the window, so a second delivery is
recognised. Tencent's own retries (no "success" within 5 s) resend the same request: they are
answered "success" and not handled again, which is what the retry wants.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis.asyncio as aioredis

from connectors.wecom import keys
from connectors.wecom.errors import StaleCallback, WeComPayloadError

DEFAULT_WINDOW_SECONDS = 300
MAX_NONCE_LENGTH = 64


class ReplayGuard:
    def __init__(
        self,
        client: aioredis.Redis,
        scope: str,
        window_seconds: int = DEFAULT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._scope = scope
        self._window = window_seconds
        self._clock = clock

    async def first_time(self, timestamp: str, nonce: str) -> bool:
        """True for the first delivery of a fresh, verified callback; False for a repeat.

        Raises ``StaleCallback`` when the timestamp is outside the window."""
        if not timestamp.isdigit() or len(timestamp) > 12:
            raise WeComPayloadError("the timestamp is not a Unix time", code="invalid_timestamp")
        if len(nonce) > MAX_NONCE_LENGTH:
            raise WeComPayloadError("the nonce is too long", code="invalid_nonce")
        if abs(self._clock() - int(timestamp)) > self._window:
            raise StaleCallback("the callback timestamp is outside the accepted window")
        # Kept for two windows: longer than a timestamp from the future can stay acceptable.
        created = await self._client.set(
            keys.callback_nonce(self._scope, timestamp, nonce), "1", nx=True, ex=2 * self._window
        )
        return bool(created)

    async def forget(self, timestamp: str, nonce: str) -> None:
        """Accept this (timestamp, nonce) once more: its callback could not be handled, and
        WeCom's retry of it must not be taken for a replay."""
        await self._client.delete(keys.callback_nonce(self._scope, timestamp, nonce))
