"""Alert webhooks: a signed POST per alert, retried with backoff.

Every request carries ``X-Kefu-Timestamp`` and ``X-Kefu-Signature`` (hex HMAC-SHA256 of
``"<timestamp>.<body>"`` with ``KEFU_ALERT_WEBHOOK_SECRET``), so a receiver can check it came
from Kefu. A WeCom group robot URL (``qyapi.weixin.qq.com/cgi-bin/webhook/send``) gets the
robot's own text message format (it authenticates by the key in its URL and ignores the
headers); any other URL gets the alert as JSON. A 2xx answer (and, for WeCom, ``errcode`` 0)
counts as delivered; anything else is retried after 1, 2, 4, 8 s, then given up and logged.
Retries live in the process that raised the alert: a restart in that window drops them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any, Protocol

import aiohttp

from supervision.alerts import alert_json, render
from supervision.tables import Alert

log = logging.getLogger(__name__)

DELAYS = (1.0, 2.0, 4.0, 8.0)
WECOM_ROBOT = "qyapi.weixin.qq.com/cgi-bin/webhook/send"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def body_for(url: str, alert: Alert, lang: str = "zh") -> dict[str, Any]:
    if WECOM_ROBOT in url:
        return {"msgtype": "text", "text": {"content": f"[Kefu] {render(alert.type, alert.data, lang)}"}}
    return {"alert": alert_json(alert, lang)}


class Poster(Protocol):
    def post(self, url: str, **kwargs: Any) -> Any: ...


class Webhooks:
    def __init__(
        self,
        http: Poster,
        secret: str,
        *,
        delays: tuple[float, ...] = DELAYS,
        timeout: float = 5.0,
    ) -> None:
        self._http = http
        self._secret = secret
        self._delays = delays
        self._timeout = timeout
        self._tasks: set[asyncio.Task[bool]] = set()

    async def notify(self, alert: Alert, url: str) -> None:
        """Start delivering in the background (the caller does not wait for the receiver)."""
        task = asyncio.create_task(self.deliver(alert, url))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, alert: Alert, url: str) -> bool:
        body = json.dumps(body_for(url, alert), ensure_ascii=False).encode()
        for attempt, delay in enumerate((0.0, *self._delays)):
            if delay:
                await asyncio.sleep(delay)
            if await self._post(url, body):
                return True
            log.warning("alert %s webhook attempt %d failed", alert.id, attempt + 1)
        log.error("alert %s webhook gave up after %d attempts", alert.id, len(self._delays) + 1)
        return False

    async def _post(self, url: str, body: bytes) -> bool:
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Kefu-Timestamp": stamp,
            "X-Kefu-Signature": sign(self._secret, stamp, body),
        }
        try:
            async with self._http.post(
                url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=self._timeout)
            ) as resp:
                if not 200 <= resp.status < 300:
                    return False
                if WECOM_ROBOT in url:
                    answer = await resp.json(content_type=None)
                    return isinstance(answer, dict) and answer.get("errcode") == 0
                return True
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return False
