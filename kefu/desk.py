"""The agent desk: the one layer that changes handoff state, in SQL and in the Redis engine.

The handoff engine (``handoff/``) owns the queue, presence and atomic assignment in Redis;
this module mirrors each decision into SQL (conversation state, assigned agent, transitions),
tells the customer, and serves the agent API's actions.

A channel whose vendor keeps its own session state (WeCom 微信客服: a servicer answering in the
WeCom client) registers ``ChannelSessions``; the desk calls it after each commit, and a failing
hook is logged without undoing Kefu's assignment.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff import overflow
from handoff.assigner import Assigner
from handoff.events import HandoffEvents, NewMessage, Subscription
from handoff.model import AgentStatus, Assignment, QueueEntry, Tier
from handoff.presence import Presence
from handoff.queue import HandoffQueue
from kefu import conversations as repo
from kefu import csat
from kefu.auth import Staff
from kefu.channel_sessions import ChannelSessions, SessionHooks, held
from kefu.db.models import Conversation, Customer, Message, User
from kefu.errors import Conflict, KefuError, NotFound, Unavailable, ValidationFailed
from kefu.outbound import Outbound
from kefu.routing import DEFAULT_RULES, Rule, route
from kefu.texts import text_for
from kefu.types import Channel, ConversationState, HandoffRequest, Lang
from tickets.after_hours import AfterHoursDecision, decide
from tickets.group_hours import load_group_hours
from tickets.hours import Schedule
from tickets.service import create_ticket_from_conversation, open_ticket_number
from tickets.sla import DEFAULT_SLA_TABLE

log = logging.getLogger(__name__)
DEFAULT_OVERFLOW = overflow.OverflowRule(max_length=200, max_wait=1800.0)
_ALWAYS_CLOSED = Schedule(weekly={})
CSAT_PATTERN = re.compile(r"^\s*(?:/csat\s*)?([1-5])\s*(?:星|stars?)?\s*$", re.IGNORECASE)


def _lang(value: str) -> Lang:
    return "en" if value == "en" else "zh"


class Desk:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        queue: HandoffQueue,
        presence: Presence,
        assigner: Assigner,
        events: HandoffEvents,
        outbound: Outbound,
        *,
        rules: Sequence[Rule] = DEFAULT_RULES,
        overflow_rule: overflow.OverflowRule = DEFAULT_OVERFLOW,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._overflow = overflow_rule
        self._sessions = sessions
        self.queue = queue
        self.presence = presence
        self._assigner = assigner
        self._events = events
        self._outbound = outbound
        self._rules = rules
        self._clock = clock
        self._channel_sessions = SessionHooks()

    def register_sessions(self, channel: Channel, sessions: ChannelSessions) -> None:
        self._channel_sessions.register(channel, sessions)

    # -- the switchboard's side (HandoffSink) -------------------------------------------
    async def request(self, session: AsyncSession, conv: Conversation, handoff: HandoffRequest) -> list[str]:
        """Route a handed-off conversation: the queue when the group is open and not overflowing,
        else the group's after-hours mode (ticket, queue until open, or bot only).

        Runs inside the switchboard's transaction; the notices tell the customer what happens.
        """
        group = route(handoff, self._rules)
        decision = await self._after_hours(session, group, handoff)
        if decision.kind == "ticket":
            number = await open_ticket_number(session, conv.id)
            if number is None:
                created = await create_ticket_from_conversation(
                    session, conv, now=self._now(), group=group, tier=handoff.tier
                )
                number = created.number
            await repo.transition(
                session, conv, ConversationState.TICKET, reason="after_hours", actor="system"
            )
            return [decision.customer_text.format(ticket_number=number)]
        if decision.kind == "bot_only":
            await repo.transition(session, conv, ConversationState.BOT, reason="bot_only", actor="system")
            return [decision.customer_text]
        preferred = await self._last_agent(handoff.customer_id, handoff.conversation_id)
        position = await self.queue.enqueue(
            QueueEntry(
                conversation_id=handoff.conversation_id,
                group=group,
                customer_id=handoff.customer_id,
                tier=Tier.parse(handoff.tier),
                lang=handoff.lang,
                channel=str(handoff.channel),
                topic=handoff.topic,
                enqueued_at=self._clock(),
                preferred_agent_id=preferred,
                reason=str(handoff.reason),
            )
        )
        # The bot's own reply already says a person will take over; add where they stand.
        notices = [text_for("queue_position", handoff.lang, position=position, ahead=position - 1)]
        return [*notices, decision.customer_text] if decision.customer_text else notices

    async def _after_hours(
        self, session: AsyncSession, group: str, handoff: HandoffRequest
    ) -> AfterHoursDecision:
        hours = await load_group_hours(session, group)
        reply_within = DEFAULT_SLA_TABLE.policy_for("normal", handoff.tier).first_response
        try:
            decision = decide(
                hours.schedule,
                hours.after_hours_mode,
                self._now(),
                handoff.lang,
                reply_within=reply_within,
                announcement=hours.announcement,
            )
            if decision.kind == "queue" and overflow.check(await self.queue.stats(group), self._overflow):
                # An overflowing queue offers the same choices as after hours (issue 5).
                decision = decide(
                    _ALWAYS_CLOSED,
                    hours.after_hours_mode,
                    self._now(),
                    handoff.lang,
                    reply_within=reply_within,
                    announcement=hours.announcement,
                )
        except KefuError:  # e.g. no holiday data for the year: queue rather than lose the request
            log.exception("business hours for %s could not be decided; queueing", group)
            return AfterHoursDecision("queue", None, "")
        return decision

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    async def dispatch(self, conversation_id: str) -> None:
        """After the handoff is committed: assign it now if someone can take it."""
        entry = await self.queue.entry(conversation_id)
        if entry is not None:
            await self.apply(await self._assigner.drain(entry.group))

    async def customer_message(self, conv: Conversation, message: Message) -> None:
        if conv.state == ConversationState.AGENT and conv.assigned_agent_id is not None:
            await self._events.publish(
                NewMessage(
                    conv.id,
                    str(conv.assigned_agent_id),
                    str(message.id),
                    "customer",
                    message.text,
                    self._clock(),
                )
            )

    async def take_rating(self, conv: Conversation, text: str) -> str | None:
        """A closed conversation's "1".."5" (or the CSAT button) is a rating, not a new question."""
        match = CSAT_PATTERN.match(text)
        if conv.state != ConversationState.CLOSED or match is None:
            return None
        await self.rate(conv.id, int(match.group(1)), "")
        return text_for("csat_thanks", _lang(conv.lang))

    # -- assignment mirrored into SQL ----------------------------------------------------
    async def apply(self, assignments: Sequence[Assignment]) -> None:
        for assignment in assignments:
            async with self._sessions.begin() as session:
                conv = await session.get(Conversation, assignment.conversation_id)
                agent = await session.get(User, int(assignment.agent_id))
                if conv is None or agent is None:
                    continue
                reason = "sticky" if assignment.sticky else "assigned"
                await repo.transition(
                    session, conv, ConversationState.AGENT, reason=reason, actor=f"agent:{agent.username}"
                )
                conv.assigned_agent_id = agent.id
                notice = self._outbound.add(
                    session, conv, "system", text_for("agent_joined", _lang(conv.lang), name=agent.username)
                )
            await self._outbound.deliver(conv, notice)
            await self._channel_sessions.took_over(conv, agent.username)

    async def set_status(self, staff: Staff, status: AgentStatus) -> None:
        async with self._sessions() as session:
            user = await session.get(User, staff.user_id)
        if user is None:
            raise NotFound("agent not found", code="agent_not_found")
        await self.presence.register(str(user.id), user.skills or ["general"], user.max_concurrent)
        await self.presence.set_status(str(user.id), status)
        if status == AgentStatus.ONLINE:
            await self.apply(await self._assigner.on_agent_available(str(user.id)))

    async def heartbeat(self, staff: Staff) -> None:
        if await self.presence.heartbeat(str(staff.user_id)):
            await self.apply(await self._assigner.on_agent_available(str(staff.user_id)))

    # -- agent actions -------------------------------------------------------------------
    async def owned(self, session: AsyncSession, staff: Staff, conversation_id: str) -> Conversation:
        conv = await session.get(Conversation, conversation_id)
        if conv is None or (conv.assigned_agent_id != staff.user_id and not staff.may("supervisor")):
            raise NotFound("conversation not found", code="conversation_not_found")
        return conv

    async def reply(self, staff: Staff, conversation_id: str, text: str) -> Message:
        async with self._sessions.begin() as session:
            conv = await self.owned(session, staff, conversation_id)
            if conv.state != ConversationState.AGENT:
                raise Conflict("the conversation is not with an agent", code="not_assigned")
            if holder := await self._channel_sessions.holder(conv):
                raise Conflict(f"{held(holder)}: answer there", code="wecom_servicer_session")
            message = self._outbound.add(session, conv, "agent", text, payload={"agent": staff.username})
        if not await self._outbound.deliver(conv, message):
            # WeCom refused (95018) a session Kefu did not hand over
            if holder := await self._channel_sessions.holder(conv):
                raise Conflict(
                    f"the reply is saved but WeCom refused it: {held(holder)}; answer there",
                    code="wecom_servicer_session",
                )
            raise Unavailable(
                f"the reply is saved but the {conv.channel} channel did not accept it; try again",
                code="delivery_failed",
            )
        return message

    async def note(self, staff: Staff, conversation_id: str, text: str) -> Message:
        async with self._sessions.begin() as session:
            conv = await self.owned(session, staff, conversation_id)
            message = self._outbound.add(session, conv, "note", text, payload={"agent": staff.username})
        return message

    async def transfer(
        self, staff: Staff, conversation_id: str, *, to_agent: str | None, to_group: str | None, note: str
    ) -> None:
        async with self._sessions() as session:
            conv = await self.owned(session, staff, conversation_id)
            target_id = await self._agent_id(session, to_agent) if to_agent else None
            await self._channel_sessions.check_transfer(conv, to_agent)
        result = await self._assigner.transfer(conversation_id, to_agent=target_id, to_group=to_group)
        async with self._sessions.begin() as session:
            conv = await self.owned(session, staff, conversation_id)
            if note:
                self._outbound.add(
                    session, conv, "note", note, payload={"agent": staff.username, "transfer": True}
                )
            if result.assignment is None:
                await repo.transition(
                    session,
                    conv,
                    ConversationState.QUEUED,
                    reason="transferred",
                    actor=f"agent:{staff.username}",
                )
                conv.assigned_agent_id = None
            notice = self._outbound.add(session, conv, "system", text_for("transferred", _lang(conv.lang)))
        await self._outbound.deliver(conv, notice)
        if result.assignment is not None:
            await self.apply([result.assignment])
        elif to_group:
            await self.apply(await self._assigner.drain(to_group))
        await self.apply(await self._assigner.on_agent_available(str(staff.user_id)))

    async def close(self, staff: Staff, conversation_id: str) -> None:
        async with self._sessions.begin() as session:
            conv = await self.owned(session, staff, conversation_id)
            if conv.state == ConversationState.CLOSED:
                raise Conflict("the conversation is already closed", code="already_closed")
            agent_id = conv.assigned_agent_id
            await repo.transition(
                session, conv, ConversationState.CLOSED, reason="closed", actor=f"agent:{staff.username}"
            )
            buttons = [{"title": "★" * n, "payload": f"/csat {n}"} for n in range(5, 0, -1)]
            request = self._outbound.add(
                session,
                conv,
                "system",
                text_for("csat_request", _lang(conv.lang)),
                payload={"buttons": buttons, "csat_request": True},
            )
        await self._outbound.deliver(conv, request)
        await self._channel_sessions.ended(conv)
        await self.queue.cancel(conversation_id)
        if agent_id is not None:
            await self.apply(await self._assigner.release(str(agent_id), conversation_id))

    async def rate(self, conversation_id: str, rating: int, comment: str) -> None:
        if not 1 <= rating <= 5:
            raise ValidationFailed("rating must be 1-5", code="invalid_rating")
        async with self._sessions.begin() as session:
            conv = await session.get(Conversation, conversation_id)
            if conv is None:
                raise NotFound("conversation not found", code="conversation_not_found")
            await csat.record_rating(session, conversation_id, conv.assigned_agent_id, rating, comment)

    def queue_events(self, *, agents: Sequence[str], groups: Sequence[str]) -> Subscription:
        return self._events.subscribe(agents=agents, groups=groups)

    # -- helpers ---------------------------------------------------------------------------
    async def _agent_id(self, session: AsyncSession, username: str) -> str:
        user_id = await session.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            raise NotFound(f"no agent called {username}", code="agent_not_found")
        return str(user_id)

    async def _last_agent(self, customer_id: str, conversation_id: str) -> str:
        """The agent this customer talked to last, for the sticky rule."""
        if not customer_id:
            return ""
        async with self._sessions() as session:
            found = await session.scalar(
                select(Conversation.assigned_agent_id)
                .where(Conversation.customer_id == customer_id, Conversation.assigned_agent_id.is_not(None))
                .order_by(Conversation.updated_at.desc())
                .limit(1)
            )
        return str(found) if found is not None else ""

    async def tier_of(self, customer_id: str) -> str:
        async with self._sessions() as session:
            customer = await session.get(Customer, customer_id)
        return customer.tier if customer else "normal"
