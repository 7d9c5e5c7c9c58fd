"""A skill group's business hours as stored, with the one default for groups that have none."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from tickets import store
from tickets.hours import Schedule
from tickets.schedule_file import schedule_from_dict, schedule_to_dict

AfterHoursMode = Literal["ticket", "queue", "bot_only"]
MODES: tuple[AfterHoursMode, ...] = ("ticket", "queue", "bot_only")
DEFAULT_GROUP = "general"
GROUP_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_ANNOUNCEMENT = 1000

# The hours of a group nobody configured: every day 09:00-21:00 Beijing time, closed on China's
# public holidays (and open on their 调休 make-up days).
DEFAULT_SCHEDULE: dict[str, Any] = {
    "timezone": "Asia/Shanghai",
    "weekly": {day: ["09:00-21:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    "holidays": "cn",
}


def default_schedule() -> Schedule:
    return schedule_from_dict(DEFAULT_SCHEDULE)


@dataclass(frozen=True)
class GroupHours:
    group: str
    schedule: Schedule
    after_hours_mode: AfterHoursMode
    announcement: str
    configured: bool  # False: the default, nothing stored for this group


def group_problems(group: str) -> list[str]:
    if GROUP_PATTERN.match(group):
        return []
    return [f"group: {group!r} must be 1-64 of a-z 0-9 _ - starting with a letter or digit"]


def mode_problems(mode: object) -> list[str]:
    if mode in MODES:
        return []
    return [f"after_hours_mode: {mode!r} must be one of {', '.join(MODES)}"]


def announcement_problems(text: object) -> list[str]:
    if not isinstance(text, str):
        return ["announcement: must be a string"]
    if len(text) > MAX_ANNOUNCEMENT:
        return [f"announcement: at most {MAX_ANNOUNCEMENT} characters"]
    return []


async def load_group_hours(session: AsyncSession, group: str) -> GroupHours:
    row = await store.get_business_hours(session, group)
    if row is None:
        return GroupHours(group, default_schedule(), "ticket", "", configured=False)
    mode = row.after_hours_mode if row.after_hours_mode in MODES else "ticket"
    return GroupHours(
        group,
        schedule_from_dict(row.schedule),
        mode,
        row.announcement,
        configured=True,
    )


async def save_group_hours(
    session: AsyncSession,
    group: str,
    schedule: Schedule,
    mode: AfterHoursMode,
    announcement: str,
    now: datetime,
) -> GroupHours:
    await store.save_business_hours(session, group, schedule_to_dict(schedule), mode, announcement, now)
    return GroupHours(group, schedule, mode, announcement, configured=True)
