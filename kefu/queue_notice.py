"""The simplest handoff sink: the conversation is marked queued and the customer told so."""

from __future__ import annotations

from kefu.texts import text_for
from kefu.types import HandoffRequest


class NoticeOnlyHandoff:
    async def request(self, handoff: HandoffRequest) -> list[str]:
        return [text_for("queued", handoff.lang)]
