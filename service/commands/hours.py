"""`kefu hours set FILE` and `kefu hours show`: a skill group's business hours."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from core.clock import utc_now
from core.settings import Settings
from service.commands.common import database
from tickets.errors import HolidayDataMissing, ScheduleError
from tickets.group_hours import (
    DEFAULT_GROUP,
    MODES,
    GroupHours,
    group_problems,
    load_group_hours,
    save_group_hours,
)
from tickets.hours import holiday_coverage, is_open, next_change
from tickets.schedule_file import parse_schedule_yaml, schedule_to_dict


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("hours", help="business hours of skill groups")
    acts = parser.add_subparsers(dest="action", required=True)
    set_ = acts.add_parser("set", help="store a group's hours from a YAML schedule file")
    set_.add_argument("file", type=Path)
    set_.add_argument("--group", default=DEFAULT_GROUP)
    set_.add_argument("--mode", choices=MODES, help="after hours: ticket, queue or bot_only (default: keep)")
    set_.add_argument("--announcement", help="what customers read after hours (default: keep)")
    show = acts.add_parser("show", help="a group's hours, whether it is open now and the next change")
    show.add_argument("--group", default=DEFAULT_GROUP)


async def run(
    args: argparse.Namespace, settings: Settings, *, clock: Callable[[], datetime] = utc_now
) -> int:
    problems = group_problems(args.group)
    if problems:
        print(f"kefu: {problems[0]}", file=sys.stderr)
        return 2
    if args.action == "set":
        return await _set(args, settings, clock())
    async with database(settings) as sessions, sessions() as session:
        hours = await load_group_hours(session, args.group)
    print(describe(hours, clock()))
    return 0


async def _set(args: argparse.Namespace, settings: Settings, now: datetime) -> int:
    try:
        schedule = parse_schedule_yaml(args.file.read_text(encoding="utf-8"))
    except ScheduleError as exc:
        print(f"kefu: {args.file}: {len(exc.problems)} problem(s)", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    async with database(settings) as sessions, sessions.begin() as session:
        current = await load_group_hours(session, args.group)
        mode = args.mode or current.after_hours_mode
        announcement = current.announcement if args.announcement is None else args.announcement.strip()
        hours = await save_group_hours(session, args.group, schedule, mode, announcement, now)
    print(f"stored business hours of {args.group}")
    print(describe(hours, now))
    return 0


def describe(hours: GroupHours, now: datetime) -> str:
    """Weekly hours, the after-hours mode, and open or closed now with the next change."""
    data = schedule_to_dict(hours.schedule)
    tz = hours.schedule.timezone
    origin = "" if hours.configured else " (default hours: nothing stored for this group)"
    lines = [
        f"group {hours.group}{origin}",
        f"timezone {data['timezone']}; holidays: {data['holidays'] or 'none'}",
        f"after hours: {hours.after_hours_mode}",
    ]
    lines += [f"  {day}: {', '.join(ranges) or 'closed'}" for day, ranges in data["weekly"].items()]
    lines += [
        f"  {day}: {ranges if isinstance(ranges, str) else ', '.join(ranges)}"
        for day, ranges in data["overrides"].items()
    ]
    if hours.announcement:
        lines.append(f"announcement: {hours.announcement}")
    state = "open" if is_open(hours.schedule, now) else "closed"
    lines.append(f"now ({now.astimezone(tz):%Y-%m-%d %H:%M} {tz.key}): {state}; {_next(hours, now, state)}")
    known = holiday_coverage(hours.schedule, now)
    warning = None if known is None else known.warning()
    if warning:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def _next(hours: GroupHours, now: datetime, state: str) -> str:
    try:
        change = next_change(hours.schedule, now)
    except HolidayDataMissing as exc:
        return f"next change unknown ({exc.message})"
    if change is None:
        return "no change within the horizon"
    verb = "closes" if state == "open" else "opens"
    return f"{verb} at {change:%Y-%m-%d %H:%M} ({hours.schedule.timezone.key})"
