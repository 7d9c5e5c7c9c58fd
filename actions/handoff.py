"""``action_handoff``: the customer asked for a human."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.lang import reply_lang
from actions.replies import handoff, send
from core.types import HandoffReason


class ActionHandoff(Action):  # type: ignore[misc]
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        send(dispatcher, handoff(HandoffReason.CUSTOMER_REQUEST, reply_lang(tracker)))
        # A handoff in the middle of the order form leaves no half-filled form behind.
        return [SlotSet("order_no", None), SlotSet("order_attempts", 0.0)]
