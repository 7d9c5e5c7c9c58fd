"""Routing guards: an intent's own action runs only when the message reads like that intent
(an order or ticket question, a request for a person, small talk); otherwise the knowledge
base answers it, or declines and hands off. The cues are in ``actions.cues``.

- ``GuardedAction`` wraps an action that answers in one step (ticket lookup, handoff, small talk).
- ``ActionOrderGate`` runs before the order-status form: a form cannot be wrapped, because Rasa
  activates it from the rules, so the gate sets the featurised ``order_cue`` slot and the rules
  in bot/data/rules.yml start the form only when it is true.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.cues import Cue
from actions.lang import latest_text

ORDER_CUE_SLOT = "order_cue"


class GuardedAction(Action):  # type: ignore[misc]
    """``action`` (under its own name) when ``cue`` holds for the message, else ``fallback``."""

    def __init__(self, action: Action, cue: Cue, fallback: Action) -> None:
        self._action = action
        self._cue = cue
        self._fallback = fallback

    def name(self) -> str:
        return str(self._action.name())

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        chosen = self._action if self._cue(latest_text(tracker)) else self._fallback
        events: list[dict[str, Any]] = await chosen.run(dispatcher, tracker, domain)
        return events


class ActionOrderGate(Action):  # type: ignore[misc]
    """``order_cue`` true (the form starts, with a fresh count of failed numbers), or the knowledge
    answer and ``order_cue`` false."""

    def __init__(self, cue: Cue, fallback: Action) -> None:
        self._cue = cue
        self._fallback = fallback

    def name(self) -> str:
        return "action_order_gate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if self._cue(latest_text(tracker)):
            return [SlotSet(ORDER_CUE_SLOT, True), SlotSet("order_attempts", 0.0)]
        events: list[dict[str, Any]] = await self._fallback.run(dispatcher, tracker, domain)
        return [*events, SlotSet(ORDER_CUE_SLOT, False)]
