"""What the outbox needs from a channel: one sender per channel, idempotent per message id."""

from __future__ import annotations

from typing import Protocol

from core.types import OutboundMessage


class ChannelSender(Protocol):
    """Delivers one stored message to the customer on one channel.

    Sending the same ``message_id`` twice must not reach the customer twice (a vendor msgid, a
    dedup key, or a socket the client deduplicates by id). Raise ``core.errors.Undeliverable``
    for a refusal retrying cannot change; any other exception is retried with backoff.
    """

    async def send(self, message: OutboundMessage) -> None: ...
