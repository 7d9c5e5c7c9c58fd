"""Business hours: whether a schedule is open, when that changes, and time counted in open hours.

Ranges are wall-clock times in the schedule's timezone. Every computation turns them into UTC
instants first, so a DST change makes its day an hour shorter or longer as the clock on the
wall says; results come back in the schedule's timezone. Intervals are half-open: a range
"09:00-18:00" is open at 09:00 and closed at 18:00.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

from tickets.cn_calendar import DayKind, HolidayCoverage, coverage, day_kind
from tickets.errors import BeyondHorizon, NaiveDatetime, ScheduleError
from tickets.time_range import MINUTES_PER_DAY, WEEKDAY_NAMES, Ranges, TimeRange, overlap_problems

__all__ = [
    "DEFAULT_TIMEZONE",
    "HORIZON_DAYS",
    "Interval",
    "Ranges",
    "Schedule",
    "TimeRange",
    "add_business_time",
    "as_utc",
    "business_time_between",
    "hours_on",
    "is_open",
    "next_change",
    "open_intervals",
    "spend",
]

DEFAULT_TIMEZONE = ZoneInfo("Asia/Shanghai")
HORIZON_DAYS = 400  # how far ahead next_change / add_business_time look before giving up

Interval = tuple[datetime, datetime]  # UTC instants, half-open


@dataclass(frozen=True)
class Schedule:
    """Weekly hours (weekday 0 = Monday), China's holidays if asked, and per-date overrides.

    A weekday missing from ``weekly`` is closed; an override with no ranges closes that date.
    On a 调休 make-up working day the office keeps the hours of ``makeup_day_hours``.
    """

    timezone: ZoneInfo = DEFAULT_TIMEZONE
    weekly: Mapping[int, Ranges] = field(default_factory=dict, hash=False)
    holidays: Literal["cn"] | None = None
    makeup_day_hours: int = 0
    overrides: Mapping[date, Ranges] = field(default_factory=dict, hash=False)
    never_open: bool = field(init=False, repr=False, compare=False)  # no range anywhere

    def __post_init__(self) -> None:
        problems: list[str] = []
        if set(self.weekly) - set(range(7)):
            problems.append(f"weekly: weekdays are 0 (Monday) to 6, got {sorted(set(self.weekly))}")
        weekly = {
            day: _sorted_ranges(self.weekly.get(day, ()), f"weekly.{WEEKDAY_NAMES[day]}", problems)
            for day in range(7)
        }
        overrides = {
            day: _sorted_ranges(ranges, f"overrides.{day.isoformat()}", problems)
            for day, ranges in sorted(self.overrides.items())
        }
        if self.holidays not in ("cn", None):
            problems.append(f"holidays: must be 'cn' or None, got {self.holidays!r}")
        if self.makeup_day_hours not in range(7):
            problems.append(f"makeup_day_hours: must be a weekday 0-6, got {self.makeup_day_hours!r}")
        if problems:
            raise ScheduleError(problems)
        object.__setattr__(self, "weekly", MappingProxyType(weekly))
        object.__setattr__(self, "overrides", MappingProxyType(overrides))
        object.__setattr__(self, "never_open", not any(weekly.values()) and not any(overrides.values()))


def _sorted_ranges(ranges: Iterable[TimeRange], key: str, problems: list[str]) -> Ranges:
    ordered = tuple(sorted(ranges))
    problems.extend(overlap_problems(key, ordered))
    return ordered


def hours_on(schedule: Schedule, day: date) -> Ranges:
    """The ranges open on a local date: override, else holiday / make-up day, else weekly."""
    if day in schedule.overrides:
        return schedule.overrides[day]
    if schedule.never_open:
        return ()  # always closed, whatever the calendar says
    if schedule.holidays == "cn":
        kind = day_kind(day)
        if kind is DayKind.HOLIDAY:
            return ()
        if kind is DayKind.MAKEUP:
            return schedule.weekly[schedule.makeup_day_hours]
    return schedule.weekly[day.weekday()]


def is_open(schedule: Schedule, at: datetime) -> bool:
    at_utc = as_utc(at, "at")
    day = at_utc.astimezone(schedule.timezone).date()
    return any(start <= at_utc < end for start, end in _day_intervals(schedule, day))


def holiday_coverage(schedule: Schedule, at: datetime) -> HolidayCoverage | None:
    """How far the holiday data reaches, seen from ``at``'s date in the schedule's timezone; None
    for a schedule that does not follow China's holidays (it needs no holiday data)."""
    if schedule.holidays != "cn":
        return None
    return coverage(as_utc(at, "at").astimezone(schedule.timezone).date())


def next_change(schedule: Schedule, at: datetime, *, horizon_days: int = HORIZON_DAYS) -> datetime | None:
    """The next opening if closed at ``at``, the next closing if open; None if none within the horizon."""
    at_utc = as_utc(at, "at")
    open_until: datetime | None = None
    for start, end in open_intervals(schedule, at, days=horizon_days):
        if open_until is None:
            if start > at_utc:
                return _local(schedule, start)
            open_until = end
        elif start > open_until:
            return _local(schedule, open_until)
        else:
            open_until = max(open_until, end)
    if open_until is None or open_until >= _horizon_end(schedule, at, horizon_days):
        return None  # never opens, or open all the way to the horizon
    return _local(schedule, open_until)


def add_business_time(
    schedule: Schedule, start: datetime, duration: timedelta, *, horizon_days: int = HORIZON_DAYS
) -> datetime:
    """When ``duration`` of open time has passed since ``start`` (the clock waits while closed)."""
    as_utc(start, "start")
    if duration < timedelta(0):
        raise ValueError(f"duration must not be negative, got {duration}")
    if not duration:
        return _local(schedule, start)
    deadline = spend(open_intervals(schedule, start, days=horizon_days), duration)
    if deadline is None:
        raise BeyondHorizon(f"{duration} of business time is not reached within {horizon_days} days")
    return _local(schedule, deadline)


def business_time_between(schedule: Schedule, a: datetime, b: datetime) -> timedelta:
    """Open time between two instants; negative if ``b`` is before ``a``."""
    a_utc, b_utc = as_utc(a, "a"), as_utc(b, "b")
    if b_utc < a_utc:
        return -business_time_between(schedule, b, a)
    days = (b_utc.astimezone(schedule.timezone).date() - a_utc.astimezone(schedule.timezone).date()).days
    total = timedelta(0)
    for start, end in open_intervals(schedule, a, days=days + 1):
        if start >= b_utc:
            break
        total += min(end, b_utc) - start
    return total


def open_intervals(schedule: Schedule, start: datetime, *, days: int) -> Iterator[Interval]:
    """Open intervals (UTC, in order) from ``start`` through ``days`` local dates, clipped to ``start``."""
    start_utc = as_utc(start, "start")
    if schedule.never_open:
        return
    first = start_utc.astimezone(schedule.timezone).date()
    for offset in range(days):
        for begin, end in _day_intervals(schedule, first + timedelta(days=offset)):
            if end > start_utc:
                yield max(begin, start_utc), end


def spend(intervals: Iterable[Interval], duration: timedelta) -> datetime | None:
    """The instant (UTC) at which ``duration`` of the intervals has elapsed; None if they run out."""
    remaining = duration
    for start, end in intervals:
        if start + remaining <= end:
            return start + remaining
        remaining -= end - start
    return None


def _day_intervals(schedule: Schedule, day: date) -> list[Interval]:
    intervals = []
    for time_range in hours_on(schedule, day):
        start = _instant(schedule.timezone, day, time_range.start)
        end = _instant(schedule.timezone, day, time_range.end)
        if start < end:  # a range inside a spring-forward gap vanishes
            intervals.append((start, end))
    return intervals


def _instant(tz: ZoneInfo, day: date, minute: int) -> datetime:
    local_day = day + timedelta(days=minute // MINUTES_PER_DAY)
    hour, minute = divmod(minute % MINUTES_PER_DAY, 60)
    return datetime.combine(local_day, time(hour, minute), tzinfo=tz).astimezone(UTC)


def _horizon_end(schedule: Schedule, at: datetime, horizon_days: int) -> datetime:
    first = at.astimezone(schedule.timezone).date()
    return _instant(schedule.timezone, first + timedelta(days=horizon_days), 0)


def _local(schedule: Schedule, instant: datetime) -> datetime:
    return instant.astimezone(schedule.timezone)


def as_utc(value: datetime, name: str) -> datetime:
    """The same instant in UTC; a naive datetime raises NaiveDatetime naming ``name``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(f"{name} must be timezone-aware, got naive datetime {value.isoformat()}")
    return value.astimezone(UTC)
