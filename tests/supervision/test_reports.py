"""The overview report on a hand-built history; every expected figure is worked out by hand
in the comments next to it. Business time zone Asia/Shanghai (UTC+8) unless said otherwise."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.tables import (
    Conversation,
    CsatRating,
    Customer,
    Message,
    QueueEntryRecord,
    StateTransition,
    SuggestionUse,
)
from core.errors import ValidationFailed
from supervision.reports import Report, ReportQuery, day_start, overview, p90, parse_query, to_csv
from tickets.tables import Ticket, TicketEvent

SH = ZoneInfo("Asia/Shanghai")


def utc(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


def conv(session: AsyncSession, cid: str, customer: str, at: datetime, channel: str = "web") -> None:
    session.add(
        Conversation(id=cid, customer_id=customer, channel=channel, channel_user_id=cid, created_at=at)
    )


def move(
    session: AsyncSession, cid: str, src: str, dst: str, at: datetime, reason: str = "", actor: str = "system"
) -> None:
    session.add(
        StateTransition(
            conversation_id=cid, from_state=src, to_state=dst, reason=reason, actor=actor, created_at=at
        )
    )


def say(session: AsyncSession, cid: str, sender: str, text: str, at: datetime) -> None:
    session.add(Message(conversation_id=cid, sender=sender, text=text, created_at=at))


async def build_history(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as s:
        for customer in ("cuA", "cuB", "cuC", "cuD", "cuF", "cuG"):
            s.add(Customer(id=customer))
        await s.flush()
        # A: 03-01 16:30 UTC = 03-02 00:30 in Shanghai -> day 03-02; the bot answers it.
        conv(s, "A", "cuA", utc(1, 16, 30))
        say(s, "A", "customer", "退货", utc(1, 16, 30))
        # B: 10:00 local; handoff 02:01, assigned to alice 02:03, first reply 02:04, closed 02:20.
        conv(s, "B", "cuB", utc(2, 2))
        say(s, "B", "customer", " 退货 ", utc(2, 2))
        move(s, "B", "bot", "queued", utc(2, 2, 1), "low_confidence", "bot")
        move(s, "B", "queued", "agent", utc(2, 2, 3), "assigned", "agent:alice")
        say(s, "B", "agent", "您好", utc(2, 2, 4))
        say(s, "B", "agent", "已处理", utc(2, 2, 10))
        move(s, "B", "agent", "closed", utc(2, 2, 20), "closed", "agent:alice")
        say(s, "B", "customer", "/csat 5", utc(2, 2, 21))
        s.add(QueueEntryRecord(conversation_id="B", group="general", score=1, enqueued_at=0.0))
        # C: handoff 05:00:30, assigned to bob 05:10:30, first reply 05:11:30, closed 05:30:30;
        # its customer comes back the next day (E): not resolved the first time.
        conv(s, "C", "cuC", utc(2, 5))
        say(s, "C", "customer", "人工", utc(2, 5))
        move(s, "C", "bot", "queued", utc(2, 5, 0, 30), "customer_request", "bot")
        move(s, "C", "queued", "agent", utc(2, 5, 10, 30), "assigned", "agent:bob")
        say(s, "C", "agent", "在的", utc(2, 5, 11, 30))
        move(s, "C", "agent", "closed", utc(2, 5, 30, 30), "closed", "agent:bob")
        s.add(QueueEntryRecord(conversation_id="C", group="vip", score=1, enqueued_at=0.0))
        # D: 03-02 16:10 UTC = 03-03 00:10 local -> day 03-03; after hours, a ticket.
        conv(s, "D", "cuD", utc(2, 16, 10), channel="app")
        move(s, "D", "bot", "ticket", utc(2, 16, 11), "after_hours", "system")
        # E: cuC again, 03-03 03:00 UTC (within 48 h of C's close); the bot answers.
        conv(s, "E", "cuC", utc(3, 3))
        say(s, "E", "customer", "退货", utc(3, 3))
        # F: 03-03 16:00 UTC = 03-04 00:00 local: after the range.
        conv(s, "F", "cuF", utc(3, 16))
        say(s, "F", "customer", "退货", utc(3, 16))
        move(s, "F", "bot", "queued", utc(3, 16, 1), "low_confidence", "bot")
        # G: 03-01 15:59 UTC = 03-01 23:59 local: before the range.
        conv(s, "G", "cuG", utc(1, 15, 59))
        await s.flush()
        s.add(CsatRating(conversation_id="B", rating=5))
        s.add(CsatRating(conversation_id="C", rating=3))
        s.add(SuggestionUse(conversation_id="B", agent_id=1, source="faq", key="k", edited=False))
        due = utc(10, 0)
        ticket_d = Ticket(
            number="T-D",
            customer_id="cuD",
            conversation_id="D",
            channel="app",
            subject="s",
            group="general",
            first_response_due=due,
            created_at=utc(2, 16, 11),
        )
        ticket_a = Ticket(
            number="T-A",
            customer_id="cuA",
            conversation_id="A",
            channel="web",
            subject="s",
            group="general",
            first_response_due=due,
            created_at=utc(2, 1),
        )
        s.add_all([ticket_d, ticket_a])
        await s.flush()
        s.add(TicketEvent(ticket_id=ticket_d.id, kind="sla_alert", actor="system", data={"level": "at_risk"}))
        s.add(
            TicketEvent(ticket_id=ticket_d.id, kind="sla_alert", actor="system", data={"level": "breached"})
        )
        s.add(TicketEvent(ticket_id=ticket_a.id, kind="sla_alert", actor="system", data={"level": "at_risk"}))


def query(
    tz: ZoneInfo = SH, start: date = date(2026, 3, 2), end: date = date(2026, 3, 3), **kw: str
) -> ReportQuery:
    return ReportQuery(start, end, tz, **kw)


async def test_the_overview_of_a_hand_built_history(sessions: async_sessionmaker[AsyncSession]) -> None:
    await build_history(sessions)
    async with sessions() as session:
        report = (await overview(session, query())).to_json()
    assert report["conversations"] == 5  # A B C D E (F after, G before the range in Shanghai)
    assert report["handoffs"] == 3  # B C D
    assert report["handoff_rate"] == 0.6 and report["bot_resolution_rate"] == 0.4
    assert report["first_response_seconds_avg"] == 420.0  # B 180 s, C 660 s
    assert report["handle_seconds_avg"] == 1110.0  # B 1020 s, C 1200 s
    assert report["queue_wait_seconds_p90"] == 600.0  # waits 120, 600: nearest rank 2 of 2
    assert report["one_time_resolution_rate"] == 0.5  # B yes; C's customer came back (E)
    assert report["csat_avg"] == 4.0 and report["csat_response_rate"] == 1.0  # 5 and 3; 2 of 2 closed
    assert report["tickets_created"] == 2
    assert report["sla_attainment"] == 0.5  # T-D breached; T-A only at risk
    assert report["by_day"] == [
        {
            "day": "2026-03-02",
            "conversations": 3,
            "handoffs": 2,
            "handoff_rate": 0.6667,
            "csat_avg": 4.0,
            "tickets": 1,
        },
        {
            "day": "2026-03-03",
            "conversations": 2,
            "handoffs": 1,
            "handoff_rate": 0.5,
            "csat_avg": None,
            "tickets": 1,
        },
    ]
    assert report["agents"] == [
        {
            "agent": "alice",
            "conversations": 1,
            "first_response_seconds_avg": 180.0,
            "handle_seconds_avg": 1020.0,
            "csat_avg": 5.0,
            "csat_count": 1,
        },
        {
            "agent": "bob",
            "conversations": 1,
            "first_response_seconds_avg": 660.0,
            "handle_seconds_avg": 1200.0,
            "csat_avg": 3.0,
            "csat_count": 1,
        },
    ]
    assert report["handoff_reasons"] == [
        {"reason": "after_hours", "count": 1},
        {"reason": "customer_request", "count": 1},
        {"reason": "low_confidence", "count": 1},
    ]
    # 退货 in A, B (trimmed), E; F's is after the range; /csat is a command, not a question
    assert report["hot_questions"] == [{"text": "退货", "count": 3}, {"text": "人工", "count": 1}]
    assert report["suggestions"] == {
        "used": 1,
        "unedited": 1,
        "agent_replies": 3,
        "acceptance_rate": 0.3333,
        "unedited_rate": 1.0,
    }


async def test_the_business_time_zone_decides_the_day(sessions: async_sessionmaker[AsyncSession]) -> None:
    await build_history(sessions)
    async with sessions() as session:
        shanghai = await overview(session, query(start=date(2026, 3, 2), end=date(2026, 3, 2)))
        in_utc = await overview(session, query(ZoneInfo("UTC"), date(2026, 3, 2), date(2026, 3, 2)))
    assert shanghai.overview["conversations"] == 3  # A B C (D is 03-03 in Shanghai)
    assert in_utc.overview["conversations"] == 3  # B C D (A is 03-01 in UTC)
    assert in_utc.overview["handoffs"] == 3 and shanghai.overview["handoffs"] == 2


async def test_a_daylight_saving_day_has_23_hours(sessions: async_sessionmaker[AsyncSession]) -> None:
    ny = ZoneInfo("America/New_York")  # clocks go forward on 2026-03-08
    assert day_start(date(2026, 3, 9), ny) - day_start(date(2026, 3, 8), ny) == timedelta(hours=23)
    async with sessions.begin() as s:
        s.add(Customer(id="c"))
        await s.flush()
        conv(s, "late", "c", utc(9, 3, 30))  # 23:30 EDT on 03-08
        conv(s, "next", "c", utc(9, 4, 30))  # 00:30 EDT on 03-09 (a fixed 24 h day would take it)
    async with sessions() as session:
        report = await overview(session, query(ny, date(2026, 3, 8), date(2026, 3, 8)))
    assert report.overview["conversations"] == 1


async def test_filters_narrow_every_figure(sessions: async_sessionmaker[AsyncSession]) -> None:
    await build_history(sessions)
    async with sessions() as session:
        alice = await overview(session, query(agent="alice"))
        vip = await overview(session, query(group="vip"))
        app = await overview(session, query(channel="app"))
    assert alice.overview["conversations"] == 1 and alice.overview["handoff_rate"] == 1.0
    assert [a["agent"] for a in alice.agents] == ["alice"]
    assert vip.overview["conversations"] == 1 and vip.overview["first_response_seconds_avg"] == 660.0
    assert app.overview["conversations"] == 1 and app.overview["tickets_created"] == 1
    assert app.overview["sla_attainment"] == 0.0


async def test_csv_has_the_same_figures(sessions: async_sessionmaker[AsyncSession]) -> None:
    await build_history(sessions)
    async with sessions() as session:
        report = await overview(session, query())
    rows = list(csv.reader(io.StringIO(to_csv(report))))
    header, values = rows[0], rows[1]
    figures = dict(zip(header[2:], values[2:], strict=True))
    assert figures["conversations"] == "5" and figures["handoff_rate"] == "0.6"
    assert figures["csat_avg"] == "4.0" and figures["queue_wait_seconds_p90"] == "600.0"
    assert ["by_day", "2026-03-03", "2", "1", "0.5", "", "1"] in rows


def test_p90_is_the_nearest_rank() -> None:
    assert p90([]) is None
    assert p90([5.0]) == 5.0
    assert p90([float(n) for n in range(1, 11)]) == 9.0  # rank ceil(9) = 9
    assert p90([float(n) for n in range(1, 12)]) == 10.0  # rank ceil(9.9) = 10


@pytest.mark.parametrize(
    "args",
    [
        {"from": "2026-03-02"},
        {"from": "2026-13-01", "to": "2026-13-02"},
        {"from": "2026-03-05", "to": "2026-03-01"},
        {"from": "2025-01-01", "to": "2026-03-01"},
    ],
)
def test_bad_ranges_are_refused(args: dict[str, str]) -> None:
    with pytest.raises(ValidationFailed):
        parse_query(args, SH)


def test_without_dates_the_last_week_ends_today_in_the_business_time_zone() -> None:
    late_evening_utc = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)  # 01:00 on 03-02 in Shanghai
    week = parse_query({}, SH, now=late_evening_utc)
    assert (week.start, week.end) == (date(2026, 2, 24), date(2026, 3, 2))
    in_utc = parse_query({}, ZoneInfo("UTC"), now=late_evening_utc)
    assert in_utc.end == date(2026, 3, 1)


def test_csv_cells_from_people_run_no_formula() -> None:
    report = Report(
        query(),
        agents=[{"agent": "=agent", "conversations": 1, "first_response_seconds_avg": None,
                 "handle_seconds_avg": None, "csat_avg": None, "csat_count": 0}],
        handoff_reasons=[{"reason": "+reason", "count": 1}],
        hot_questions=[{"text": "=cmd|' /C calc'!A0", "count": 2}, {"text": "@SUM(A1)", "count": 1}],
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO(to_csv(report))))
    assert ["agent", "'=agent", "1", "", "", "", "0"] in rows
    assert ["handoff_reason", "'+reason", "1"] in rows
    assert ["hot_question", "'=cmd|' /C calc'!A0", "2"] in rows and ["hot_question", "'@SUM(A1)", "1"] in rows
