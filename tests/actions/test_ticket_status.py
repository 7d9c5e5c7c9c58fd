"""``action_ticket_status`` on a real migrated SQLite database, with rasa_sdk's real tracker."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.texts import TICKET_STATES, ticket_state
from actions.ticket_status import ActionTicketStatus, find_ticket_no, local_time
from conversations import tickets as service
from conversations.outbox import OutboxWriter
from core.errors import Unavailable
from store.engine import create_engine, session_factory
from store.migrate import upgrade
from tests.actions.conftest import user_message
from tests.tickets.db import conversation_with
from tickets.lookup import SqlTicketLookup
from tickets.model import Status, TicketChange, TicketSummary, TicketView

SHANGHAI = ZoneInfo("Asia/Shanghai")
CREATED = datetime(2026, 11, 23, 20, 0, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class TicketDb:
    url: str
    alice: TicketView  # customer of "alice" on the web channel
    bob: TicketView


@pytest.fixture
async def ticket_db(tmp_path: Path) -> AsyncIterator[TicketDb]:
    """A migrated database with one new ticket for each of two customers."""
    url = f"sqlite:///{tmp_path / 'kefu.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    try:
        async with session_factory(engine).begin() as session:
            alice = await service.create_ticket_from_conversation(
                session, await conversation_with(session, "alice", "我的快递三天没动了"), now=CREATED
            )
            bob = await service.create_ticket_from_conversation(
                session, await conversation_with(session, "bob", "发票开错了"), now=CREATED
            )
    finally:
        await engine.dispose()
    yield TicketDb(url, alice, bob)


@pytest.fixture
async def lookup(ticket_db: TicketDb) -> AsyncIterator[SqlTicketLookup]:
    tickets = SqlTicketLookup(ticket_db.url)
    try:
        yield tickets
    finally:
        await tickets.close()


def tracker(text: str, customer_id: str | None, lang: str | None = None) -> Tracker:
    message = user_message(text, lang)
    message["intent"] = {"name": "ticket_status", "confidence": 0.95}
    if customer_id is not None:
        message["metadata"]["customer_id"] = customer_id
    events = [{"event": "user", "text": text, "parse_data": message, "metadata": message["metadata"]}]
    return Tracker("conv-1", {}, message, events, False, None, {}, "action_listen")


async def say(action: ActionTicketStatus, tracker: Tracker, domain: dict[str, Any]) -> str:
    dispatcher = CollectingDispatcher()
    assert await action.run(dispatcher, tracker, domain) == []
    [message] = dispatcher.messages
    return str(message["text"])


def test_ticket_numbers_in_any_case() -> None:
    assert find_ticket_no("查一下工单T20261123-0001") == "T20261123-0001"
    assert find_ticket_no("ticket t20261123-0001, please") == "T20261123-0001"
    assert find_ticket_no("T20261123-001") is None
    assert find_ticket_no("T20261123-00012") is None
    assert find_ticket_no("XT20261123-0001") is None
    assert find_ticket_no("我的工单怎么样了") is None


def test_local_time_is_beijing_time() -> None:
    moment = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    assert local_time(moment, "zh") == "11月24日 10:00"
    assert local_time(moment, "en") == "24 Nov 10:00"


async def test_open_ticket_in_chinese_with_the_first_answer_due(
    ticket_db: TicketDb, lookup: SqlTicketLookup, domain: dict[str, Any]
) -> None:
    ticket = ticket_db.alice
    assert ticket.number == "T20261123-0001" and ticket.first_response_due is not None
    action = ActionTicketStatus(lookup, clock=lambda: CREATED + timedelta(minutes=5))
    reply = await say(action, tracker("我的工单怎么样了", ticket.customer_id), domain)
    due = local_time(ticket.first_response_due, "zh")
    assert reply == (
        "您的工单 T20261123-0001（我的快递三天没动了）目前状态：已受理，等待客服处理。"
        f"预计 {due} 前给您首次答复。"
    )


async def test_open_ticket_in_english(
    ticket_db: TicketDb, lookup: SqlTicketLookup, domain: dict[str, Any]
) -> None:
    ticket = ticket_db.bob
    assert ticket.first_response_due is not None
    action = ActionTicketStatus(lookup, clock=lambda: CREATED)
    reply = await say(action, tracker("any update on my ticket?", ticket.customer_id), domain)
    assert reply == (
        f"Your ticket {ticket.number} (发票开错了): received, waiting for a colleague. "
        f"Expect a first answer by {local_time(ticket.first_response_due, 'en')} (Beijing time)."
    )


async def test_a_missed_first_answer_promises_no_time(
    ticket_db: TicketDb, lookup: SqlTicketLookup, domain: dict[str, Any]
) -> None:
    ticket = ticket_db.alice
    assert ticket.first_response_due is not None
    late = ticket.first_response_due + timedelta(hours=1)
    reply = await say(
        ActionTicketStatus(lookup, clock=lambda: late), tracker("status", ticket.customer_id), domain
    )
    assert reply == (
        "Your ticket T20261123-0001 (我的快递三天没动了): received, waiting for a colleague. "
        "A colleague will answer as soon as possible."
    )


async def test_a_ticket_waiting_on_the_customer_says_so(
    ticket_db: TicketDb, lookup: SqlTicketLookup, domain: dict[str, Any]
) -> None:
    engine = create_engine(ticket_db.url)
    try:
        async with session_factory(engine).begin() as session:
            await service.update_ticket(
                session,
                ticket_db.alice.number,
                TicketChange(status=Status.PENDING),
                actor="staff:amy",
                now=CREATED + timedelta(hours=1),
            )
    finally:
        await engine.dispose()
    reply = await say(ActionTicketStatus(lookup), tracker("工单进度", ticket_db.alice.customer_id), domain)
    assert reply == "您的工单 T20261123-0001（我的快递三天没动了）目前状态：等待您的回复。"


async def test_an_answered_ticket_is_being_worked_on(
    ticket_db: TicketDb, lookup: SqlTicketLookup, domain: dict[str, Any]
) -> None:
    engine = create_engine(ticket_db.url)
    try:
        async with session_factory(engine).begin() as session:
            await service.reply(
                session,
                ticket_db.alice.number,
                "正在为您查询物流",
                actor="staff:amy",
                now=CREATED + timedelta(hours=1),
                sink=OutboxWriter(),
            )
    finally:
        await engine.dispose()
    reply = await say(
        ActionTicketStatus(lookup), tracker("工单进度", ticket_db.alice.customer_id, "en"), domain
    )
    assert reply == "Your ticket T20261123-0001 (我的快递三天没动了): being worked on."


async def test_no_ticket_offers_a_human(lookup: SqlTicketLookup, domain: dict[str, Any]) -> None:
    reply = await say(ActionTicketStatus(lookup), tracker("我的工单怎么样了", "someone-else"), domain)
    assert reply == "您目前没有处理中的工单。需要人工客服请回复「转人工」。"
    reply = await say(ActionTicketStatus(lookup), tracker("any update on my ticket", "someone-else"), domain)
    assert reply.startswith("You have no open ticket") and '"human agent"' in reply


async def test_a_typed_number_of_ones_own_ticket(
    ticket_db: TicketDb, lookup: SqlTicketLookup, domain: dict[str, Any]
) -> None:
    action = ActionTicketStatus(lookup, clock=lambda: CREATED)
    number = ticket_db.bob.number.lower()
    reply = await say(action, tracker(f"check ticket {number}", ticket_db.bob.customer_id), domain)
    assert reply.startswith(f"Your ticket {ticket_db.bob.number} (发票开错了)")


async def test_someone_elses_ticket_number_is_not_found(
    ticket_db: TicketDb, lookup: SqlTicketLookup, domain: dict[str, Any]
) -> None:
    text = f"查一下工单 {ticket_db.bob.number}"
    reply = await say(ActionTicketStatus(lookup), tracker(text, ticket_db.alice.customer_id), domain)
    assert reply == f"没有找到工单 {ticket_db.bob.number}，请核对工单号。需要人工客服请回复「转人工」。"
    assert ticket_db.alice.number not in reply


async def test_an_unknown_ticket_number_is_not_found(
    ticket_db: TicketDb, lookup: SqlTicketLookup, domain: dict[str, Any]
) -> None:
    reply = await say(
        ActionTicketStatus(lookup), tracker("ticket T20990101-0001?", ticket_db.alice.customer_id), domain
    )
    assert reply.startswith("I couldn't find ticket T20990101-0001.")


async def test_a_database_without_tickets_gets_the_fallback(tmp_path: Path, domain: dict[str, Any]) -> None:
    broken = SqlTicketLookup(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables
    try:
        with pytest.raises(Unavailable) as caught:
            await broken.latest_open("c1")
        assert caught.value.code == "tickets_unavailable"
        reply = await say(ActionTicketStatus(broken), tracker("我的工单怎么样了", "c1"), domain)
        assert reply == "抱歉，工单暂时无法查询，请稍后再试。需要人工客服请回复「转人工」。"
        reply = await say(ActionTicketStatus(broken), tracker("ticket T20261123-0001", "c1"), domain)
        assert reply.startswith("Sorry, I can't look up tickets right now.")
    finally:
        await broken.close()


class Exploding:
    async def latest_open(self, customer_id: str) -> TicketSummary | None:
        raise RuntimeError("driver crashed")

    async def by_number(self, number: str, customer_id: str) -> TicketSummary | None:
        raise RuntimeError("driver crashed")


async def test_any_lookup_error_gets_the_fallback(domain: dict[str, Any]) -> None:
    reply = await say(ActionTicketStatus(Exploding()), tracker("status of my ticket", "c1"), domain)
    assert reply.startswith("Sorry, I can't look up tickets right now.")


async def test_without_a_customer_id_nothing_is_looked_up(
    lookup: SqlTicketLookup, domain: dict[str, Any]
) -> None:
    reply = await say(ActionTicketStatus(Exploding()), tracker("我的工单怎么样了", None), domain)
    assert reply == "抱歉，工单暂时无法查询，请稍后再试。需要人工客服请回复「转人工」。"


async def test_pickles_without_its_engine(ticket_db: TicketDb, lookup: SqlTicketLookup) -> None:
    assert await lookup.latest_open(ticket_db.alice.customer_id) is not None  # opens the engine
    copy = pickle.loads(pickle.dumps(lookup))
    try:
        assert copy._engine is None
        found = await copy.by_number(ticket_db.alice.number, ticket_db.alice.customer_id)
        assert found is not None and found.status == Status.NEW
    finally:
        await copy.close()


def test_every_ticket_status_reads_as_words() -> None:
    assert set(TICKET_STATES) == {status.value for status in Status}
    assert all(set(labels) == {"zh", "en"} for labels in TICKET_STATES.values())
    assert ticket_state(Status.PENDING, "zh") == "等待您的回复"
    assert ticket_state("on_hold", "en") == "on_hold"  # unknown statuses are shown as stored
