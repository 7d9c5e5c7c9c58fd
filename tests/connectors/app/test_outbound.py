from __future__ import annotations

from connectors.app.outbound import AppChannelSender
from connectors.app.webhook import AppMessage
from core.app_clients import AppClient
from core.types import Channel, OutboundMessage

SHOP = AppClient("shop", "shop-secret-0123456789", "http://127.0.0.1:9/hook")


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[tuple[AppClient, str, str, AppMessage]] = []

    async def send(self, client: AppClient, user_id: str, conversation_id: str, message: AppMessage) -> str:
        self.sent.append((client, user_id, conversation_id, message))
        return "job"


async def app_of(conversation_id: str) -> str | None:
    return {"c-1": "shop", "c-2": "gone"}.get(conversation_id)


def outbound(conversation_id: str) -> OutboundMessage:
    return OutboundMessage(conversation_id, Channel.APP, "u-1", "稍等", sender="agent", message_id="7")


async def test_outbound_message_is_queued_for_its_app() -> None:
    sender = RecordingSender()
    await AppChannelSender(sender, {"shop": SHOP}, app_of, clock=lambda: 0.0).send(outbound("c-1"))
    assert sender.sent == [
        (SHOP, "u-1", "c-1", AppMessage("7", "agent", "稍等", "1970-01-01T00:00:00+00:00")),
    ]


async def test_unconfigured_or_unknown_app_is_skipped() -> None:
    sender = RecordingSender()
    channel = AppChannelSender(sender, {"shop": SHOP}, app_of)
    await channel.send(outbound("c-2"))
    await channel.send(outbound("c-unknown"))
    assert sender.sent == []
