"""Vendor-side session state kept in step with Kefu's assignments.

A channel whose vendor keeps its own session state (WeCom 微信客服: a servicer answering in the
WeCom client) registers a ``ChannelSessions``; the desk asks ``SessionHooks`` before a console
reply or a transfer, and tells it after each committed assignment or close. A failing hook is
logged and never undoes Kefu's committed state.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Protocol

from conversations.tables import Conversation
from core.errors import Conflict

log = logging.getLogger(__name__)


class ChannelSessions(Protocol):
    """A vendor's own session state, kept in step with Kefu's assignments."""

    def can_hold(self, agent_username: str) -> bool:
        """Whether this agent answers such customers inside the vendor's client."""
        ...

    async def holder(self, conv: Conversation) -> str:
        """Who answers the customer inside the vendor's client; "" while Kefu's API does."""
        ...

    async def took_over(self, conv: Conversation, agent_username: str) -> None: ...

    async def ended(self, conv: Conversation) -> None: ...


def held(holder: str) -> str:
    return f"this customer is being served in the WeCom client (servicer: {holder})"


class SessionHooks:
    """The registered ``ChannelSessions`` per channel; channels without one are no-ops."""

    def __init__(self) -> None:
        self._by_channel: dict[str, ChannelSessions] = {}

    def register(self, channel: str, sessions: ChannelSessions) -> None:
        self._by_channel[channel] = sessions

    async def holder(self, conv: Conversation) -> str:
        hook = self._by_channel.get(conv.channel)
        return await hook.holder(conv) if hook is not None else ""

    async def check_transfer(self, conv: Conversation, to_agent: str | None) -> None:
        """WeCom passes a servicer's session only to another servicer (states 3 -> 3 or 4)."""
        hook = self._by_channel.get(conv.channel)
        if hook is None or (to_agent is not None and hook.can_hold(to_agent)):
            return
        if holder := await hook.holder(conv):
            raise Conflict(
                f"{held(holder)}, and WeCom can pass that session only to another servicer: "
                "transfer it to an agent who has a WeCom servicer account, or close it",
                code="wecom_servicer_transfer",
            )

    async def took_over(self, conv: Conversation, agent_username: str) -> None:
        if hook := self._by_channel.get(conv.channel):
            await _follow(conv, "took_over", hook.took_over(conv, agent_username))

    async def ended(self, conv: Conversation) -> None:
        if hook := self._by_channel.get(conv.channel):
            await _follow(conv, "ended", hook.ended(conv))


async def _follow(conv: Conversation, event: str, step: Awaitable[None]) -> None:
    """Run a session hook after the commit; Kefu's committed state stands whatever happens."""
    try:
        await step
    except Exception:
        log.exception("the %s session of conversation %s did not follow (%s)", conv.channel, conv.id, event)
