"""The one view of a stored message (``core.types.MessageView``) and its one JSON shape."""

from __future__ import annotations

from typing import Any

from conversations.tables import Message
from core.types import MessageView
from core.types import message_json as view_json


def view_of(message: Message) -> MessageView:
    return MessageView(
        id=message.id,
        sender=message.sender,
        text=message.text,
        created_at=message.created_at.isoformat() if message.created_at else "",
        buttons=tuple((message.payload or {}).get("buttons", ())),
    )


def message_json(message: Message) -> dict[str, Any]:
    return view_json(view_of(message))
