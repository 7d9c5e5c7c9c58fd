"""The timed WeCom kf re-sync: first one interval after start, then every interval; a failing
pass is logged and the timer goes on."""

from __future__ import annotations

import asyncio
import time

from service.wecom import _every


async def test_the_timer_waits_one_interval_then_repeats_through_failures() -> None:
    stop, started, runs = asyncio.Event(), time.monotonic(), list[float]()

    async def job() -> None:
        runs.append(time.monotonic() - started)
        if len(runs) == 2:
            raise ConnectionError("WeCom unreachable this time")
        if len(runs) == 3:
            stop.set()

    await asyncio.wait_for(_every(job, stop, 0.05), timeout=5)
    assert len(runs) == 3
    assert runs[0] >= 0.04  # not at start (the callbacks sync at once); 0.04: timer granularity


async def test_a_timer_stopped_before_its_first_interval_never_runs() -> None:
    stop, runs = asyncio.Event(), list[int]()

    async def job() -> None:
        runs.append(1)

    asyncio.get_running_loop().call_later(0.01, stop.set)
    await asyncio.wait_for(_every(job, stop, 3600), timeout=5)
    assert runs == []
