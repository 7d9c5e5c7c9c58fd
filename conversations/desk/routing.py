"""Routing a handed-off conversation: into a group's queue, or, when the group is closed or
overflowing, the group's after-hours mode (a ticket, queue until open, or bot only)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import queue_entries, repo
from conversations import tickets as conversation_tickets
from conversations.desk.assignments import Assignments
from conversations.desk.observers import DeskObserver, tell_customer_wrote
from conversations.tables import Conversation, Message, QueueEntryRecord
from conversations.texts import text_for
from core.clock import Clock, system_clock, to_datetime
from core.errors import Conflict, KefuError
from core.lang import lang_of
from core.types import ConversationState, HandoffRequest
from handoff import overflow
from handoff.events import CustomerTyping, HandoffEvents, NewMessage
from handoff.floor_settings import DEFAULT_SETTINGS, FloorSettings, FloorSettingsReader
from handoff.model import QueueEntry, Tier
from handoff.queue import HandoffQueue
from handoff.routing import Rule, route
from tickets.after_hours import AfterHoursDecision, decide, decide_overflow
from tickets.errors import BeyondHorizon, HolidayDataMissing
from tickets.group_hours import AfterHoursMode, load_group_hours
from tickets.hours import Schedule, add_business_time
from tickets.sla import DEFAULT_SLA_TABLE

log = logging.getLogger(__name__)


@dataclass
class HandoffRouting:
    """The switchboard's side of the desk (``conversations.switchboard.HandoffSink``).

    Routing rules and each group's overflow limits come from the floor settings supervisors
    keep (``handoff.floor_settings``), read on every handoff; without a reader, the defaults.
    ``rules`` and ``overflow_rule`` pin a fixed table instead (tests, embedding).
    """

    sessions: async_sessionmaker[AsyncSession]
    queue: HandoffQueue
    assignments: Assignments
    events: HandoffEvents
    settings: FloorSettingsReader | None = None
    rules: Sequence[Rule] | None = None
    overflow_rule: overflow.OverflowRule | None = None
    clock: Clock = system_clock
    observers: list[DeskObserver] = field(default_factory=list)

    async def floor_settings(self, session: AsyncSession | None = None) -> FloorSettings:
        return DEFAULT_SETTINGS if self.settings is None else await self.settings.current(session)

    async def routed_groups(self) -> list[str]:
        """The groups handoffs may be routed to now (what a transfer may name besides others)."""
        if self.rules is not None:
            return sorted({rule.group for rule in self.rules})
        return (await self.floor_settings()).group_names()

    async def request(self, session: AsyncSession, conv: Conversation, handoff: HandoffRequest) -> list[str]:
        """Route a handed-off conversation: the queue when the group is open and not overflowing,
        else the group's after-hours mode. Runs inside the switchboard's transaction; the notices
        tell the customer what happens."""
        settings = await self.floor_settings(session)
        group = settings.route(handoff) if self.rules is None else route(handoff, self.rules)
        limits = settings.overflow(group) if self.overflow_rule is None else self.overflow_rule
        decision = await self._after_hours(session, group, handoff, limits)
        if decision.kind == "ticket":
            number = await conversation_tickets.open_ticket_number(session, conv.id)
            if number is None:
                created = await conversation_tickets.create_ticket_from_conversation(
                    session, conv, now=to_datetime(self.clock()), group=group, tier=handoff.tier
                )
                number = created.number
            await repo.transition(
                session, conv, ConversationState.TICKET, reason="after_hours", actor="system"
            )
            return [decision.customer_text.format(ticket_number=number)]
        if decision.kind == "bot_only":
            await repo.transition(session, conv, ConversationState.BOT, reason="bot_only", actor="system")
            return [decision.customer_text]
        preferred = await self._last_agent(session, handoff.customer_id)
        # Only the decision is made here, in SQL; Redis is told after the commit (``dispatch``),
        # so a failed commit never leaves a queue entry behind and a lost enqueue is rebuilt by
        # the reconciler from this row.
        await queue_entries.record(
            session,
            QueueEntry(
                conversation_id=handoff.conversation_id,
                group=group,
                customer_id=handoff.customer_id,
                tier=Tier.parse(handoff.tier),
                lang=handoff.lang,
                channel=str(handoff.channel),
                topic=handoff.topic,
                enqueued_at=self.clock(),
                preferred_agent_id=preferred,
                reason=str(handoff.reason),
            ),
        )
        # Where the customer stands is told by ``dispatch``, once we know nobody took it at once.
        return [decision.customer_text] if decision.customer_text else []

    async def dispatch(self, conversation_id: str, *, reply_to: int | None = None) -> list[Message]:
        """After the handoff is committed: queue it in Redis, then assign it if someone can take it.
        If it still waits, the customer is told their place (stored, sent, and returned): a
        conversation an agent took at once is never told it is number 1 in a queue.

        Never raises: the handoff is committed either way, and what Redis missed the reconciler
        (``conversations.reconcile``) rebuilds from the committed rows.
        """
        try:
            async with self.sessions() as session:
                entry = await queue_entries.waiting(session, conversation_id)
            if entry is None:
                return []
            await self.queue.enqueue(entry)
            await self.assignments.drain(entry.group)
        except Conflict:  # assigned meanwhile (e.g. by a drain on another replica)
            return []
        except Exception:
            log.exception(
                "queueing the committed handoff of %s failed; the reconciler repairs it", conversation_id
            )
        return await self._tell_position(conversation_id, reply_to)

    async def _tell_position(self, conversation_id: str, reply_to: int | None) -> list[Message]:
        try:
            async with self.sessions.begin() as session:
                conv = await session.get(Conversation, conversation_id)
                row = await session.get(QueueEntryRecord, conversation_id)
                if conv is None or row is None or conv.state != ConversationState.QUEUED:
                    return []
                position = await queue_entries.position(session, row)
                text = text_for("queue_position", lang_of(conv.lang), position=position, ahead=position - 1)
                notice = self.assignments.outbound.add(session, conv, "system", text, reply_to=reply_to)
            await self.assignments.outbound.deliver(conv, notice)
        except Exception:
            log.exception("telling %s its queue position failed", conversation_id)
            return []
        return [notice]

    async def customer_message(self, conv: Conversation, message: Message) -> None:
        """A customer wrote while with an agent: the agent's console hears it at once, then the
        observers (quality inspection reads the customer's mood)."""
        if conv.state == ConversationState.AGENT and conv.assigned_agent_id is not None:
            await self.events.publish(
                NewMessage(
                    conv.id,
                    str(conv.assigned_agent_id),
                    str(message.id),
                    "customer",
                    message.text,
                    self.clock(),
                )
            )
            await tell_customer_wrote(self.observers, conv, message)

    async def customer_typing(self, conv_id: str) -> None:
        """The customer is typing: the agent holding the conversation sees it."""
        async with self.sessions() as session:
            conv = await session.get(Conversation, conv_id)
        if conv is not None and conv.state == ConversationState.AGENT and conv.assigned_agent_id is not None:
            await self.events.publish(CustomerTyping(conv.id, str(conv.assigned_agent_id), self.clock()))

    async def _after_hours(
        self, session: AsyncSession, group: str, handoff: HandoffRequest, limits: overflow.OverflowRule
    ) -> AfterHoursDecision:
        hours = await load_group_hours(session, group)
        reply_within = DEFAULT_SLA_TABLE.policy_for("normal", handoff.tier).first_response
        now = to_datetime(self.clock())

        try:
            if _never_opens(hours.schedule, now):
                # A leave-a-message-only group: nobody will ever work its queue, so never queue.
                # No reply time can be promised, so the text says "as soon as we can".
                mode: AfterHoursMode = "bot_only" if hours.after_hours_mode == "bot_only" else "ticket"
                return decide(hours.schedule, mode, now, handoff.lang, announcement=hours.announcement)
            decision = decide(
                hours.schedule,
                hours.after_hours_mode,
                now,
                handoff.lang,
                reply_within=reply_within,
                announcement=hours.announcement,
            )
            if decision.kind == "queue" and overflow.check(await self.queue.stats(group), limits):
                # An overflowing queue offers the same choices as after hours (issue 5); the
                # group is open, so a ticket promises a reply in its own business time.
                decision = decide_overflow(
                    hours.schedule,
                    hours.after_hours_mode,
                    now,
                    handoff.lang,
                    reply_within=reply_within,
                    announcement=hours.announcement,
                )
        except KefuError:  # e.g. no holiday data for the year: queue rather than lose the request
            log.exception("business hours for %s could not be decided; queueing", group)
            return AfterHoursDecision("queue", None, "")
        return decision

    async def _last_agent(self, session: AsyncSession, customer_id: str) -> str:
        """The agent this customer talked to last, for the sticky rule."""
        if not customer_id:
            return ""
        found = await session.scalar(
            select(Conversation.assigned_agent_id)
            .where(Conversation.customer_id == customer_id, Conversation.assigned_agent_id.is_not(None))
            .order_by(Conversation.updated_at.desc())
            .limit(1)
        )
        return str(found) if found is not None else ""


def _never_opens(schedule: Schedule, now: datetime) -> bool:
    """True when the schedule has no open minute within the hours' horizon (about a year)."""
    try:
        add_business_time(schedule, now, timedelta(minutes=1))
    except BeyondHorizon:
        return True
    except HolidayDataMissing:
        return False  # the calendar ends first: unknown, so not "never"
    return False
