"""Who else hears about an agent's reply or close, or a customer's message to an agent, once it
is committed (quality inspection, ...).

The desk knows only this Protocol; the composition root (``service/``) registers the observers.
An observer's failure is logged and never undoes or fails the agent's action.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from conversations.tables import Conversation, Message
from handoff.auth import Staff

log = logging.getLogger(__name__)


class DeskObserver(Protocol):
    async def agent_replied(self, conv: Conversation, message: Message, staff: Staff) -> None: ...

    async def conversation_closed(self, conv: Conversation, staff: Staff) -> None: ...

    async def customer_wrote(self, conv: Conversation, message: Message) -> None: ...


async def tell_replied(
    observers: Sequence[DeskObserver], conv: Conversation, message: Message, staff: Staff
) -> None:
    for observer in observers:
        try:
            await observer.agent_replied(conv, message, staff)
        except Exception:
            log.exception("a desk observer failed on a reply")


async def tell_closed(observers: Sequence[DeskObserver], conv: Conversation, staff: Staff) -> None:
    for observer in observers:
        try:
            await observer.conversation_closed(conv, staff)
        except Exception:
            log.exception("a desk observer failed on a close")


async def tell_customer_wrote(
    observers: Sequence[DeskObserver], conv: Conversation, message: Message
) -> None:
    for observer in observers:
        try:
            await observer.customer_wrote(conv, message)
        except Exception:
            log.exception("a desk observer failed on a customer message")
