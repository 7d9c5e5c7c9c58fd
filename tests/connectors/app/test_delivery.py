"""Durable webhook delivery: real Redis, and a real aiohttp server standing in for the app backend."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectors.app import keys
from connectors.app.delivery import AppSender, DeliveryWorker, list_dead_letters, redrive
from connectors.app.webhook import AppMessage, RetryPolicy
from core.app_clients import AppClient
from core.errors import NotFound
from tests.support.processes import free_port

SECRET = "shop-secret-0123456789"
HANG = -1  # scripted status: hold the request until the test releases it


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int


class Receiver:
    """The app's webhook: answers with scripted statuses, then ``default``; records every request."""

    def __init__(self) -> None:
        self.script: list[int] = []
        self.default = 200
        self.requests: list[Received] = []
        self.release = asyncio.Event()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        status = self.script.pop(0) if self.script else self.default
        self.requests.append(Received(dict(request.headers), body, status))
        if status == HANG:
            await self.release.wait()
            status = 200
        return web.Response(status=status, text="ok")

    def delivered(self) -> list[Received]:
        return [r for r in self.requests if r.status == 200]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    rec.url = str(server.make_url("/hook"))
    try:
        yield rec
    finally:
        rec.release.set()
        await server.close()


@pytest.fixture
def shop(receiver: Receiver) -> AppClient:
    return AppClient("shop", SECRET, receiver.url)


class StartWorker(Protocol):
    def __call__(
        self, clients: dict[str, AppClient], redis: aioredis.Redis | None = None, **kwargs: Any
    ) -> tuple[DeliveryWorker, asyncio.Task[None]]: ...


@pytest.fixture
async def start_worker(receiver: Receiver, redis_client: aioredis.Redis) -> AsyncIterator[StartWorker]:
    """Starts workers with a tiny backoff; stops them (and surfaces their errors) afterwards."""
    started: list[tuple[DeliveryWorker, asyncio.Task[None]]] = []

    def start(
        clients: dict[str, AppClient], redis: aioredis.Redis | None = None, **kwargs: Any
    ) -> tuple[DeliveryWorker, asyncio.Task[None]]:
        options: dict[str, Any] = {
            "policy": RetryPolicy(base_delay=0.01, max_attempts=6),
            "poll_interval": 0.05,
            "timeout": 0.5,
            "claim_idle": 0.6,
        }
        worker = DeliveryWorker(redis or redis_client, clients, **{**options, **kwargs})
        task = asyncio.create_task(worker.run())
        started.append((worker, task))
        return worker, task

    yield start
    for worker, _ in started:
        worker.stop()
    for _, task in started:
        if not task.cancelled():
            await asyncio.wait_for(task, 10)


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def message(n: int = 1) -> AppMessage:
    return AppMessage(str(n), "agent", f"您好，第{n}条", "2024-05-01T08:00:00+00:00")


async def settled(redis: aioredis.Redis, job_id: str) -> bool:
    """The job is gone and its stream entry too: it was delivered."""
    return not await redis.exists(keys.job(job_id)) and await redis.xlen(keys.stream()) == 0


async def test_webhook_receives_a_correctly_signed_body(
    redis_client: aioredis.Redis, receiver: Receiver, shop: AppClient, start_worker: StartWorker
) -> None:
    job_id = await AppSender(redis_client).send(shop, "u-1", "c-1", message())
    start_worker({"shop": shop})
    await wait_until(lambda: settled(redis_client, job_id))
    [got] = receiver.requests
    ts = got.headers["X-Kefu-Timestamp"]
    mac = hmac.new(SECRET.encode(), f"{ts}.".encode() + got.body, hashlib.sha256).hexdigest()
    assert got.headers["X-Kefu-Signature"] == f"sha256={mac}"
    assert abs(int(ts) - time.time()) < 300
    assert got.headers["X-Kefu-App"] == "shop"
    assert got.headers["X-Kefu-Delivery"] == job_id
    assert got.headers["Content-Type"].startswith("application/json")
    assert json.loads(got.body) == {
        "app_id": "shop",
        "user_id": "u-1",
        "conversation_id": "c-1",
        "message": {
            "id": "1",
            "sender": "agent",
            "text": "您好，第1条",
            "created_at": "2024-05-01T08:00:00+00:00",
        },
    }


async def test_same_message_is_queued_once(redis_client: aioredis.Redis, shop: AppClient) -> None:
    sender = AppSender(redis_client)
    first = await sender.send(shop, "u-1", "c-1", message(1))
    again = await sender.send(shop, "u-1", "c-1", message(1))
    other = await sender.send(shop, "u-1", "c-1", message(2))
    assert first == again != other
    assert await redis_client.xlen(keys.stream()) == 2


@pytest.mark.parametrize("failures", [[500, 500], [429], [503, 502]])
async def test_retryable_failures_are_retried_until_delivered(
    redis_client: aioredis.Redis,
    receiver: Receiver,
    shop: AppClient,
    start_worker: StartWorker,
    failures: list[int],
) -> None:
    receiver.script = list(failures)
    job_id = await AppSender(redis_client).send(shop, "u-1", "c-1", message())
    start_worker({"shop": shop})
    await wait_until(lambda: settled(redis_client, job_id))
    assert [r.status for r in receiver.requests] == [*failures, 200]
    assert {r.headers["X-Kefu-Delivery"] for r in receiver.requests} == {job_id}
    assert [r.headers["X-Kefu-Attempt"] for r in receiver.requests] == [
        str(n) for n in range(1, len(failures) + 2)
    ]
    assert len({r.body for r in receiver.requests}) == 1
    assert await list_dead_letters(redis_client) == []


async def test_client_error_is_dead_lettered_at_once(
    redis_client: aioredis.Redis, receiver: Receiver, shop: AppClient, start_worker: StartWorker
) -> None:
    receiver.default = 400
    job_id = await AppSender(redis_client).send(shop, "u-1", "c-1", message())
    start_worker({"shop": shop})
    await wait_until(lambda: _has_dead(redis_client))
    [dead] = await list_dead_letters(redis_client)
    assert (dead.job_id, dead.attempts, dead.last_status) == (job_id, 1, 400)
    assert (dead.app_id, dead.user_id, dead.conversation_id, dead.message_id) == ("shop", "u-1", "c-1", "1")
    assert dead.payload["message"]["text"] == "您好，第1条"
    assert dead.dead_at is not None
    assert len(receiver.requests) == 1
    assert await redis_client.zcard(keys.scheduled()) == 0


async def _has_dead(redis: aioredis.Redis, n: int = 1) -> bool:
    return len(await list_dead_letters(redis)) >= n


async def test_always_failing_job_is_dead_lettered_then_redriven(
    redis_client: aioredis.Redis, receiver: Receiver, shop: AppClient, start_worker: StartWorker
) -> None:
    receiver.default = 500
    job_id = await AppSender(redis_client).send(shop, "u-1", "c-1", message())
    start_worker({"shop": shop}, policy=RetryPolicy(base_delay=0.01, max_attempts=3))
    await wait_until(lambda: _has_dead(redis_client))
    [dead] = await list_dead_letters(redis_client)
    assert (dead.attempts, dead.last_status, dead.last_error) == (3, 500, "HTTP 500")
    assert [r.status for r in receiver.requests] == [500, 500, 500]

    receiver.default = 200  # the app fixed its backend
    await redrive(redis_client, job_id)
    await wait_until(lambda: settled(redis_client, job_id))
    assert [r.status for r in receiver.requests] == [500, 500, 500, 200]
    assert receiver.requests[-1].headers["X-Kefu-Delivery"] == job_id
    assert receiver.requests[-1].headers["X-Kefu-Attempt"] == "1"
    assert await list_dead_letters(redis_client) == []
    with pytest.raises(NotFound):
        await redrive(redis_client, job_id)


async def test_unreachable_webhook_is_retried_then_dead_lettered(
    redis_client: aioredis.Redis, start_worker: StartWorker
) -> None:
    down = AppClient("shop", SECRET, f"http://127.0.0.1:{free_port()}/hook")
    await AppSender(redis_client).send(down, "u-1", "c-1", message())
    start_worker({"shop": down}, policy=RetryPolicy(base_delay=0.01, max_attempts=2))
    await wait_until(lambda: _has_dead(redis_client))
    [dead] = await list_dead_letters(redis_client)
    assert (dead.attempts, dead.last_status) == (2, None)
    assert "Connect" in dead.last_error


async def test_timeout_is_retried(
    redis_client: aioredis.Redis, receiver: Receiver, shop: AppClient, start_worker: StartWorker
) -> None:
    receiver.script = [HANG]
    job_id = await AppSender(redis_client).send(shop, "u-1", "c-1", message())
    start_worker({"shop": shop}, timeout=0.3)
    await wait_until(lambda: settled(redis_client, job_id))
    assert [r.status for r in receiver.requests] == [HANG, 200]


async def test_job_of_a_crashed_worker_is_delivered_by_another(
    redis_client: aioredis.Redis, receiver: Receiver, shop: AppClient, start_worker: StartWorker
) -> None:
    receiver.script = [HANG]
    job_id = await AppSender(redis_client).send(shop, "u-1", "c-1", message())
    _, first = start_worker({"shop": shop}, timeout=5.0, claim_idle=6.0)
    await wait_until(_count(receiver, 1))
    first.cancel()  # the process dies mid-request: nothing is acknowledged
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await redis_client.exists(keys.job(job_id))

    start_worker({"shop": shop})
    await wait_until(lambda: settled(redis_client, job_id))
    assert [r.status for r in receiver.requests] == [HANG, 200]
    assert [r.headers["X-Kefu-Delivery"] for r in receiver.requests] == [job_id, job_id]
    assert receiver.requests[1].headers["X-Kefu-Attempt"] == "2"


async def test_job_that_keeps_killing_workers_runs_out_of_attempts(
    redis_client: aioredis.Redis, receiver: Receiver, shop: AppClient, start_worker: StartWorker
) -> None:
    receiver.script = [HANG]
    policy = RetryPolicy(base_delay=0.01, max_attempts=1)
    await AppSender(redis_client).send(shop, "u-1", "c-1", message())
    _, first = start_worker({"shop": shop}, policy=policy, timeout=5.0, claim_idle=6.0)
    await wait_until(_count(receiver, 1))
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    start_worker({"shop": shop}, policy=policy)
    await wait_until(lambda: _has_dead(redis_client))
    [dead] = await list_dead_letters(redis_client)
    assert dead.last_error.startswith("gave up after 1 attempts")
    assert len(receiver.requests) == 1


def _count(receiver: Receiver, n: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(receiver.requests) >= n

    return check


async def test_jobs_survive_a_restart_of_the_sender_process(
    redis_url: str,
    redis_client: aioredis.Redis,
    receiver: Receiver,
    shop: AppClient,
    start_worker: StartWorker,
) -> None:
    before_restart = aioredis.Redis.from_url(redis_url)  # bytes replies, unlike the fixture's client
    job_ids = [await AppSender(before_restart).send(shop, "u-1", "c-1", message(n)) for n in (1, 2, 3)]
    await before_restart.aclose()

    after_restart = aioredis.Redis.from_url(redis_url)
    worker, task = start_worker({"shop": shop}, redis=after_restart)
    try:
        for job_id in job_ids:
            await wait_until(lambda job_id=job_id: settled(redis_client, job_id))  # type: ignore[misc]
    finally:
        worker.stop()
        await asyncio.wait_for(task, 10)
        await after_restart.aclose()
    assert sorted(json.loads(r.body)["message"]["id"] for r in receiver.delivered()) == ["1", "2", "3"]


async def test_job_for_an_unconfigured_app_is_dead_lettered(
    redis_client: aioredis.Redis, shop: AppClient, start_worker: StartWorker
) -> None:
    await AppSender(redis_client).send(shop, "u-1", "c-1", message())
    start_worker({})
    await wait_until(lambda: _has_dead(redis_client))
    [dead] = await list_dead_letters(redis_client)
    assert "not configured" in dead.last_error


async def test_stop_ends_the_worker(redis_client: aioredis.Redis, shop: AppClient) -> None:
    stop = asyncio.Event()
    worker = DeliveryWorker(
        redis_client, {"shop": shop}, poll_interval=0.05, timeout=0.5, claim_idle=1, stop_event=stop
    )
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(task, 5)
    consumers = await redis_client.xinfo_consumers(keys.stream(), keys.GROUP)
    assert worker.consumer not in [c["name"] for c in consumers]


def test_claim_idle_must_exceed_the_timeout(redis_client: aioredis.Redis) -> None:
    with pytest.raises(ValueError):
        DeliveryWorker(redis_client, {}, timeout=10, claim_idle=5)
