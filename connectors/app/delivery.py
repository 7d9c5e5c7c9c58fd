"""Durable, retried delivery of messages to app webhooks. The only writer of ``connectors.app.keys``.

``AppSender.send`` stores a job (hash) and appends its id to a Redis stream, in one script.
``DeliveryWorker`` reads the stream through a consumer group: an entry stays pending until the
worker settles it, so a job held by a worker that died is claimed by another (XAUTOCLAIM) once it
has been idle for ``claim_idle`` seconds. A retryable failure (connection error, timeout, 429, 5xx)
parks the job in a sorted set until its backoff is over; a final failure, or the last attempt,
moves it to the dead-letter list, from which ``redrive`` puts it back in the stream.
Delivery is at least once: the ``X-Kefu-Delivery`` header (the job id) lets the app deduplicate.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from connectors.app import keys, scripts
from connectors.app.webhook import AppMessage, AttemptResult, Outcome, RetryPolicy, post, webhook_body
from core.app_clients import AppClient
from core.background import pause
from core.errors import NotFound

log = logging.getLogger(__name__)

SENT_TTL_SECONDS = 7 * 24 * 3600


def _str(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _fields(raw: Mapping[Any, Any]) -> dict[str, str]:
    return {_str(k): _str(v) for k, v in raw.items()}


class AppSender:
    """Queues a message for an app's webhook; sending the same message id twice queues it once."""

    def __init__(
        self, redis: aioredis.Redis, clock: Callable[[], float] = time.time, sent_ttl: int = SENT_TTL_SECONDS
    ) -> None:
        self._redis = redis
        self._clock = clock
        self._sent_ttl = sent_ttl
        self._enqueue = redis.register_script(scripts.ENQUEUE)

    async def send(self, client: AppClient, user_id: str, conversation_id: str, message: AppMessage) -> str:
        """The delivery (job) id; the id of the queued job if this message was already queued."""
        if not message.id:
            raise ValueError("an app message needs its stored id")
        job_id = uuid.uuid4().hex
        job = {
            "app_id": client.app_id,
            "user_id": user_id,
            "conversation_id": conversation_id,
            "message_id": message.id,
            "payload": webhook_body(client.app_id, user_id, conversation_id, message),
            "attempts": "0",
            "created_at": repr(self._clock()),
        }
        pairs = [item for pair in job.items() for item in pair]
        result = await self._enqueue(
            keys=[keys.sent(client.app_id, message.id), keys.job(job_id), keys.stream()],
            args=[job_id, self._sent_ttl, *pairs],
        )
        return _str(result)


@dataclass(frozen=True)
class DeadLetter:
    job_id: str
    app_id: str
    user_id: str
    conversation_id: str
    message_id: str
    attempts: int
    last_status: int | None
    last_error: str
    created_at: float
    dead_at: float | None
    payload: dict[str, Any]


def _dead_letter(job_id: str, f: Mapping[str, str]) -> DeadLetter:
    return DeadLetter(
        job_id=job_id,
        app_id=f.get("app_id", ""),
        user_id=f.get("user_id", ""),
        conversation_id=f.get("conversation_id", ""),
        message_id=f.get("message_id", ""),
        attempts=int(f.get("attempts", "0")),
        last_status=int(f["last_status"]) if f.get("last_status") else None,
        last_error=f.get("last_error", ""),
        created_at=float(f.get("created_at", "0")),
        dead_at=float(f["dead_at"]) if f.get("dead_at") else None,
        payload=json.loads(f.get("payload", "{}")),
    )


async def list_dead_letters(redis: aioredis.Redis, limit: int = 50) -> list[DeadLetter]:
    """Jobs that failed for good, newest first."""
    ids = [_str(i) for i in await redis.lrange(keys.dead(), 0, max(0, limit - 1))]
    async with redis.pipeline(transaction=False) as pipe:
        for job_id in ids:
            pipe.hgetall(keys.job(job_id))
        rows = await pipe.execute()
    return [_dead_letter(job_id, _fields(row)) for job_id, row in zip(ids, rows, strict=True) if row]


async def redrive(redis: aioredis.Redis, job_id: str) -> None:
    """Queue a dead job again with a fresh attempt budget (same delivery id)."""
    script = redis.register_script(scripts.REDRIVE)
    if not await script(keys=[keys.dead(), keys.job(job_id), keys.stream()], args=[job_id]):
        raise NotFound(f"no dead letter {job_id!r}", code="dead_letter_not_found")


@dataclass(frozen=True)
class _Entry:
    entry_id: str
    job_id: str


def _entries(raw: list[Any]) -> list[_Entry]:
    return [_Entry(_str(entry_id), _str(_fields(f).get("job", ""))) for entry_id, f in raw if f is not None]


class DeliveryWorker:
    """Delivers queued jobs until ``stop()``; run several, in one process or many."""

    def __init__(
        self,
        redis: aioredis.Redis,
        clients: Mapping[str, AppClient],
        *,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
        claim_idle: float = 60.0,
        poll_interval: float = 1.0,
        batch: int = 16,
        stop_event: asyncio.Event | None = None,
        consumer: str | None = None,
    ) -> None:
        if claim_idle <= timeout:
            raise ValueError("claim_idle must exceed the request timeout, or live jobs would be stolen")
        self._redis = redis
        self._clients = clients
        self._policy = policy or RetryPolicy()
        self._clock = clock
        self._timeout = timeout
        self._claim_idle_ms = int(claim_idle * 1000)
        self._poll = poll_interval
        self._batch = batch
        self._stop = stop_event or asyncio.Event()
        self.consumer = consumer or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._group_ready = False
        self._promote = redis.register_script(scripts.PROMOTE)
        self._begin = redis.register_script(scripts.BEGIN)
        self._settle_script = redis.register_script(scripts.SETTLE)

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Loop until stopped; Redis outages and surprises are logged and waited out, never fatal."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout)) as http:
            while not self._stop.is_set():
                try:
                    await self.run_once(http)
                except RedisError as exc:
                    self._group_ready = False
                    log.warning("app delivery: redis error %s; retrying", exc)
                    await self._pause()
                except Exception:
                    # Unsettled entries stay pending and are claimed again after claim_idle.
                    log.exception("app delivery: unexpected error; retrying")
                    await self._pause()
        await self._leave()

    async def run_once(self, http: aiohttp.ClientSession) -> int:
        """Promote due retries, then deliver one batch (stale pending jobs first). Returns its size."""
        await self._ensure_group()
        await self._promote(keys=[keys.scheduled(), keys.stream()], args=[repr(self._clock()), self._batch])
        entries = await self._claim() or await self._read()
        await asyncio.gather(*(self._process(http, entry) for entry in entries))
        return len(entries)

    async def _pause(self) -> None:
        await pause(self._stop, self._poll)

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self._redis.xgroup_create(keys.stream(), keys.GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def _claim(self) -> list[_Entry]:
        raw = await self._redis.xautoclaim(
            keys.stream(), keys.GROUP, self.consumer, self._claim_idle_ms, "0-0", count=self._batch
        )
        return _entries(raw[1])

    async def _read(self) -> list[_Entry]:
        block = max(1, int(self._poll * 1000))
        raw: Any = await self._redis.xreadgroup(
            keys.GROUP, self.consumer, {keys.stream(): ">"}, count=self._batch, block=block
        )
        return [entry for _, entries in raw or [] for entry in _entries(entries)]

    async def _process(self, http: aiohttp.ClientSession, entry: _Entry) -> None:
        fields = _fields(await self._redis.hgetall(keys.job(entry.job_id)))
        if not fields:
            await self._settle(entry, AttemptResult(Outcome.FINAL), action="drop")
            return
        if int(fields.get("attempts", "0")) >= self._policy.max_attempts:
            error = f"gave up after {fields.get('attempts')} attempts; last: {fields.get('last_error', '')}"
            await self._settle(entry, AttemptResult(Outcome.FINAL, None, error))
            return
        attempt = int(await self._begin(keys=[keys.job(entry.job_id)]))
        if attempt < 0:
            await self._settle(entry, AttemptResult(Outcome.FINAL), action="drop")
            return
        client = self._clients.get(fields.get("app_id", ""))
        if client is None:
            result = AttemptResult(Outcome.FINAL, None, f"app {fields.get('app_id')!r} is not configured")
        else:
            body = fields.get("payload", "").encode("utf-8")
            result = await post(http, client, entry.job_id, attempt, body, self._clock())
        if result.outcome is Outcome.RETRY and attempt >= self._policy.max_attempts:
            result = AttemptResult(Outcome.FINAL, result.status, result.error)
        await self._settle(entry, result, attempt=attempt)

    async def _settle(
        self, entry: _Entry, result: AttemptResult, *, action: str = "", attempt: int = 0
    ) -> None:
        now = self._clock()
        due = now + self._policy.delay(attempt)
        action = action or str(result.outcome)
        if result.outcome is not Outcome.DELIVERED and action != "drop":
            log.warning("app delivery %s attempt %d: %s (%s)", entry.job_id, attempt, action, result.error)
        await self._settle_script(
            keys=[keys.stream(), keys.job(entry.job_id), keys.scheduled(), keys.dead()],
            args=[
                keys.GROUP,
                entry.entry_id,
                entry.job_id,
                action,
                "" if result.status is None else result.status,
                result.error,
                repr(due),
                repr(now),
            ],
        )

    async def _leave(self) -> None:
        """On a clean stop, remove this consumer from the group if it holds nothing."""
        try:
            pending = await self._redis.xpending_range(
                keys.stream(), keys.GROUP, "-", "+", 1, consumername=self.consumer
            )
            if not pending:
                await self._redis.xgroup_delconsumer(keys.stream(), keys.GROUP, self.consumer)
        except RedisError as exc:
            log.warning("app delivery: could not leave the consumer group: %s", exc)
