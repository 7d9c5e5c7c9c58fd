"""Actions that say one fixed message: small talk."""

from __future__ import annotations

from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.lang import reply_lang
from actions.texts import text


class FixedReply(Action):  # type: ignore[misc]
    action_name: ClassVar[str]
    message: ClassVar[str]

    def name(self) -> str:
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=text(self.message, reply_lang(tracker)))
        return []


class ActionGreet(FixedReply):
    action_name = "action_greet"
    message = "greet"


class ActionGoodbye(FixedReply):
    action_name = "action_goodbye"
    message = "goodbye"


class ActionThanks(FixedReply):
    action_name = "action_thanks"
    message = "thanks"


class ActionAffirm(FixedReply):
    action_name = "action_affirm"
    message = "affirm"


class ActionDeny(FixedReply):
    action_name = "action_deny"
    message = "deny"


FIXED_REPLIES: tuple[type[FixedReply], ...] = (
    ActionGreet,
    ActionGoodbye,
    ActionThanks,
    ActionAffirm,
    ActionDeny,
)
