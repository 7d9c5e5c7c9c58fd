"""Time source of the handoff package: epoch seconds, injected so tests control it."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]


def system_clock() -> float:
    return time.time()
