"""The bot's handoff signal: how an action tells the service to move a conversation to a person.

The action server puts it in a reply's custom payload (``{"kefu": {"handoff": {...}}}``; Rasa's
REST channel passes custom payloads through untouched) and the switchboard reads it back. Both
sides use this one type, so the wire form is written and parsed in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.types import BotReply, HandoffReason, Suggestion

KEY = "kefu"
FIELD = "handoff"


@dataclass(frozen=True)
class HandoffSignal:
    reason: HandoffReason
    candidates: tuple[Suggestion, ...] = ()
    topic: str = ""

    def encode(self) -> dict[str, Any]:
        """The custom payload an action attaches to its reply."""
        body: dict[str, Any] = {
            "reason": str(self.reason),
            "candidates": [
                {"key": c.key, "question": c.question, "answer": c.answer, "score": c.score}
                for c in self.candidates
            ],
        }
        if self.topic:
            body["topic"] = self.topic
        return {KEY: {FIELD: body}}

    @classmethod
    def decode(cls, custom: Mapping[str, Any] | None) -> HandoffSignal | None:
        """The signal in one reply's custom payload; None when it carries none. Tolerant of a
        malformed body (an unknown reason counts as low confidence, odd candidates are skipped)."""
        part = (custom or {}).get(KEY)
        body = part.get(FIELD) if isinstance(part, Mapping) else None
        if not isinstance(body, Mapping):
            return None
        return cls(
            reason=_reason(body.get("reason")),
            candidates=_candidates(body.get("candidates")),
            topic=str(body.get("topic", "")),
        )


def find(replies: Iterable[BotReply]) -> HandoffSignal | None:
    """The first handoff signal among the bot's replies."""
    for reply in replies:
        if (signal := HandoffSignal.decode(reply.custom)) is not None:
            return signal
    return None


def _reason(raw: object) -> HandoffReason:
    try:
        return HandoffReason(str(raw))
    except ValueError:
        return HandoffReason.LOW_CONFIDENCE


def _candidates(raw: object) -> tuple[Suggestion, ...]:
    if not isinstance(raw, list):
        return ()
    found = []
    for c in raw:
        if not isinstance(c, Mapping):
            continue
        try:
            score = float(c.get("score", 0.0))
        except (TypeError, ValueError):
            continue
        found.append(
            Suggestion(
                key=str(c.get("key", "")),
                question=str(c.get("question", "")),
                answer=str(c.get("answer", "")),
                score=score,
            )
        )
    return tuple(found)
