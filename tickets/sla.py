"""SLA targets by priority and customer tier, deadlines counted in business time, and their state.

Time a ticket waits on the customer (status pending) does not count: ``compute_deadlines``
takes those paused intervals and stretches both deadlines by the open time they covered.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from types import MappingProxyType

from core.types import Lang
from tickets.errors import BeyondHorizon
from tickets.hours import HORIZON_DAYS, Interval, Schedule, as_utc, open_intervals, spend

__all__ = [
    "DEFAULT_SLA_TABLE",
    "TIERS",
    "Deadlines",
    "Priority",
    "SlaPolicy",
    "SlaState",
    "SlaStatus",
    "SlaTable",
    "compute_deadlines",
    "pauses_as_of",
    "promise_text",
    "sla_status",
]

TIERS = ("S", "A", "normal")


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


@dataclass(frozen=True)
class SlaPolicy:
    """Targets in business time (open hours of the ticket's schedule)."""

    first_response: timedelta
    resolution: timedelta

    def __post_init__(self) -> None:
        if self.first_response < timedelta(0) or self.resolution < timedelta(0):
            raise ValueError(f"SLA targets must not be negative: {self}")


@dataclass(frozen=True)
class SlaTable:
    """A policy for every priority, and per-tier overrides (a tier may override only some priorities)."""

    by_priority: Mapping[Priority, SlaPolicy] = field(hash=False)
    by_tier: Mapping[str, Mapping[Priority, SlaPolicy]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        missing = set(Priority) - set(self.by_priority)
        if missing:
            raise ValueError(f"SLA table lacks priorities: {sorted(missing)}")
        unknown = set(self.by_tier) - set(TIERS)
        if unknown:
            raise ValueError(f"SLA table has unknown tiers {sorted(unknown)}; tiers are {TIERS}")
        object.__setattr__(self, "by_priority", MappingProxyType(dict(self.by_priority)))
        tiers = {tier: MappingProxyType(dict(policies)) for tier, policies in self.by_tier.items()}
        object.__setattr__(self, "by_tier", MappingProxyType(tiers))

    def policy_for(self, priority: Priority | str, tier: str = "normal") -> SlaPolicy:
        """The tier's override if it has one for this priority, else the priority's policy.

        An unknown priority raises ValueError; an unknown tier gets the plain priority policy.
        """
        level = Priority(priority)
        return self.by_tier.get(tier, {}).get(level) or self.by_priority[level]


def _policies(*pairs: tuple[int, int]) -> dict[Priority, SlaPolicy]:
    """Minutes of (first response, resolution) for urgent, high, normal, low."""
    levels = (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)
    return {
        level: SlaPolicy(timedelta(minutes=first), timedelta(minutes=resolve))
        for level, (first, resolve) in zip(levels, pairs, strict=True)
    }


DEFAULT_SLA_TABLE = SlaTable(
    by_priority=_policies((30, 4 * 60), (60, 8 * 60), (4 * 60, 16 * 60), (8 * 60, 40 * 60)),
    by_tier={
        "S": _policies((15, 2 * 60), (30, 4 * 60), (60, 8 * 60), (2 * 60, 16 * 60)),
        "A": _policies((20, 3 * 60), (45, 6 * 60), (2 * 60, 12 * 60), (4 * 60, 24 * 60)),
    },
)


@dataclass(frozen=True)
class Deadlines:
    first_response_due: datetime
    resolution_due: datetime


class SlaState(StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"


@dataclass(frozen=True)
class SlaStatus:
    first_response: SlaState
    resolution: SlaState


def compute_deadlines(
    policy: SlaPolicy,
    schedule: Schedule,
    created_at: datetime,
    paused_intervals: Iterable[tuple[datetime, datetime]] = (),
    *,
    horizon_days: int = HORIZON_DAYS,
) -> Deadlines:
    """Both deadlines, counting only open time outside the paused intervals (in the schedule's timezone).

    A pause still running is passed as (pending_since, now): see ``pauses_as_of``.
    """
    as_utc(created_at, "created_at")
    pauses = _merged(paused_intervals)

    def due(target: timedelta) -> datetime:
        if not target:
            return created_at.astimezone(schedule.timezone)
        counted = _without(open_intervals(schedule, created_at, days=horizon_days), pauses)
        deadline = spend(counted, target)
        if deadline is None:
            raise BeyondHorizon(f"an SLA target of {target} is not reached within {horizon_days} days")
        return deadline.astimezone(schedule.timezone)

    return Deadlines(first_response_due=due(policy.first_response), resolution_due=due(policy.resolution))


def pauses_as_of(
    paused: Iterable[tuple[datetime, datetime]], pending_since: datetime | None, now: datetime
) -> list[tuple[datetime, datetime]]:
    """The closed pauses plus the one still running (pending since ``pending_since``) up to ``now``."""
    pauses = list(paused)
    if pending_since is not None:
        pauses.append((pending_since, max(now, pending_since)))
    return pauses


def sla_status(
    deadlines: Deadlines,
    now: datetime,
    responded_at: datetime | None,
    resolved_at: datetime | None,
    warn_before: timedelta,
) -> SlaStatus:
    """State of each target at ``now``; ``warn_before`` is wall-clock time before a deadline.

    A resolution also counts as the first response when no response was recorded.
    """
    first_done = responded_at if responded_at is not None else resolved_at
    return SlaStatus(
        first_response=_state(deadlines.first_response_due, first_done, now, warn_before),
        resolution=_state(deadlines.resolution_due, resolved_at, now, warn_before),
    )


def promise_text(deadline: datetime, lang: Lang, tz: tzinfo) -> str:
    """The customer-facing promise, without final punctuation so callers can compose it.

    zh: "我们会在 10月9日（周四）09:00（北京时间）前回复您";
    en: "We will reply by Thu 9 Oct 09:00 (Beijing time)".
    """
    local = as_utc(deadline, "deadline").astimezone(tz)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if lang == "zh":
        when = f"{local.month}月{local.day}日（周{_ZH_WEEKDAYS[local.weekday()]}）{clock}"
        return f"我们会在 {when}（{_zone_label(local, '北京时间')}）前回复您"
    when = f"{_EN_WEEKDAYS[local.weekday()]} {local.day} {_EN_MONTHS[local.month - 1]} {clock}"
    return f"We will reply by {when} ({_zone_label(local, 'Beijing time')})"


_ZH_WEEKDAYS = "一二三四五六日"
_EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _zone_label(local: datetime, beijing: str) -> str:
    """ "北京时间" / "Beijing time" for Asia/Shanghai, else the UTC offset, e.g. "UTC+02:00"."""
    if getattr(local.tzinfo, "key", None) == "Asia/Shanghai":
        return beijing
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    hours, rest = divmod(abs(offset), timedelta(hours=1))
    return f"UTC{sign}{hours:02d}:{rest // timedelta(minutes=1):02d}"


def _state(due: datetime, done_at: datetime | None, now: datetime, warn_before: timedelta) -> SlaState:
    due_utc = as_utc(due, "deadline")
    if done_at is not None:
        return SlaState.MET if as_utc(done_at, "done_at") <= due_utc else SlaState.BREACHED
    now_utc = as_utc(now, "now")
    if now_utc >= due_utc:
        return SlaState.BREACHED
    return SlaState.AT_RISK if due_utc - now_utc <= warn_before else SlaState.OK


def _merged(intervals: Iterable[tuple[datetime, datetime]]) -> list[Interval]:
    spans = sorted((as_utc(start, "pause start"), as_utc(end, "pause end")) for start, end in intervals)
    merged: list[Interval] = []
    for start, end in spans:
        if end < start:
            raise ValueError(f"a pause ends before it starts: {start.isoformat()} > {end.isoformat()}")
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _without(intervals: Iterable[Interval], pauses: list[Interval]) -> Iterator[Interval]:
    """The parts of ``intervals`` outside ``pauses`` (both sorted, UTC)."""
    for start, end in intervals:
        for pause_start, pause_end in pauses:
            if pause_end <= start or pause_start >= end:
                continue
            if pause_start > start:
                yield start, pause_start
            start = max(start, pause_end)
        if start < end:
            yield start, end
