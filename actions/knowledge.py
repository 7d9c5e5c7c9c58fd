"""The knowledge index behind a small Protocol, and what the bot says for each search decision.

``decision`` comes from the index: "answer" (one entry is good enough), "clarify" (two are
close), "decline" (nothing is good enough: a human takes over, with the top candidates).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from actions.replies import BotSays, answer_payload, handoff
from actions.texts import text
from core.errors import Unavailable
from core.types import HandoffReason, Lang, Suggestion
from knowledge.types import Candidate, SearchResult

HANDOFF_CANDIDATES = 3


class KnowledgeSearcher(Protocol):
    """What the knowledge action needs from ``knowledge.live.LiveIndex`` (blocking: run in a thread)."""

    def search(self, text: str, lang: Lang | None = None, k: int = 5) -> SearchResult: ...


class KnowledgeUnavailable(Unavailable):
    code = "knowledge_unavailable"


def suggestions(candidates: Sequence[Candidate], limit: int = HANDOFF_CANDIDATES) -> list[Suggestion]:
    return [Suggestion(c.key, c.question, c.answer, float(c.score)) for c in candidates[:limit]]


def clarify(candidates: Sequence[Candidate], lang: Lang) -> BotSays:
    questions = [c.question for c in candidates[:2]]
    bare = [q.strip().rstrip("?？").strip() for q in questions]  # the template adds the question mark
    if len(bare) == 1:
        message = text("clarify_one", lang, first=bare[0])
    else:
        message = text("clarify", lang, first=bare[0], second=bare[1])
    return BotSays(message, buttons=tuple({"title": q, "payload": q} for q in questions))


def reply_for(result: SearchResult, lang: Lang) -> BotSays:
    """What to say for one search result."""
    candidates = result.candidates
    if result.decision == "answer" and candidates:
        best = candidates[0]
        margin = float(best.score) - (float(candidates[1].score) if len(candidates) > 1 else 0.0)
        return BotSays(best.answer, custom=answer_payload(best.key, float(best.score), margin))
    if result.decision == "clarify" and candidates:
        return clarify(candidates, lang)
    return handoff(HandoffReason.LOW_CONFIDENCE, lang, suggestions(candidates))
