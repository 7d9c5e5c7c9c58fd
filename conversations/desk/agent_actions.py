"""What an agent does to a conversation from the console: reply, note, transfer, close.

Each action is committed first and then delivered (the customer's channel, the agent's socket),
and the engine's seats follow through ``Assignments``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import outbox, queue_entries, repo
from conversations import tickets as conversation_tickets
from conversations.channel_sessions import held
from conversations.desk.assignments import Assignments
from conversations.desk.groups import group_known, known_groups
from conversations.desk.observers import DeskObserver, tell_closed, tell_replied
from conversations.outbound import Outbound
from conversations.outbox import Delivery
from conversations.suggest import last_customer_text
from conversations.tables import Conversation, Message, QueueEntryRecord, SuggestionUse
from conversations.texts import text_for
from core.errors import Conflict, NotFound, Unavailable, ValidationFailed
from core.lang import lang_of
from core.types import ConversationState
from handoff.assigner import Assigner
from handoff.auth import ROLE_GRANTS, Staff
from handoff.events import HandoffEvents, Subscription
from handoff.queue import HandoffQueue
from handoff.routing import DEFAULT_RULES
from handoff.tables import User
from knowledge import learning
from tickets.group_hours import DEFAULT_GROUP
from tickets.model import TicketView


@dataclass
class AgentActions:
    sessions: async_sessionmaker[AsyncSession]
    queue: HandoffQueue
    assigner: Assigner
    assignments: Assignments
    events: HandoffEvents
    outbound: Outbound
    # the groups the floor settings know (they change with the settings, so asked each time)
    routed_groups: Callable[[], Awaitable[Iterable[str]]] = field(default=lambda: _default_groups())
    # told after a committed reply or close (quality inspection); wired by the service
    observers: list[DeskObserver] = field(default_factory=list)

    async def owned(self, session: AsyncSession, staff: Staff, conversation_id: str) -> Conversation:
        """The conversation if this agent holds it (a supervisor may open any); else not found."""
        conv = await session.get(Conversation, conversation_id)
        if conv is None or (conv.assigned_agent_id != staff.user_id and not staff.may("supervisor")):
            raise NotFound("conversation not found", code="conversation_not_found")
        return conv

    async def reply(
        self, staff: Staff, conversation_id: str, text: str, *, client_message_id: str | None = None
    ) -> Message:
        """Store and send an agent's reply. A retry with the same ``client_message_id`` returns
        the stored reply and sends nothing again (the outbox owns its delivery)."""
        hooks = self.assignments.channel_sessions
        try:
            async with self.sessions.begin() as session:
                conv = await self.owned(session, staff, conversation_id)
                if client_message_id and (found := await _agent_message(session, conv.id, client_message_id)):
                    return found
                if conv.state != ConversationState.AGENT:
                    raise Conflict("the conversation is not with an agent", code="not_assigned")
                if holder := await hooks.holder(conv):
                    raise Conflict(f"{held(holder)}: answer there", code="wecom_servicer_session")
                message = self.outbound.add(
                    session,
                    conv,
                    "agent",
                    text,
                    payload={"agent": staff.username},
                    client_message_id=client_message_id,
                )
        except IntegrityError:
            if not client_message_id:
                raise
            async with self.sessions() as session:  # the same reply, stored by a concurrent retry
                found = await _agent_message(session, conversation_id, client_message_id)
            if found is None:
                raise
            return found
        if await self.outbound.delivery(message) == Delivery.DEAD:
            # WeCom refused (95018) a session Kefu did not hand over
            if holder := await hooks.holder(conv):
                raise Conflict(
                    f"the reply is saved but WeCom refused it: {held(holder)}; answer there",
                    code="wecom_servicer_session",
                )
            raise Unavailable(
                f"the reply is saved but the {conv.channel} channel refused it", code="delivery_failed"
            )
        await tell_replied(self.observers, conv, message, staff)
        return message  # sent, or failing for now and retried by the outbox

    async def send_suggestion(
        self, staff: Staff, conversation_id: str, text: str, *, source: str, key: str, edited: bool
    ) -> Message:
        """Reply with a suggested answer and record its use; an FAQ answer sent unedited teaches
        the knowledge base the customer's wording for that entry (``knowledge.learning``)."""
        message = await self.reply(staff, conversation_id, text)
        async with self.sessions.begin() as session:
            last = await last_customer_text(session, conversation_id)
            use = SuggestionUse(
                conversation_id=conversation_id,
                agent_id=staff.user_id,
                source=source,
                key=key,
                edited=edited,
                customer_text=last,
            )
            session.add(use)
            await session.flush()
            if source == "faq" and not edited and last:  # the customer's wording meant this entry
                with contextlib.suppress(NotFound):  # the entry was deleted since it was suggested
                    await learning.learn(
                        session, key, last, source="suggestion", source_id=use.id, actor=staff.username
                    )
        return message

    async def note(self, staff: Staff, conversation_id: str, text: str) -> Message:
        async with self.sessions.begin() as session:
            conv = await self.owned(session, staff, conversation_id)
            message = self.outbound.add(session, conv, "note", text, payload={"agent": staff.username})
        return message

    async def transfer(
        self, staff: Staff, conversation_id: str, *, to_agent: str | None, to_group: str | None, note: str
    ) -> None:
        async with self.sessions() as session:
            conv = await self.owned(session, staff, conversation_id)
            target_id = await self._agent_id(session, to_agent) if to_agent else None
            if to_group and not await group_known(session, to_group, await self.routed_groups()):
                raise ValidationFailed(f"there is no group {to_group!r}", code="unknown_group")
            await self.assignments.channel_sessions.check_transfer(conv, to_agent)
        result = await self.assigner.transfer(conversation_id, to_agent=target_id, to_group=to_group)
        requeued = await self.queue.entry(conversation_id) if result.assignment is None else None
        async with self.sessions.begin() as session:
            conv = await self.owned(session, staff, conversation_id)
            if note:
                self.outbound.add(
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
                if requeued is not None:  # the committed entry follows it (group, kept place)
                    await queue_entries.record(session, requeued)
            notice = self.outbound.add(session, conv, "system", text_for("transferred", lang_of(conv.lang)))
        await self.outbound.deliver(conv, notice)
        await self.assignments.apply(result.others)  # claimed in passing; mirrored like any other
        if result.assignment is not None:
            await self.assignments.apply([result.assignment])
        elif to_group:
            await self.assignments.drain(to_group)
        await self.assignments.agent_available(str(staff.user_id))

    async def close(self, staff: Staff, conversation_id: str) -> None:
        async with self.sessions.begin() as session:
            conv = await self.owned(session, staff, conversation_id)
            if conv.state == ConversationState.CLOSED:
                raise Conflict("the conversation is already closed", code="already_closed")
            agent_id = conv.assigned_agent_id
            await repo.transition(
                session, conv, ConversationState.CLOSED, reason="closed", actor=f"agent:{staff.username}"
            )
            buttons = [{"title": "★" * n, "payload": f"/csat {n}"} for n in range(5, 0, -1)]
            request = self.outbound.add(
                session,
                conv,
                "system",
                text_for("csat_request", lang_of(conv.lang)),
                payload={"buttons": buttons, "csat_request": True},
            )
        await self.outbound.deliver(conv, request)
        await self.assignments.channel_sessions.ended(conv)
        await self.queue.cancel(conversation_id)
        if agent_id is not None:
            await self.assignments.release(str(agent_id), conversation_id)
        await tell_closed(self.observers, conv, staff)

    async def retry(self, staff: Staff, conversation_id: str, message_id: int) -> Delivery:
        """Send a failed or dead reply of this conversation again now (the outbox's row is due
        again with fresh attempts); a message already sent is a 409."""
        async with self.sessions.begin() as session:
            conv = await self.owned(session, staff, conversation_id)
            message = await session.get(Message, message_id)
            if (
                message is None
                or message.conversation_id != conv.id
                or message.sender not in ("agent", "system")
            ):
                raise NotFound("message not found", code="message_not_found")
            if not await outbox.retry_now(session, message_id):
                raise Conflict("the message is sent or on its way already", code="not_failed")
        return await self.outbound.delivery(message)

    async def create_ticket(
        self, staff: Staff, conversation_id: str, *, subject: str | None, priority: str, now: datetime
    ) -> TicketView:
        """A ticket holding this conversation (one open ticket per conversation)."""
        async with self.sessions.begin() as session:
            conv = await self.owned(session, staff, conversation_id)
            number = await conversation_tickets.open_ticket_number(session, conv.id)
            if number is not None:
                raise Conflict(f"the conversation has the open ticket {number}", code="ticket_exists")
            group = (await queue_group(session, conv.id)) or DEFAULT_GROUP
            return await conversation_tickets.create_ticket_from_conversation(
                session,
                conv,
                now=now,
                subject=subject,
                priority=priority,
                group=group,
                actor=conversation_tickets.staff_actor(staff.username),
            )

    async def transfer_targets(self, staff: Staff) -> tuple[list[tuple[User, str]], list[str]]:
        """Whom a transfer may name: the other agents (with their presence) and the groups."""
        async with self.sessions() as session:
            users = (await session.scalars(select(User).order_by(User.username))).all()
            groups = await known_groups(session, await self.routed_groups())
        people = []
        for user in users:
            if user.id == staff.user_id or not ROLE_GRANTS.get(user.role, frozenset()) >= {"agent"}:
                continue
            seen = await self.assignments.presence.get(str(user.id))
            people.append((user, str(seen.status) if seen else "offline"))
        return people, groups

    def queue_events(self, *, agents: list[str], groups: list[str]) -> Subscription:
        return self.events.subscribe(agents=agents, groups=groups)

    async def _agent_id(self, session: AsyncSession, username: str) -> str:
        user_id = await session.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            raise NotFound(f"no agent called {username}", code="agent_not_found")
        return str(user_id)


async def _agent_message(
    session: AsyncSession, conversation_id: str, client_message_id: str
) -> Message | None:
    return await session.scalar(
        select(Message).where(
            Message.conversation_id == conversation_id,
            Message.sender == "agent",
            Message.client_message_id == client_message_id,
        )
    )


async def queue_group(session: AsyncSession, conversation_id: str) -> str | None:
    """The group the conversation's latest handoff was routed to."""
    row = await session.get(QueueEntryRecord, conversation_id)
    return row.group if row is not None else None


async def _default_groups() -> list[str]:
    return [rule.group for rule in DEFAULT_RULES]
