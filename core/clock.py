"""The one clock: epoch seconds for the Redis engine, aware UTC datetimes for SQL and the APIs.

Time is injected as a ``Clock`` wherever tests need to control it; everything else calls
``utc_now``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]


def system_clock() -> float:
    return time.time()


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_datetime(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, UTC)
