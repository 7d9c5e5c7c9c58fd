"""Background loops: a step every few seconds until the process stops them.

Every replica runs several (the outbox, the SLA sweeper, the alert monitor, the presence sweep,
the knowledge mirror, the WeCom re-sync, the app channel's delivery worker). They end when their
``stop`` event is set, or when their task is cancelled. A cancellation must end them even if it
arrived inside a step and the step's library turned it into another exception (which the loop
logs and survives): the loop checks the task's pending cancellation before each pause, so a
cancelled loop never sleeps on (an event loop closing waits for it forever).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any


def raise_if_cancelled() -> None:
    """Raise ``CancelledError`` if someone cancelled the current task, even if the
    ``CancelledError`` they caused was caught and turned into something else."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait until ``stop`` is set or ``seconds`` have passed (``asyncio.wait``, which, unlike
    Python 3.11's ``wait_for``, never swallows a cancellation that meets the event being set)."""
    raise_if_cancelled()
    if stop.is_set():
        return
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({waiter}, timeout=seconds)
    finally:
        waiter.cancel()


async def repeat(
    step: Callable[[], Awaitable[Any]],
    stop: asyncio.Event,
    interval: float,
    *,
    log: logging.Logger,
    what: str,
) -> None:
    """Run ``step`` until ``stop`` is set, pausing ``interval`` seconds after each run; a step that
    fails is logged (``what`` failed) and tried again after the pause."""
    while not stop.is_set():
        try:
            await step()
        except Exception:
            log.exception("%s failed; trying again in %.0f s", what, interval)
        await pause(stop, interval)
