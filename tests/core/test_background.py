"""Background loops end when stopped or cancelled, whatever a step does with the cancellation."""

from __future__ import annotations

import asyncio
import logging

from core.background import pause, repeat

log = logging.getLogger(__name__)


async def test_a_loop_runs_its_step_until_stopped_and_survives_a_failing_step() -> None:
    stop, runs = asyncio.Event(), list[int]()

    async def step() -> None:
        runs.append(len(runs))
        if len(runs) == 2:
            raise RuntimeError("one bad pass")
        if len(runs) == 4:
            stop.set()

    await asyncio.wait_for(repeat(step, stop, 0.01, log=log, what="test step"), timeout=5)
    assert runs == [0, 1, 2, 3]


async def test_a_cancelled_loop_ends_even_if_its_step_turned_the_cancellation_into_an_error() -> None:
    stop, inside = asyncio.Event(), asyncio.Event()

    async def step() -> None:
        inside.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise ConnectionError("the library's own error for an interrupted read") from None

    task = asyncio.create_task(repeat(step, stop, 3600, log=log, what="test step"))
    await inside.wait()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    assert done == {task} and task.cancelled()


async def test_a_cancellation_that_meets_the_stop_event_still_cancels() -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(pause(stop, 3600))
    await asyncio.sleep(0)
    stop.set()
    task.cancel()  # both in the same turn of the event loop
    done, _ = await asyncio.wait({task}, timeout=5)
    assert done == {task} and task.cancelled()


async def test_a_pause_ends_early_when_stopped() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.01, stop.set)
    await asyncio.wait_for(pause(stop, 3600), timeout=5)
