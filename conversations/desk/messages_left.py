"""The widget's side of the desk beyond chatting: whether people answer now, and the message a
customer leaves when nobody does (it becomes a ticket, as 网易七鱼's 留言 does)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import repo
from conversations import tickets as conversation_tickets
from conversations.outbound import Outbound
from conversations.tables import Customer, Message
from conversations.texts import text_for
from core.clock import Clock, system_clock, to_datetime
from core.errors import KefuError
from core.lang import lang_of
from core.types import Channel, ConversationState
from tickets.group_hours import DEFAULT_GROUP, load_group_hours
from tickets.hours import is_open


@dataclass(frozen=True)
class LeftMessage:
    conversation_id: str
    ticket_number: str
    replies: tuple[Message, ...]


@dataclass
class MessagesLeft:
    sessions: async_sessionmaker[AsyncSession]
    outbound: Outbound
    clock: Clock = system_clock

    async def open_now(self, group: str = DEFAULT_GROUP) -> bool:
        """Whether the group answers right now (its business hours; unknown counts as open)."""
        async with self.sessions() as session:
            hours = await load_group_hours(session, group)
        try:
            return is_open(hours.schedule, to_datetime(self.clock()))
        except KefuError:
            return True

    async def leave(self, visitor_id: str, *, name: str, contact: str, text: str, lang: str) -> LeftMessage:
        """Store the customer's message in their web conversation and file it as a ticket (the
        conversation's open ticket if it has one); the customer is told the ticket number."""
        body = "\n".join(part for part in (text, f"{name} · {contact}".strip(" ·")) if part)
        async with self.sessions.begin() as session:
            conv = await repo.current_conversation(
                session,
                channel=Channel.WEB,
                channel_user_id=visitor_id,
                entry_point="leave_message",
                lang=lang,
            )
            customer = await session.get(Customer, conv.customer_id)
            if customer is not None and name and not customer.display_name:
                customer.display_name = name[:128]
            repo.add_message(
                session, conv.id, "customer", body, payload={"left_message": True, "contact": contact}
            )
            await session.flush()
            number = await conversation_tickets.open_ticket_number(session, conv.id)
            if number is None:
                created = await conversation_tickets.create_ticket_from_conversation(
                    session, conv, now=to_datetime(self.clock()), subject=text, actor="customer"
                )
                number = created.number
            else:
                await conversation_tickets.on_customer_message(session, conv.id, body)
            if conv.state != ConversationState.TICKET:
                await repo.transition(
                    session, conv, ConversationState.TICKET, reason="left_message", actor="customer"
                )
            notice = self.outbound.add(
                session, conv, "system", text_for("message_left", lang_of(lang), ticket_number=number)
            )
        await self.outbound.deliver(conv, notice)
        return LeftMessage(conv.id, number, (notice,))
