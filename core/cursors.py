"""Where a channel's pull position is kept: a port, so a connector can resume a vendor's message
sync without knowing the storage (``conversations.channel_cursors`` keeps it in SQL)."""

from __future__ import annotations

from typing import Protocol


class CursorStore(Protocol):
    async def get(self, channel: str, account: str) -> str:
        """The saved cursor of ``account`` on ``channel``; "" when there is none."""
        ...

    async def put(self, channel: str, account: str, cursor: str) -> None: ...

    async def accounts(self, channel: str) -> list[str]:
        """Every account of ``channel`` with a saved cursor."""
        ...
