"""Mainland China's public holidays and 调休 make-up working days, from ``chinese-calendar``.

The package ships one table per year, published by the State Council each autumn for the
next year. For a year it does not know we raise ``HolidayDataMissing`` rather than guess:
treating an unknown year as plain weekdays would silently open the office on Spring Festival.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Any

import chinese_calendar

from tickets.errors import HolidayDataMissing


class DayKind(StrEnum):
    HOLIDAY = "holiday"  # statutory holiday (including the weekend days bridged into it)
    MAKEUP = "makeup"  # 调休: a weekend day that is a working day
    ORDINARY = "ordinary"  # neither: the weekly hours apply


@cache
def known_years() -> range:
    """Years the installed package has data for."""
    years = [d.year for d in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


# The State Council publishes next year's schedule in the autumn; from then on, warn.
WARN_DAYS_BEFORE_END = 60


@dataclass(frozen=True)
class HolidayCoverage:
    """How far the installed holiday data reaches, seen from ``today``."""

    known_through: date
    days_left: int

    @property
    def ending_soon(self) -> bool:
        return self.days_left < WARN_DAYS_BEFORE_END

    def warning(self) -> str | None:
        if not self.ending_soon:
            return None
        next_year = self.known_through.year + 1
        return (
            f"China holiday data ends {self.known_through.isoformat()} ({max(self.days_left, 0)} days): "
            f"upgrade the chinese-calendar package once it has {next_year}, or enter {next_year}'s "
            "holidays and 调休 days as overrides; until then deadlines reaching into "
            f"{next_year} are not set"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "known_through": self.known_through.isoformat(),
            "days_left": self.days_left,
            "warning": self.warning(),
        }


def coverage(today: date) -> HolidayCoverage:
    last = date(known_years().stop - 1, 12, 31)
    return HolidayCoverage(last, (last - today).days)


def day_kind(day: date) -> DayKind:
    years = known_years()
    if day.year not in years:
        raise HolidayDataMissing(
            f"no China holiday data for {day.year} (chinese-calendar {chinese_calendar.__version__} "
            f"knows {years.start}-{years.stop - 1}); upgrade the chinese-calendar package"
        )
    if day in chinese_calendar.holidays:
        return DayKind.HOLIDAY
    if day in chinese_calendar.workdays:
        return DayKind.MAKEUP
    return DayKind.ORDINARY
