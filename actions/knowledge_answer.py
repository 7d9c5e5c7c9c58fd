"""``action_knowledge_answer``: answer from the FAQ index, ask which entry was meant, or hand off."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import KnowledgeSearcher, KnowledgeUnavailable, reply_for
from actions.lang import latest_text, reply_lang
from actions.replies import KNOWLEDGE_UNAVAILABLE, handoff, send

log = logging.getLogger(__name__)


class ActionKnowledgeAnswer(Action):  # type: ignore[misc]
    def __init__(self, searcher: KnowledgeSearcher, k: int = 5) -> None:
        self._searcher = searcher
        self._k = k

    def name(self) -> str:
        return "action_knowledge_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = reply_lang(tracker)
        question = latest_text(tracker).strip()
        try:
            result = await asyncio.to_thread(self._searcher.search, question, lang, self._k)
        except KnowledgeUnavailable as exc:
            log.warning("knowledge index unavailable: %s", exc.message)
            send(dispatcher, handoff(KNOWLEDGE_UNAVAILABLE, lang))
            return []
        except Exception:
            # The customer must get an answer whatever the index does; the trace goes to the log.
            log.exception("knowledge search failed")
            send(dispatcher, handoff(KNOWLEDGE_UNAVAILABLE, lang))
            return []
        send(dispatcher, reply_for(result, lang))
        return []
