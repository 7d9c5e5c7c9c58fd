"""What to do with a customer who wants a human: queue them, or, when the group is closed,
follow its after-hours mode. Pure: the schedule, the mode and ``now`` come in.

The customer text of a "ticket" decision keeps a ``{ticket_number}`` placeholder for the
caller to fill once the ticket exists (``str.format(ticket_number=...)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from core.types import Lang
from tickets.errors import BeyondHorizon, HolidayDataMissing
from tickets.group_hours import AfterHoursMode
from tickets.hours import Schedule, add_business_time, is_open, next_change
from tickets.sla import promise_text

DecisionKind = Literal["queue", "ticket", "queue_until_open", "bot_only"]
_KIND_OF_MODE: dict[AfterHoursMode, DecisionKind] = {
    "ticket": "ticket",
    "queue": "queue_until_open",
    "bot_only": "bot_only",
}


@dataclass(frozen=True)
class AfterHoursDecision:
    kind: DecisionKind
    next_open: datetime | None  # None when open now, or no opening is known
    customer_text: str  # empty when open


def decide(
    schedule: Schedule,
    mode: AfterHoursMode,
    now: datetime,
    lang: Lang,
    *,
    reply_within: timedelta | None = None,
    announcement: str = "",
) -> AfterHoursDecision:
    """Open: queue. Closed: the mode's kind, with a text saying when we open (and, for a ticket,
    by when we reply: ``reply_within`` of business time, the ticket's first-response target)."""
    if is_open(schedule, now):
        return AfterHoursDecision("queue", None, "")
    kind = _KIND_OF_MODE[mode]
    opens = _next_open(schedule, now)
    promise = _promise(schedule, now, reply_within, lang) if kind == "ticket" else None
    text = _TEXTS[kind][lang].format(opens=_opens(opens, schedule, lang), promise=promise or _LATER[lang])
    return AfterHoursDecision(kind, opens, _announced(announcement, text))


def decide_overflow(
    schedule: Schedule,
    mode: AfterHoursMode,
    now: datetime,
    lang: Lang,
    *,
    reply_within: timedelta | None = None,
    announcement: str = "",
) -> AfterHoursDecision:
    """The group is open but its queue overflows: the after-hours mode's choice, told as "busy"
    (not "closed"). A ticket promises ``reply_within`` of the group's business time, or "as soon
    as we can" when that cannot be computed; a "queue" mode keeps queueing."""
    kind = _KIND_OF_MODE[mode]
    promise = None
    if kind == "ticket" and reply_within is not None:
        try:
            promise = promise_text(add_business_time(schedule, now, reply_within), lang, schedule.timezone)
        except (HolidayDataMissing, BeyondHorizon):
            promise = None
    text = _BUSY_TEXTS[kind][lang].format(promise=promise or _SOON[lang])
    return AfterHoursDecision(kind, None, _announced(announcement, text))


def _announced(announcement: str, text: str) -> str:
    """The group's announcement above the text; braces escaped, the caller formats it once more."""
    if not announcement.strip():
        return text
    return announcement.strip().replace("{", "{{").replace("}", "}}") + "\n" + text


def _next_open(schedule: Schedule, now: datetime) -> datetime | None:
    try:
        return next_change(schedule, now)
    except HolidayDataMissing:
        return None  # the holiday calendar ends before the next opening: say nothing about it


def _promise(schedule: Schedule, now: datetime, reply_within: timedelta | None, lang: Lang) -> str | None:
    if reply_within is None:
        return None
    try:
        return promise_text(add_business_time(schedule, now, reply_within), lang, schedule.timezone)
    except HolidayDataMissing:
        return None


def _opens(opens: datetime | None, schedule: Schedule, lang: Lang) -> str:
    if opens is None:
        return _UNKNOWN_OPENING[lang]
    local = opens.astimezone(schedule.timezone)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    zone = _zone(local, lang)
    if lang == "zh":
        weekday = "一二三四五六日"[local.weekday()]
        return f"我们将于 {local.month}月{local.day}日（周{weekday}）{clock}（{zone}）上班"
    day = f"{_EN_WEEKDAYS[local.weekday()]} {local.day} {_EN_MONTHS[local.month - 1]}"
    return f"We open again on {day} {clock} ({zone})"


def _zone(local: datetime, lang: Lang) -> str:
    if getattr(local.tzinfo, "key", None) == "Asia/Shanghai":
        return "北京时间" if lang == "zh" else "Beijing time"
    return "UTC" + local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]


_EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UNKNOWN_OPENING: dict[Lang, str] = {
    "zh": "我们会尽快上班",
    "en": "We will be back as soon as we can",
}
_LATER: dict[Lang, str] = {
    "zh": "上班后我们会尽快回复您",
    "en": "We will reply as soon as we open",
}
# ``{{ticket_number}}`` comes out of this module's format() as the caller's ``{ticket_number}``.
_TEXTS: dict[DecisionKind, dict[Lang, str]] = {
    "ticket": {
        "zh": "现在是非工作时间，{opens}。已为您创建工单 {{ticket_number}}，{promise}。",
        "en": "We are closed right now. {opens}. We have created ticket {{ticket_number}} for you. "
        "{promise}.",
    },
    "queue_until_open": {
        "zh": "现在是非工作时间，{opens}。您可以继续留言，上班后客服会按顺序为您服务。",
        "en": "We are closed right now. {opens}. You keep your place in the queue and a colleague "
        "will answer when we open.",
    },
    "bot_only": {
        "zh": "现在是非工作时间，人工客服暂不在线，{opens}。在此之前，智能助手会继续为您解答。",
        "en": "We are closed right now and no colleague is online. {opens}. Until then our assistant "
        "keeps helping you.",
    },
}
_SOON: dict[Lang, str] = {
    "zh": "我们会尽快回复您",
    "en": "We will reply as soon as we can",
}
_BUSY_TEXTS: dict[DecisionKind, dict[Lang, str]] = {
    "ticket": {
        "zh": "现在咨询的人较多，客服暂时无法接待。已为您创建工单 {{ticket_number}}，{promise}。",
        "en": "All our colleagues are busy right now. We have created ticket {{ticket_number}} for "
        "you. {promise}.",
    },
    "queue_until_open": {
        "zh": "现在咨询的人较多，请耐心等待，客服会按顺序为您服务。",
        "en": "All our colleagues are busy right now. Please wait: you will be served in turn.",
    },
    "bot_only": {
        "zh": "现在咨询的人较多，人工客服暂时无法接待，智能助手会继续为您解答。",
        "en": "All our colleagues are busy right now. Until one is free our assistant keeps helping you.",
    },
}
