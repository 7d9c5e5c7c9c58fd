"""The schedule file of ``kefu hours set FILE`` (YAML) and the JSON form stored for the admin API.

Example::

    timezone: Asia/Shanghai
    weekly:
      mon: ["09:00-12:00", "13:00-18:00"]
      sat: closed
    holidays: cn
    makeup_day_hours: mon
    overrides:
      2025-12-24: ["09:00-15:00"]
      2025-12-31: closed

Every problem is collected and raised together as one ``ScheduleError``, each named by its key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from tickets.errors import ScheduleError
from tickets.hours import DEFAULT_TIMEZONE, Schedule
from tickets.time_range import WEEKDAY_NAMES, Ranges, TimeRange, overlap_problems

__all__ = ["ScheduleError", "parse_schedule_yaml", "schedule_from_dict", "schedule_to_dict"]

_LONG_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAYS = {name: day for names in (WEEKDAY_NAMES, _LONG_NAMES) for day, name in enumerate(names)}
_KEYS = ("timezone", "weekly", "holidays", "makeup_day_hours", "overrides")
CLOSED = "closed"


class _Loader(yaml.SafeLoader):  # PyYAML ships no type hints
    """Safe YAML that leaves dates as text, so a bad date is reported with its key, not as a crash."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_schedule_yaml(text: str) -> Schedule:
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ScheduleError([f"file: not valid YAML ({exc})"]) from exc
    return schedule_from_dict(data)


def schedule_from_dict(data: object) -> Schedule:
    """Validate the YAML or JSON form; raises one ScheduleError listing every problem."""
    if not isinstance(data, Mapping):
        raise ScheduleError([f"file: expected a mapping with keys {', '.join(_KEYS)}"])
    problems = [
        f"{key}: unknown key (expected one of {', '.join(_KEYS)})" for key in data if key not in _KEYS
    ]
    timezone = _timezone(data.get("timezone"), problems)
    weekly = _weekly(data.get("weekly"), problems)
    holidays = _holidays(data.get("holidays"), problems)
    makeup = _weekday(data.get("makeup_day_hours", "mon"), "makeup_day_hours", problems)
    overrides = _overrides(data.get("overrides"), problems)
    if problems:
        raise ScheduleError(problems)
    return Schedule(timezone, weekly, holidays, makeup, overrides)


def schedule_to_dict(schedule: Schedule) -> dict[str, Any]:
    """The JSON-ready form; ``schedule_from_dict`` turns it back into an equal Schedule."""
    return {
        "timezone": schedule.timezone.key,
        "weekly": {
            WEEKDAY_NAMES[day]: _range_texts(ranges) for day, ranges in sorted(schedule.weekly.items())
        },
        "holidays": schedule.holidays,
        "makeup_day_hours": WEEKDAY_NAMES[schedule.makeup_day_hours],
        "overrides": {
            day.isoformat(): _range_texts(ranges) if ranges else CLOSED
            for day, ranges in sorted(schedule.overrides.items())
        },
    }


def _range_texts(ranges: Ranges) -> list[str]:
    return [str(time_range) for time_range in ranges]


def _timezone(value: object, problems: list[str]) -> ZoneInfo:
    if value is None:
        return DEFAULT_TIMEZONE
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"timezone: {value!r} is not an IANA timezone such as 'Asia/Shanghai'")
        return DEFAULT_TIMEZONE


def _weekly(value: object, problems: list[str]) -> dict[int, Ranges]:
    if value is None:
        problems.append("weekly: required (a map of weekday to ranges; {} means always closed)")
        return {}
    if not isinstance(value, Mapping):
        problems.append("weekly: expected a map of weekday (mon..sun) to a list of 'HH:MM-HH:MM'")
        return {}
    weekly: dict[int, Ranges] = {}
    for name, ranges in value.items():
        day = _weekday(name, f"weekly.{name}", problems)
        if day >= 0 and day in weekly:
            problems.append(f"weekly.{name}: {WEEKDAY_NAMES[day]} is given twice")
        weekly[day] = _ranges(ranges, f"weekly.{name}", problems)
    return weekly


def _weekday(value: object, key: str, problems: list[str]) -> int:
    day = _WEEKDAYS.get(value.lower()) if isinstance(value, str) else None
    if day is None:
        problems.append(f"{key}: {value!r} is not a weekday (mon..sun or monday..sunday)")
        return -1
    return day


def _holidays(value: object, problems: list[str]) -> Literal["cn"] | None:
    if value is None or value is False or value == "none":
        return None
    if isinstance(value, str) and value.lower() == "cn":
        return "cn"
    problems.append(f"holidays: {value!r} is not supported (use 'cn' or leave it out)")
    return None


def _overrides(value: object, problems: list[str]) -> dict[date, Ranges]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append("overrides: expected a map of date (YYYY-MM-DD) to 'closed' or a list of ranges")
        return {}
    overrides: dict[date, Ranges] = {}
    for key, ranges in value.items():
        day = _date(key, problems)
        parsed = _ranges(ranges, f"overrides.{key}", problems)
        if day is not None:
            if day in overrides:
                problems.append(f"overrides.{key}: {day.isoformat()} is given twice")
            overrides[day] = parsed
    return overrides


def _date(value: object, problems: list[str]) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # a caller that built the dict with date keys
    try:
        if isinstance(value, str):
            return date.fromisoformat(value)
    except ValueError:
        pass
    problems.append(f"overrides.{value}: not a date like 2025-10-01")
    return None


def _ranges(value: object, key: str, problems: list[str]) -> Ranges:
    if value is None or value == CLOSED:
        return ()
    if isinstance(value, str):
        return _parse_ranges([value], key, problems, indexed=False)
    if isinstance(value, list):
        return _parse_ranges(value, key, problems, indexed=True)
    problems.append(f"{key}: expected 'closed' or a list of ranges like '09:00-18:00', got {value!r}")
    return ()


def _parse_ranges(items: list[object], key: str, problems: list[str], *, indexed: bool) -> Ranges:
    ranges = []
    for index, item in enumerate(items):
        item_key = f"{key}[{index}]" if indexed else key
        try:
            if not isinstance(item, str):
                raise ScheduleError([f"{item!r} is not a range like '09:00-18:00'"])
            ranges.append(TimeRange.parse(item))
        except ScheduleError as exc:
            problems.extend(f"{item_key}: {problem}" for problem in exc.problems)
    ordered = tuple(sorted(ranges))
    problems.extend(overlap_problems(key, ordered))
    return ordered
