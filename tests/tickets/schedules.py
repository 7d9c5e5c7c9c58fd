"""Schedules the tests share, built from the file form so they read like an admin's YAML."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tickets.hours import Schedule
from tickets.schedule_file import schedule_from_dict

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OFFICE_DAY = ["09:00-12:00", "13:00-18:00"]  # eight open hours with a lunch break


def office(**extra: object) -> Schedule:
    """Mon-Fri 09:00-12:00 and 13:00-18:00 in Shanghai, following China's holidays."""
    weekly = {day: OFFICE_DAY for day in ("mon", "tue", "wed", "thu", "fri")}
    return schedule_from_dict({"weekly": weekly, "holidays": "cn", **extra})


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)
