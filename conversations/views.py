"""The one view of a stored message (``core.types.MessageView``) and its one JSON shape."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from conversations.tables import Message
from core.types import MessageView
from core.types import message_json as view_json


def view_of(message: Message) -> MessageView:
    return MessageView(
        id=message.id,
        sender=message.sender,
        text=message.text,
        created_at=iso(message.created_at),
        buttons=tuple((message.payload or {}).get("buttons", ())),
        rateable=bool((message.payload or {}).get("answer")),
    )


def message_json(message: Message) -> dict[str, Any]:
    return view_json(view_of(message))


def iso(value: datetime | None) -> str:
    """An aware UTC instant in ISO 8601 (SQLite hands back naive UTC); "" for none."""
    if value is None:
        return ""
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()
