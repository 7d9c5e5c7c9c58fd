"""One signed POST of a delivery to an app's webhook, and what its result means for retries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import aiohttp

from connectors.app.signing import APP_HEADER, DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from core.app_clients import AppClient

ATTEMPT_HEADER = "X-Kefu-Attempt"


@dataclass(frozen=True)
class AppMessage:
    """A stored message as the app receives it."""

    id: str
    sender: str
    text: str
    created_at: str


def webhook_body(app_id: str, user_id: str, conversation_id: str, message: AppMessage) -> str:
    payload: dict[str, Any] = {
        "app_id": app_id,
        "user_id": user_id,
        "conversation_id": conversation_id,
        "message": {
            "id": message.id,
            "sender": message.sender,
            "text": message.text,
            "created_at": message.created_at,
        },
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``base_delay * factor**(n-1)`` after the n-th failed attempt."""

    base_delay: float = 1.0
    max_attempts: int = 6
    factor: float = 2.0
    max_delay: float = 600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay < 0 or self.factor < 1:
            raise ValueError("RetryPolicy needs max_attempts >= 1, base_delay >= 0 and factor >= 1")

    def delay(self, attempts_made: int) -> float:
        return float(min(self.max_delay, self.base_delay * self.factor ** max(0, attempts_made - 1)))


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FINAL = "final"


@dataclass(frozen=True)
class AttemptResult:
    outcome: Outcome
    status: int | None = None
    error: str = ""


def classify(status: int) -> AttemptResult:
    """2xx is delivered; 429 and 5xx may pass; any other answer will not change by retrying."""
    if 200 <= status < 300:
        return AttemptResult(Outcome.DELIVERED, status)
    if status == 429 or status >= 500:
        return AttemptResult(Outcome.RETRY, status, f"HTTP {status}")
    return AttemptResult(Outcome.FINAL, status, f"HTTP {status}")


def signed_headers(
    client: AppClient, delivery_id: str, attempt: int, body: bytes, now: float
) -> dict[str, str]:
    timestamp = str(int(now))
    return {
        "Content-Type": "application/json; charset=utf-8",
        APP_HEADER: client.app_id,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(client.secret, timestamp, body),
        DELIVERY_HEADER: delivery_id,
        ATTEMPT_HEADER: str(attempt),
    }


async def post(
    http: aiohttp.ClientSession, client: AppClient, delivery_id: str, attempt: int, body: bytes, now: float
) -> AttemptResult:
    """POST once; connection errors and timeouts are worth a retry, like a 5xx."""
    headers = signed_headers(client, delivery_id, attempt, body, now)
    try:
        async with http.post(client.webhook_url, data=body, headers=headers, allow_redirects=False) as resp:
            await resp.read()
            return classify(resp.status)
    except (TimeoutError, aiohttp.ClientError) as exc:
        return AttemptResult(Outcome.RETRY, None, f"{type(exc).__name__}: {exc}"[:300])
