"""Bot messages and the payloads the service reads from them (``custom.kefu.*``).

Reasons for a handoff are ``core.types.HandoffReason`` values, plus "knowledge_unavailable"
when the knowledge index cannot be searched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.texts import text
from core.handoff_signal import HandoffSignal
from core.types import HandoffReason, Lang, Suggestion

KNOWLEDGE_UNAVAILABLE = "knowledge_unavailable"


@dataclass(frozen=True)
class BotSays:
    """One bot message: text, optional buttons, optional custom payload."""

    text: str
    buttons: tuple[dict[str, str], ...] = ()
    custom: dict[str, Any] = field(default_factory=dict)


def send(dispatcher: CollectingDispatcher, says: BotSays) -> None:
    """One message; Rasa's REST channel returns its text and its custom payload as two items."""
    dispatcher.utter_message(
        text=says.text, buttons=list(says.buttons) or None, json_message=says.custom or None
    )


def handoff(reason: str, lang: Lang, candidates: Iterable[Suggestion] = ()) -> BotSays:
    """Tell the customer a human takes over, and signal the handoff to the service."""
    signal = HandoffSignal(HandoffReason(reason), tuple(candidates))
    return BotSays(text(f"handoff_{reason}", lang), custom=signal.encode())


def answer_payload(key: str, score: float, margin: float | None = None) -> dict[str, Any]:
    """``{"kefu": {"answer": {...}}}``: which FAQ entry answered (and by how much it beat the
    runner-up), for usage statistics and the editors' review of close calls."""
    answer: dict[str, Any] = {"key": key, "score": score}
    if margin is not None:
        answer["margin"] = round(margin, 4)
    return {"kefu": {"answer": answer}}
