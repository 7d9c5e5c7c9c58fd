"""Ticket operations on a real migrated SQLite database: deadlines, changes, replies, reopening."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import repo as conversations
from conversations import tickets as service
from conversations.outbox import OutboxWriter
from core.errors import Conflict, NotFound, ValidationFailed
from handoff.staff import add_user
from tests.tickets.db import conversation_with
from tests.tickets.schedules import office, sh
from tickets.group_hours import save_group_hours
from tickets.hours import add_business_time
from tickets.lookup import ticket_status_for_customer
from tickets.model import Status, TicketChange, TicketFilter
from tickets.sla import DEFAULT_SLA_TABLE, Priority
from tickets.store import get_ticket

Sessions = async_sessionmaker[AsyncSession]


SINK = OutboxWriter()


async def new_ticket(sessions: Sessions, user: str, at: datetime) -> str:
    async with sessions.begin() as session:
        conv = await conversation_with(session, user, "我的快递三天没动了", "还在吗")
        view = await service.create_ticket_from_conversation(session, conv, now=at)
    return view.number


async def test_after_hours_ticket_waits_out_national_day(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        conv = await conversation_with(session, "u1", "我的快递三天没动了", "还在吗")
        view = await service.create_ticket_from_conversation(session, conv, now=sh(2025, 9, 30, 20))
    # Default hours 09:00-21:00 every day; Oct 1-8 are closed: 1 h on Sep 30, the rest from Oct 9.
    assert view.number == "T20250930-0001"
    assert view.subject == "我的快递三天没动了"
    assert view.status == Status.NEW and view.channel == "web"
    assert view.first_response_due == sh(2025, 10, 9, 12)  # normal: 4 h
    assert view.resolution_due == sh(2025, 10, 10, 12)  # normal: 16 h = 1 + 12 + 3
    async with sessions() as session:
        detail = await service.ticket_detail(session, view.number, now=sh(2025, 9, 30, 20, 5))
    assert [e.kind for e in detail.events] == ["created"]
    assert datetime.fromisoformat(detail.events[0].data["first_response_due"]) == sh(2025, 10, 9, 12)
    assert [line.text for line in detail.transcript] == ["我的快递三天没动了", "还在吗"]


async def test_group_hours_and_tier_choose_the_deadline(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await save_group_hours(session, "billing", office(), "ticket", "", sh(2025, 1, 1))
        conv = await conversation_with(session, "vip", "发票开错了", tier="S")
        view = await service.create_ticket_from_conversation(
            session, conv, now=sh(2025, 10, 10, 17, 30), group="billing", priority="high"
        )
    # S tier, high: 30 min first response; office closes 18:00 Fri, Sat Oct 11 is a 调休 workday.
    assert view.first_response_due == add_business_time(
        office(), sh(2025, 10, 10, 17, 30), timedelta(minutes=30)
    )
    assert view.first_response_due == sh(2025, 10, 10, 18)
    policy = DEFAULT_SLA_TABLE.policy_for("high", "S")
    assert view.resolution_due == add_business_time(office(), sh(2025, 10, 10, 17, 30), policy.resolution)


async def test_numbers_count_per_beijing_day(sessions: Sessions) -> None:
    first = await new_ticket(sessions, "a", sh(2025, 10, 13, 10))
    second = await new_ticket(sessions, "b", sh(2025, 10, 13, 23, 59))
    third = await new_ticket(sessions, "c", sh(2025, 10, 14, 0, 1))
    assert (first, second, third) == ("T20251013-0001", "T20251013-0002", "T20251014-0001")


async def test_each_change_is_recorded_with_old_and_new(sessions: Sessions) -> None:
    number = await new_ticket(sessions, "u2", sh(2025, 10, 13, 10))
    async with sessions.begin() as session:
        agent = await add_user(session, "alice", "password123", "agent")
        before = await get_ticket(session, number)
        old_due = before.first_response_due
        change = TicketChange(
            status=Status.OPEN,
            priority=Priority.URGENT,
            assignee_id=agent.id,
            assignee_set=True,
            tags=("物流", "延误", "物流"),
        )
        view = await service.update_ticket(
            session, number, change, actor="staff:bob", now=sh(2025, 10, 13, 10, 5)
        )
    assert view.priority == "urgent" and view.assignee_id == agent.id and view.tags == ("物流", "延误")
    assert view.first_response_due == sh(2025, 10, 13, 10, 30)  # urgent: 30 min from creation
    assert old_due is not None
    async with sessions() as session:
        detail = await service.ticket_detail(session, number, now=sh(2025, 10, 13, 10, 6))
    changes = {e.kind: e.data for e in detail.events if e.actor == "staff:bob"}
    assert changes["status"] == {"old": "new", "new": "open"}
    assert changes["priority"] == {"old": "normal", "new": "urgent"}
    assert changes["assignee"] == {"old": None, "new": agent.id}
    assert changes["tags"] == {"old": [], "new": ["物流", "延误"]}
    assert any(e.kind == "deadlines" for e in detail.events)
    async with sessions.begin() as session:  # the same values again change nothing
        await service.update_ticket(session, number, change, actor="staff:bob", now=sh(2025, 10, 13, 11))
    async with sessions() as session:
        again = await service.ticket_detail(session, number, now=sh(2025, 10, 13, 11))
    assert len(again.events) == len(detail.events)


async def test_invalid_changes_are_refused(sessions: Sessions) -> None:
    number = await new_ticket(sessions, "u3", sh(2025, 10, 13, 10))
    async with sessions.begin() as session:
        editor = await add_user(session, "eve", "password123", "editor")
    with pytest.raises(ValidationFailed) as bad_assignee:
        async with sessions.begin() as session:
            change = TicketChange(assignee_id=editor.id, assignee_set=True)
            await service.update_ticket(session, number, change, actor="x", now=sh(2025, 10, 13, 11))
    assert bad_assignee.value.code == "invalid_assignee"
    async with sessions.begin() as session:
        await service.update_ticket(
            session, number, TicketChange(status=Status.SOLVED), actor="x", now=sh(2025, 10, 13, 11)
        )
    with pytest.raises(Conflict) as bad_move:
        async with sessions.begin() as session:
            await service.update_ticket(
                session, number, TicketChange(status=Status.PENDING), actor="x", now=sh(2025, 10, 13, 12)
            )
    assert bad_move.value.code == "invalid_transition"
    async with sessions.begin() as session:
        await service.update_ticket(
            session, number, TicketChange(status=Status.CLOSED), actor="x", now=sh(2025, 10, 13, 12)
        )
    with pytest.raises(Conflict) as closed:
        async with sessions.begin() as session:
            await service.update_ticket(
                session, number, TicketChange(tags=("a",)), actor="x", now=sh(2025, 10, 13, 13)
            )
    assert closed.value.code == "ticket_closed"
    with pytest.raises(NotFound):
        async with sessions() as session:
            await service.ticket_detail(session, "T20990101-0001", now=sh(2025, 10, 13, 13))


async def test_pending_pauses_both_clocks_until_the_customer_answers(sessions: Sessions) -> None:
    number = await new_ticket(sessions, "u4", sh(2025, 10, 13, 10))  # due 14:00 / next day 14:00
    async with sessions.begin() as session:
        pending = TicketChange(status=Status.PENDING)
        view = await service.update_ticket(
            session, number, pending, actor="staff:a", now=sh(2025, 10, 13, 10, 30)
        )
    assert view.status == Status.PENDING and view.pending_since == sh(2025, 10, 13, 10, 30)
    assert view.first_response_due == sh(2025, 10, 13, 14)
    async with sessions.begin() as session:
        reopened = await service.on_customer_message(
            session, view.conversation_id, "补充一下", now=sh(2025, 10, 13, 12, 30)
        )
    assert reopened is not None and reopened.status == Status.OPEN and reopened.pending_since is None
    assert reopened.first_response_due == sh(2025, 10, 13, 16)  # two paused hours added
    assert reopened.resolution_due == sh(2025, 10, 14, 16)  # 16 h: 11 h on the 13th, 5 h on the 14th
    async with sessions() as session:
        detail = await service.ticket_detail(session, number, now=sh(2025, 10, 13, 12, 31))
        stored = await get_ticket(session, number)
    paused = [[datetime.fromisoformat(a), datetime.fromisoformat(b)] for a, b in stored.paused]
    assert paused == [[sh(2025, 10, 13, 10, 30), sh(2025, 10, 13, 12, 30)]]
    reopen = [e for e in detail.events if e.kind == "status" and e.actor == "customer"]
    assert [e.data for e in reopen] == [{"old": "pending", "new": "open", "reason": "customer_message"}]


async def test_customer_message_leaves_other_tickets_alone(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        conv = await conversation_with(session, "u5", "hello")
        assert await service.on_customer_message(session, conv.id, "hi", now=sh(2025, 10, 13, 10)) is None
        view = await service.create_ticket_from_conversation(session, conv, now=sh(2025, 10, 13, 10))
        opened = await service.on_customer_message(session, conv.id, "more", now=sh(2025, 10, 13, 10, 1))
    assert opened is not None and opened.status == Status.NEW
    async with sessions.begin() as session:
        await service.update_ticket(
            session, view.number, TicketChange(status=Status.CLOSED), actor="a", now=sh(2025, 10, 13, 11)
        )
        assert await service.on_customer_message(session, conv.id, "again", now=sh(2025, 10, 13, 12)) is None


async def test_reply_goes_into_the_conversation_and_stamps_the_first_response(sessions: Sessions) -> None:
    number = await new_ticket(sessions, "u6", sh(2025, 10, 13, 10))
    async with sessions.begin() as session:
        result = await service.reply(
            session, number, "已为您催件", actor="staff:alice", now=sh(2025, 10, 13, 10, 20), sink=SINK
        )
    assert result.ticket.status == Status.OPEN
    assert result.ticket.first_responded_at == sh(2025, 10, 13, 10, 20)
    assert result.message.sender == "agent" and result.message.conversation_id == result.conversation.id
    async with sessions.begin() as session:
        await service.reply(
            session, number, "快递已出发", actor="staff:alice", now=sh(2025, 10, 13, 11), sink=SINK
        )
    async with sessions() as session:
        detail = await service.ticket_detail(session, number, now=sh(2025, 10, 13, 11))
        transcript = await conversations.messages_after(session, detail.ticket.conversation_id, 0)
    assert detail.ticket.first_responded_at == sh(2025, 10, 13, 10, 20)
    assert [(m.sender, m.text) for m in transcript][-2:] == [("agent", "已为您催件"), ("agent", "快递已出发")]
    replies = [e for e in detail.events if e.kind == "reply"]
    assert [e.data["text"] for e in replies] == ["已为您催件", "快递已出发"]
    assert replies[0].data["message_id"] == result.message.id
    assert detail.ticket.sla is not None and detail.ticket.sla.first_response == "met"


async def test_notes_stay_internal(sessions: Sessions) -> None:
    number = await new_ticket(sessions, "u7", sh(2025, 10, 13, 10))
    async with sessions.begin() as session:
        await service.add_note(
            session, number, "客户很着急", actor="staff:alice", now=sh(2025, 10, 13, 10, 1)
        )
    async with sessions() as session:
        detail = await service.ticket_detail(session, number, now=sh(2025, 10, 13, 10, 2))
    assert [(e.kind, e.data) for e in detail.events][-1] == ("note", {"text": "客户很着急"})
    assert "客户很着急" not in [line.text for line in detail.transcript]
    assert detail.ticket.first_responded_at is None  # a note is not a response


async def test_customer_asks_after_their_latest_open_ticket(sessions: Sessions) -> None:
    first = await new_ticket(sessions, "u8", sh(2025, 10, 13, 10))
    async with sessions() as session:
        customer_id = (await get_ticket(session, first)).customer_id
        summary = await ticket_status_for_customer(session, customer_id)
        assert await ticket_status_for_customer(session, "nobody") is None
    assert summary is not None and summary.number == first and summary.status == Status.NEW
    assert summary.first_response_due == sh(2025, 10, 13, 14)
    async with sessions.begin() as session:
        await service.update_ticket(
            session, first, TicketChange(status=Status.CLOSED), actor="a", now=sh(2025, 10, 13, 11)
        )
    async with sessions() as session:
        assert await ticket_status_for_customer(session, customer_id) is None


async def test_list_filters_searches_and_pages(sessions: Sessions) -> None:
    numbers = []
    for index, text in enumerate(["退款 100%", "发票问题", "退款进度", "物流"]):
        async with sessions.begin() as session:
            conv = await conversation_with(session, f"l{index}", text)
            view = await service.create_ticket_from_conversation(
                session, conv, now=sh(2025, 10, 13, 10, index), priority="high" if index % 2 else "low"
            )
            numbers.append(view.number)
    async with sessions() as session:
        found = await service.list_tickets(session, TicketFilter(text="退款"), now=sh(2025, 10, 13, 11))
        assert [t.number for t in found.tickets] == [numbers[2], numbers[0]]
        percent = await service.list_tickets(session, TicketFilter(text="%"), now=sh(2025, 10, 13, 11))
        assert [t.number for t in percent.tickets] == [numbers[0]]
        high = await service.list_tickets(
            session, TicketFilter(priority=Priority.HIGH), now=sh(2025, 10, 13, 11)
        )
        assert {t.number for t in high.tickets} == {numbers[1], numbers[3]}
        page2 = await service.list_tickets(
            session, TicketFilter(page=2, page_size=3), now=sh(2025, 10, 13, 11)
        )
        assert page2.total == 4 and [t.number for t in page2.tickets] == [numbers[0]]
        by_number = await service.list_tickets(
            session, TicketFilter(text=numbers[3]), now=sh(2025, 10, 13, 11)
        )
        assert [t.number for t in by_number.tickets] == [numbers[3]]


async def test_a_deadline_beyond_the_holiday_data_leaves_the_ticket_without_one(sessions: Sessions) -> None:
    # chinese-calendar 1.11 knows 2004-2026: a normal ticket at 2026-12-31 20:30 is due in 2027.
    async with sessions.begin() as session:
        conv = await conversation_with(session, "ny", "新年快乐")
        view = await service.create_ticket_from_conversation(session, conv, now=sh(2026, 12, 31, 20, 30))
    assert view.first_response_due is None and view.resolution_due is None
    async with sessions() as session:
        detail = await service.ticket_detail(session, view.number, now=sh(2026, 12, 31, 20, 31))
    assert [e.kind for e in detail.events] == ["sla_unavailable", "created"]
    assert detail.events[0].data["code"] == "holiday_data_missing"
    assert detail.ticket.sla is None


async def test_the_tier_given_at_creation_sets_the_deadlines(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        conv = await conversation_with(session, "tier-a", "hello")  # a normal-tier customer
        view = await service.create_ticket_from_conversation(
            session, conv, now=sh(2025, 10, 13, 10), tier="A"
        )
    assert view.first_response_due == sh(2025, 10, 13, 12)  # normal priority, tier A: 2 h
    async with sessions() as session:
        detail = await service.ticket_detail(session, view.number, now=sh(2025, 10, 13, 10))
    assert detail.events[0].data["tier"] == "A"
