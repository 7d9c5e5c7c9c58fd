"""Overflow rules: when a group's queue is too long or has waited too long, offer a ticket."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handoff.model import GroupStats


class Overflow(StrEnum):
    QUEUE_TOO_LONG = "queue_too_long"
    WAIT_TOO_LONG = "wait_too_long"


@dataclass(frozen=True)
class OverflowRule:
    max_length: int | None = None  # conversations waiting in the group
    max_wait: float | None = None  # seconds the oldest waiting conversation has waited


# A group's limits when nothing else is set (the seed of migration 0014 says the same).
DEFAULT_OVERFLOW = OverflowRule(max_length=200, max_wait=1800.0)


def check(stats: GroupStats, rule: OverflowRule) -> Overflow | None:
    """The rule a group breaks now, if any (length first: it is what a new arrival would join)."""
    if rule.max_length is not None and stats.length >= rule.max_length:
        return Overflow.QUEUE_TOO_LONG
    if rule.max_wait is not None and stats.oldest_wait >= rule.max_wait:
        return Overflow.WAIT_TOO_LONG
    return None
