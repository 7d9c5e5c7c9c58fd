"""One opening range within a day, "HH:MM-HH:MM", with "24:00" allowed as the end."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from tickets.errors import ScheduleError

MINUTES_PER_DAY = 24 * 60
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, order=True)
class TimeRange:
    """Minutes after local midnight: ``start`` in [0, 1440), ``end`` in (start, 1440]."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise ScheduleError([f"range {self.start}-{self.end} minutes: need 0 <= start < end <= 1440"])

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        """Parse "09:00-12:30"; raises ScheduleError naming the text when it is not a valid range."""
        match = _RANGE.match(text)
        if match is None:
            raise ScheduleError([f"{text!r} is not a range like '09:00-18:00'"])
        start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
        if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m):
            raise ScheduleError([f"{text!r} has a time outside 00:00-24:00"])
        start, end = start_h * 60 + start_m, end_h * 60 + end_m
        if end <= start:
            raise ScheduleError([f"{text!r} ends before it starts (split a range across midnight in two)"])
        return cls(start, end)

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"


Ranges = tuple[TimeRange, ...]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def overlap_problems(key: str, ranges: Ranges) -> list[str]:
    """One problem per pair of neighbouring ranges that overlap (touching ranges are fine)."""
    ordered = sorted(ranges)
    return [
        f"{key}: ranges {before} and {after} overlap"
        for before, after in pairwise(ordered)
        if after.start < before.end
    ]
