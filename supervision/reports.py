"""The overview report, from the stored events (conversations, state transitions, messages,
CSAT ratings, tickets and their events, suggestion uses).

Definitions (docs/supervisor.md has the reasoning):
- A conversation belongs to the business day (in the business time zone) it was created on.
  The day's UTC bounds are computed with ``zoneinfo``, so a day is 23, 24 or 25 hours where
  the zone has daylight saving time, and 00:30 in Shanghai is the previous day in UTC.
- handed off: the conversation left the bot for a person or a ticket (a transition from
  ``bot`` to ``queued``, ``agent`` or ``ticket``); ``bot_resolution_rate`` is the share never
  handed off, ``handoff_rate`` the share handed off.
- first response: from the first handoff (to ``queued``) to the first agent message.
- handle time: from the first assignment (to ``agent``) to the first close after it.
- queue wait: from the first handoff to the first assignment; ``queue_wait_p90`` is the
  nearest-rank 90th percentile.
- one-time resolution: of the conversations closed, the share whose customer did not come back
  within 48 h of the close (the thread reopened, a new conversation or a ticket).
- CSAT: the average rating of rated conversations; response rate = rated / closed.
- tickets: created in the range; SLA attainment = share of tickets with a deadline that never
  had a "breached" SLA alert.
- suggestions: uses per agent message; the share sent unedited.

SQL does the selecting and the per-conversation aggregation (correlated ``MIN`` sub-queries on
indexed columns); Python buckets the rows by business day and computes percentiles, because
SQLite has no time zones and no percentile function.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from conversations.tables import (
    Conversation,
    CsatRating,
    Message,
    QueueEntryRecord,
    StateTransition,
    SuggestionUse,
)
from core.errors import ValidationFailed
from core.spreadsheet import inert
from handoff.tables import User
from tickets.store import SLA_ALERT
from tickets.tables import Ticket, TicketEvent

MAX_DAYS = 366
REPEAT_WINDOW = timedelta(hours=48)
HOT_LIMIT = 10
HANDOFF_TARGETS = ("queued", "agent", "ticket")


@dataclass(frozen=True)
class ReportQuery:
    start: date
    end: date  # inclusive
    tz: ZoneInfo
    group: str = ""
    agent: str = ""
    channel: str = ""
    lang: str = ""

    @property
    def utc_start(self) -> datetime:
        return day_start(self.start, self.tz)

    @property
    def utc_end(self) -> datetime:
        return day_start(self.end + timedelta(days=1), self.tz)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def local_day(at: datetime, tz: ZoneInfo) -> date:
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(tz).date()


DEFAULT_DAYS = 7


def parse_query(args: dict[str, str], tz: ZoneInfo, now: datetime | None = None) -> ReportQuery:
    """``from`` and ``to`` are business days; both left out: the last 7 days up to today in the
    business time zone (what the dashboard opens with, whatever the browser's own zone)."""
    if not args.get("from") and not args.get("to"):
        today = (now or datetime.now(UTC)).astimezone(tz).date()
        args = {
            **args,
            "from": (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
            "to": today.isoformat(),
        }

    def day(name: str) -> date:
        raw = args.get(name, "")
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValidationFailed(f"{name} must be a date YYYY-MM-DD", code=f"invalid_{name}") from None

    start, end = day("from"), day("to")
    if end < start or (end - start).days >= MAX_DAYS:
        raise ValidationFailed(f"to must be on or after from, at most {MAX_DAYS} days", code="invalid_range")
    values = {}
    for name in ("group", "agent", "channel", "lang"):
        value = args.get(name, "") or ""
        if len(value) > 64:
            raise ValidationFailed(f"{name} is too long", code=f"invalid_{name}")
        values[name] = value
    return ReportQuery(start, end, tz, **values)


@dataclass
class ConvRow:
    id: str
    customer_id: str
    created_at: datetime
    handed_off: bool
    handoff_at: datetime | None
    assigned_at: datetime | None
    closed_at: datetime | None
    first_agent_at: datetime | None
    agent: str
    rating: int | None


@dataclass
class Report:
    query: ReportQuery
    overview: dict[str, Any] = field(default_factory=dict)
    by_day: list[dict[str, Any]] = field(default_factory=list)
    agents: list[dict[str, Any]] = field(default_factory=list)
    handoff_reasons: list[dict[str, Any]] = field(default_factory=list)
    hot_questions: list[dict[str, Any]] = field(default_factory=list)
    suggestions: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        q = self.query
        return {
            "from": q.start.isoformat(),
            "to": q.end.isoformat(),
            "timezone": q.tz.key,
            "filters": {
                k: v
                for k, v in (("group", q.group), ("agent", q.agent), ("channel", q.channel), ("lang", q.lang))
                if v
            },
            **self.overview,
            "by_day": self.by_day,
            "agents": self.agents,
            "handoff_reasons": self.handoff_reasons,
            "hot_questions": self.hot_questions,
            "suggestions": self.suggestions,
        }


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _db(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _conversation_filter(q: ReportQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [
        Conversation.created_at >= _db(q.utc_start),
        Conversation.created_at < _db(q.utc_end),
    ]
    if q.channel:
        where.append(Conversation.channel == q.channel)
    if q.lang:
        where.append(Conversation.lang == q.lang)
    if q.group:
        where.append(
            exists().where(
                QueueEntryRecord.conversation_id == Conversation.id, QueueEntryRecord.group == q.group
            )
        )
    if q.agent:
        assigned = aliased(StateTransition)  # the outer query may select transitions too
        where.append(
            exists().where(
                assigned.conversation_id == Conversation.id,
                assigned.to_state == "agent",
                assigned.actor == f"agent:{q.agent}",
            )
        )
    return where


def _in_range(q: ReportQuery) -> Any:
    """The ids of the report's conversations, as a sub-query the other queries join to."""
    return select(Conversation.id).where(*_conversation_filter(q)).subquery()


def _first_of(state: str) -> Any:
    return func.min(case((StateTransition.to_state == state, StateTransition.created_at)))


async def load_conversations(session: AsyncSession, q: ReportQuery) -> list[ConvRow]:
    """One row per conversation, from four set-wise queries (conversations; their transitions
    grouped; their first agent message; their rating) rather than sub-queries per row."""
    base = (
        await session.execute(
            select(Conversation.id, Conversation.customer_id, Conversation.created_at).where(
                *_conversation_filter(q)
            )
        )
    ).all()
    ids = _in_range(q)
    moves = {
        cid: rest
        for cid, *rest in (
            await session.execute(
                select(
                    StateTransition.conversation_id,
                    func.max(
                        case(
                            (
                                (StateTransition.from_state == "bot")
                                & StateTransition.to_state.in_(HANDOFF_TARGETS),
                                1,
                            ),
                            else_=0,
                        )
                    ),
                    _first_of("queued"),
                    _first_of("agent"),
                    _first_of("closed"),
                )
                .join(ids, ids.c.id == StateTransition.conversation_id)
                .group_by(StateTransition.conversation_id)
            )
        ).all()
    }
    first_agent = dict(
        (
            await session.execute(
                select(Message.conversation_id, func.min(Message.created_at))
                .join(ids, ids.c.id == Message.conversation_id)
                .where(Message.sender == "agent")
                .group_by(Message.conversation_id)
            )
        ).all()
    )
    first_actor: dict[str, str] = {}
    for cid, actor in (
        await session.execute(
            select(StateTransition.conversation_id, StateTransition.actor)
            .join(ids, ids.c.id == StateTransition.conversation_id)
            .where(StateTransition.to_state == "agent")
            .order_by(StateTransition.created_at.desc(), StateTransition.id.desc())
        )
    ).all():
        first_actor[cid] = actor  # ordered newest first: the earliest assignment is written last
    ratings = dict(
        (
            await session.execute(
                select(CsatRating.conversation_id, CsatRating.rating).join(
                    ids, ids.c.id == CsatRating.conversation_id
                )
            )
        ).all()
    )
    out = []
    for cid, customer, created in base:
        handed, handoff_at, assigned, closed = moves.get(cid, (0, None, None, None))
        out.append(
            ConvRow(
                cid,
                customer,
                _utc(created) or created,
                bool(handed),
                _utc(_dt(handoff_at)),
                _utc(_dt(assigned)),
                _utc(_dt(closed)),
                _utc(_dt(first_agent.get(cid))),
                str(first_actor.get(cid, "")).removeprefix("agent:"),
                ratings.get(cid),
            )
        )
    return out


def _dt(value: Any) -> datetime | None:
    """An aggregate's datetime: SQLite hands ``MIN(CASE ...)`` back as text."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None or later < earlier:
        return None
    return (later - earlier).total_seconds()


def _avg(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def p90(values: Sequence[float]) -> float | None:
    """Nearest-rank 90th percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _handle(row: ConvRow) -> float | None:
    return _seconds(row.closed_at, row.assigned_at) if row.closed_at and row.assigned_at else None


async def _repeats(session: AsyncSession, closed: list[ConvRow]) -> set[str]:
    """Closed conversations whose customer came back within 48 h of the close."""
    if not closed:
        return set()
    first_close = min(r.closed_at for r in closed if r.closed_at)
    customers = {r.customer_id for r in closed}
    ids = [r.id for r in closed]
    reopens: dict[str, list[datetime]] = defaultdict(list)
    for cid, at in (
        await session.execute(
            select(StateTransition.conversation_id, StateTransition.created_at).where(
                StateTransition.conversation_id.in_(ids),
                StateTransition.from_state == "closed",
                StateTransition.created_at >= _db(first_close),
            )
        )
    ).all():
        reopens[cid].append(_utc(at) or at)
    returns: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    new_convs = select(Conversation.customer_id, Conversation.id, Conversation.created_at).where(
        Conversation.customer_id.in_(customers), Conversation.created_at >= _db(first_close)
    )
    tickets = select(Ticket.customer_id, Ticket.conversation_id, Ticket.created_at).where(
        Ticket.customer_id.in_(customers), Ticket.created_at >= _db(first_close)
    )
    for query, own_thread_counts in ((new_convs, False), (tickets, True)):
        for customer, cid, at in (await session.execute(query)).all():
            returns[customer].append((cid if not own_thread_counts else "", _utc(at) or at))
    out = set()
    for row in closed:
        assert row.closed_at is not None
        window_end = row.closed_at + REPEAT_WINDOW
        if any(row.closed_at < at <= window_end for at in reopens.get(row.id, [])) or any(
            cid != row.id and row.closed_at < at <= window_end for cid, at in returns.get(row.customer_id, [])
        ):
            out.add(row.id)
    return out


def _ticket_filter(q: ReportQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [
        Ticket.created_at >= _db(q.utc_start),
        Ticket.created_at < _db(q.utc_end),
    ]
    if q.channel:
        where.append(Ticket.channel == q.channel)
    if q.group:
        where.append(Ticket.group == q.group)
    if q.lang:
        where.append(exists().where(Conversation.id == Ticket.conversation_id, Conversation.lang == q.lang))
    if q.agent:
        where.append(exists().where(User.id == Ticket.assignee_id, User.username == q.agent))
    return where


async def _tickets(
    session: AsyncSession, q: ReportQuery
) -> tuple[list[tuple[int, datetime, bool]], set[int]]:
    rows = (
        await session.execute(
            select(
                Ticket.id,
                Ticket.created_at,
                Ticket.first_response_due.is_not(None) | Ticket.resolution_due.is_not(None),
            ).where(*_ticket_filter(q))
        )
    ).all()
    ids = [r[0] for r in rows]
    breached: set[int] = set()
    if ids:
        for ticket_id, data in (
            await session.execute(
                select(TicketEvent.ticket_id, TicketEvent.data).where(
                    TicketEvent.kind == SLA_ALERT, TicketEvent.ticket_id.in_(ids)
                )
            )
        ).all():
            if isinstance(data, dict) and data.get("level") == "breached":
                breached.add(ticket_id)
    return [(tid, _utc(at) or at, bool(has_due)) for tid, at, has_due in rows], breached


async def _reasons(session: AsyncSession, q: ReportQuery) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(StateTransition.reason, func.count())
            .join(Conversation, Conversation.id == StateTransition.conversation_id)
            .where(
                StateTransition.from_state == "bot",
                StateTransition.to_state.in_(HANDOFF_TARGETS),
                *_conversation_filter(q),
            )
            .group_by(StateTransition.reason)
            .order_by(func.count().desc(), StateTransition.reason)
        )
    ).all()
    return [{"reason": reason or "unknown", "count": int(n)} for reason, n in rows]


async def _hot_questions(session: AsyncSession, q: ReportQuery) -> list[dict[str, Any]]:
    text = func.trim(Message.text)
    rows = (
        await session.execute(
            select(text, func.count())
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Message.sender == "customer",
                Message.created_at >= _db(q.utc_start),
                Message.created_at < _db(q.utc_end),
                func.length(text) >= 2,
                ~Message.text.like("/%"),
                *_conversation_filter(q)[2:],  # the conversation's filters, not its creation day
            )
            .group_by(text)
            .order_by(func.count().desc(), text)
            .limit(HOT_LIMIT)
        )
    ).all()
    return [{"text": t, "count": int(n)} for t, n in rows]


async def _suggestions(session: AsyncSession, q: ReportQuery) -> dict[str, Any]:
    where = _conversation_filter(q)
    uses, unedited = (
        await session.execute(
            select(
                func.count(), func.coalesce(func.sum(case((SuggestionUse.edited.is_(False), 1), else_=0)), 0)
            )
            .join(Conversation, Conversation.id == SuggestionUse.conversation_id)
            .where(*where)
        )
    ).one()
    replies = await session.scalar(
        select(func.count())
        .select_from(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.sender == "agent", *where)
    )
    return {
        "used": int(uses),
        "unedited": int(unedited),
        "agent_replies": int(replies or 0),
        "acceptance_rate": _rate(int(uses), int(replies or 0)),
        "unedited_rate": _rate(int(unedited), int(uses)),
    }


async def overview(session: AsyncSession, q: ReportQuery) -> Report:
    rows = await load_conversations(session, q)
    report = Report(q)
    handed = [r for r in rows if r.handed_off]
    closed = [r for r in rows if r.closed_at is not None]
    first_responses = [s for r in rows if (s := _seconds(r.first_agent_at, r.handoff_at)) is not None]
    handles = [s for r in rows if (s := _handle(r)) is not None]
    waits = [s for r in rows if (s := _seconds(r.assigned_at, r.handoff_at)) is not None]
    ratings = [r.rating for r in rows if r.rating is not None]
    repeats = await _repeats(session, closed)
    tickets, breached = await _tickets(session, q)
    with_due = [t for t in tickets if t[2]]
    report.overview = {
        "conversations": len(rows),
        "handoffs": len(handed),
        "bot_resolution_rate": _rate(len(rows) - len(handed), len(rows)),
        "handoff_rate": _rate(len(handed), len(rows)),
        "first_response_seconds_avg": _avg(first_responses),
        "handle_seconds_avg": _avg(handles),
        "queue_wait_seconds_p90": None if (wait90 := p90(waits)) is None else round(wait90, 2),
        "one_time_resolution_rate": _rate(len(closed) - len(repeats), len(closed)),
        "csat_avg": _avg([float(r) for r in ratings]),
        "csat_response_rate": _rate(len(ratings), len(closed)),
        "tickets_created": len(tickets),
        "sla_attainment": _rate(sum(1 for t in with_due if t[0] not in breached), len(with_due)),
    }
    per_day: dict[date, dict[str, Any]] = {
        d: {"conversations": 0, "handoffs": 0, "ratings": [], "tickets": 0} for d in q.days()
    }
    for r in rows:
        bucket = per_day.get(local_day(r.created_at, q.tz))
        if bucket is None:
            continue
        bucket["conversations"] += 1
        bucket["handoffs"] += int(r.handed_off)
        if r.rating is not None:
            bucket["ratings"].append(float(r.rating))
    for _tid, at, _due in tickets:
        if (bucket := per_day.get(local_day(at, q.tz))) is not None:
            bucket["tickets"] += 1
    report.by_day = [
        {
            "day": d.isoformat(),
            "conversations": b["conversations"],
            "handoffs": b["handoffs"],
            "handoff_rate": _rate(b["handoffs"], b["conversations"]),
            "csat_avg": _avg(b["ratings"]),
            "tickets": b["tickets"],
        }
        for d, b in per_day.items()
    ]
    by_agent: dict[str, list[ConvRow]] = defaultdict(list)
    for r in rows:
        if r.agent:
            by_agent[r.agent].append(r)
    report.agents = [
        {
            "agent": name,
            "conversations": len(convs),
            "first_response_seconds_avg": _avg(
                [s for r in convs if (s := _seconds(r.first_agent_at, r.handoff_at)) is not None]
            ),
            "handle_seconds_avg": _avg([s for r in convs if (s := _handle(r)) is not None]),
            "csat_avg": _avg([float(r.rating) for r in convs if r.rating is not None]),
            "csat_count": sum(1 for r in convs if r.rating is not None),
        }
        for name, convs in sorted(by_agent.items())
    ]
    report.handoff_reasons = await _reasons(session, q)
    report.hot_questions = await _hot_questions(session, q)
    report.suggestions = await _suggestions(session, q)
    return report


OVERVIEW_FIELDS = (
    "conversations",
    "handoffs",
    "bot_resolution_rate",
    "handoff_rate",
    "first_response_seconds_avg",
    "handle_seconds_avg",
    "queue_wait_seconds_p90",
    "one_time_resolution_rate",
    "csat_avg",
    "csat_response_rate",
    "tickets_created",
    "sla_attainment",
)


def to_csv(report: Report) -> str:
    """The overview, then the by-day series and the per-agent table, as one CSV (sections)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", *OVERVIEW_FIELDS])
    writer.writerow(
        [
            "overview",
            f"{report.query.start}..{report.query.end}",
            *[_cell(report.overview.get(f)) for f in OVERVIEW_FIELDS],
        ]
    )
    writer.writerow([])
    writer.writerow(["section", "day", "conversations", "handoffs", "handoff_rate", "csat_avg", "tickets"])
    for d in report.by_day:
        writer.writerow(
            [
                "by_day",
                d["day"],
                d["conversations"],
                d["handoffs"],
                _cell(d["handoff_rate"]),
                _cell(d["csat_avg"]),
                d["tickets"],
            ]
        )
    writer.writerow([])
    writer.writerow(
        [
            "section",
            "agent",
            "conversations",
            "first_response_seconds_avg",
            "handle_seconds_avg",
            "csat_avg",
            "csat_count",
        ]
    )
    for a in report.agents:
        writer.writerow(
            [
                "agent",
                inert(a["agent"]),
                a["conversations"],
                _cell(a["first_response_seconds_avg"]),
                _cell(a["handle_seconds_avg"]),
                _cell(a["csat_avg"]),
                a["csat_count"],
            ]
        )
    writer.writerow([])
    writer.writerow(["section", "reason", "count"])
    for r in report.handoff_reasons:
        writer.writerow(["handoff_reason", inert(r["reason"]), r["count"]])
    writer.writerow([])
    writer.writerow(["section", "question", "count"])
    for h in report.hot_questions:
        writer.writerow(["hot_question", inert(h["text"]), h["count"]])
    return out.getvalue()


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


__all__ = ["Report", "ReportQuery", "overview", "p90", "parse_query", "to_csv"]
