"""Typed messages that cross boundaries between connectors, the switchboard, the bot and handoff.

Connectors turn vendor payloads into ``InboundMessage``; the core never sees raw JSON or XML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

# The largest message id (an INTEGER column on PostgreSQL): "after" it, there is nothing.
LAST_MESSAGE_ID = 2**31 - 1


class Channel(StrEnum):
    WEB = "web"
    APP = "app"
    WECOM_KF = "wecom_kf"
    WECOM_APP = "wecom_app"


class ConversationState(StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    AGENT = "agent"
    CLOSED = "closed"
    TICKET = "ticket"


class HandoffReason(StrEnum):
    LOW_CONFIDENCE = "low_confidence"
    CUSTOMER_REQUEST = "customer_request"
    FORM_FAILED = "form_failed"
    NEGATIVE_SENTIMENT = "negative_sentiment"
    KNOWLEDGE_UNAVAILABLE = "knowledge_unavailable"
    BOT_UNAVAILABLE = "bot_unavailable"


@dataclass(frozen=True)
class InboundMessage:
    """One customer message, whatever channel it came from."""

    channel: Channel
    channel_user_id: str  # web visitor id, WeCom external_userid, app user id
    text: str
    channel_message_id: str  # vendor / client id used for deduplication
    lang: Lang | None = None
    entry_point: str = ""  # web page, WeCom open_kfid, app id
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BotReply:
    """What the bot said back; ``custom`` carries structured payloads (e.g. a handoff signal)."""

    text: str | None = None
    buttons: tuple[dict[str, str], ...] = ()
    custom: dict[str, Any] | None = None


@dataclass(frozen=True)
class Suggestion:
    """A candidate answer with a calibrated score in [0, 1]."""

    key: str
    question: str
    answer: str
    score: float


@dataclass(frozen=True)
class HandoffRequest:
    conversation_id: str
    reason: HandoffReason
    candidates: tuple[Suggestion, ...] = ()
    channel: Channel = Channel.WEB
    lang: Lang = "zh"
    tier: str = "normal"
    topic: str = ""
    customer_id: str = ""
    entry_point: str = ""


@dataclass(frozen=True)
class MessageView:
    """A stored message as every API and socket shows it (``message_json``): one view for all."""

    id: int
    sender: str
    text: str
    created_at: str = ""  # ISO 8601, "" when unknown
    buttons: tuple[dict[str, str], ...] = ()
    rateable: bool = False  # a bot answer from the FAQ: the widget asks "was this helpful?"


def message_json(view: MessageView) -> dict[str, Any]:
    """The one JSON shape of a message (HTTP answers, sockets, app webhooks, transcripts)."""
    data: dict[str, Any] = {
        "id": view.id,
        "sender": view.sender,
        "text": view.text,
        "created_at": view.created_at or None,
    }
    if view.buttons:
        data["buttons"] = [dict(b) for b in view.buttons]
    if view.rateable:
        data["rateable"] = True
    return data


@dataclass(frozen=True)
class OutboundMessage:
    """A stored message on its way to the customer's channel; ``message_id`` is the stored id
    (a sender must be idempotent per ``message_id``)."""

    conversation_id: str
    channel: Channel
    channel_user_id: str
    text: str
    sender: Literal["bot", "agent", "system"] = "bot"
    message_id: str = ""
    entry_point: str = ""  # e.g. the WeCom open_kfid the customer wrote to
    buttons: tuple[dict[str, str], ...] = ()
    created_at: str = ""

    def view(self) -> MessageView:
        return MessageView(int(self.message_id or 0), self.sender, self.text, self.created_at, self.buttons)


@dataclass(frozen=True)
class HandleResult:
    """What the switchboard did with one inbound message."""

    conversation_id: str
    message_id: int
    state: str
    replies: tuple[MessageView, ...]
    duplicate: bool = False


@dataclass(frozen=True)
class Transcript:
    conversation_id: str
    state: str
    messages: tuple[MessageView, ...]
    queue_position: int | None = None  # 1-based, while queued
    agent_name: str = ""  # the display name of the agent serving it, while with an agent
