from __future__ import annotations

from handoff.model import GroupStats
from handoff.overflow import Overflow, OverflowRule, check


def test_overflow_rules() -> None:
    rule = OverflowRule(max_length=10, max_wait=300)
    assert check(GroupStats("g", length=9, oldest_wait=299), rule) is None
    assert check(GroupStats("g", length=10, oldest_wait=0), rule) is Overflow.QUEUE_TOO_LONG
    assert check(GroupStats("g", length=1, oldest_wait=300), rule) is Overflow.WAIT_TOO_LONG
    assert check(GroupStats("g", length=10**6, oldest_wait=10**6), OverflowRule()) is None
