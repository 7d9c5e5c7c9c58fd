"""Messages to a customer, for the code that writes them: ``add`` stores the message with its
outbox row in the caller's transaction; ``deliver`` sends it after the commit through the outbox
(``conversations.outbox``), which retries it if the channel fails now.
"""

from __future__ import annotations

from collections.abc import Sequence

from conversations import outbox
from conversations.outbox import Deliverer, Delivery
from conversations.tables import Conversation, Message
from core.sending import ChannelSender
from core.types import Channel


class Outbound:
    """``add`` stores a message with its outbox row in the caller's transaction; ``deliver``
    sends it after the commit."""

    def __init__(self, deliverer: Deliverer) -> None:
        self.deliverer = deliverer
        # The row is leased to this process's deliverer: ``deliver`` it after the commit (if the
        # process dies first, the background loop sends it once the lease runs out).
        self.add = deliverer.add

    def register(self, channel: Channel, sender: ChannelSender) -> None:
        self.deliverer.register(channel, sender)

    async def deliver(self, conv: Conversation, message: Message) -> bool:
        """Send a committed message now. Never raises: False means the channel refused it for
        good (the row is dead) or failed now (the outbox retries it)."""
        return await self.delivery(message) in (Delivery.SENT, Delivery.ELSEWHERE)

    async def delivery(self, message: Message) -> Delivery:
        if message.sender not in outbox.TO_CUSTOMER:
            return Delivery.SENT  # nothing to send (a note)
        return (await self.deliver_all([message]))[message.id]

    async def deliver_all(self, messages: Sequence[Message]) -> dict[int, Delivery]:
        return await self.deliverer.deliver(m.id for m in messages if m.sender in outbox.TO_CUSTOMER)
