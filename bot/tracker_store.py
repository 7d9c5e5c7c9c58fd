"""Rasa's Redis tracker store with a save that stays linear in the conversation's length.

Rasa loads this class from ``bot/endpoints.yml`` (``type: bot.tracker_store.KefuRedisTrackerStore``;
``rasa`` puts its working directory, the project root, on ``sys.path``). It runs in the Rasa
environment, so it imports only Rasa (and ``bot/rasa_fixes.py``, which it installs).

Why: Rasa 3.6's ``RedisTrackerStore.save`` merges the stored tracker with the one being saved.
``retrieve`` hands Rasa only the latest session, so when anything is stored before that session
the fast check fails and the merge compares every event of the saved tracker with every stored
event: quadratic. Rasa stores a ``session_started_metadata`` slot event before
``action_session_start`` whenever a session's first message carries metadata, and every message
from Kefu does (channel, language, customer), so every save of every Kefu conversation took the
quadratic path (about 150 ms of CPU per save at 300 events, 60 turns).

The merge here is one pass: the stored events before the saved session, then the saved
tracker's events, which is what Rasa's merge produces when the saved tracker's older events are
the stored ones (the lock store keeps one message per conversation at a time).
"""

from __future__ import annotations

from typing import Any

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from bot import rasa_fixes


class KefuRedisTrackerStore(RedisTrackerStore):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rasa_fixes.install()  # Rasa builds its tracker store in each worker: a hook that always runs

    @staticmethod
    def _merge_trackers(prior_tracker: DialogueStateTracker, tracker: DialogueStateTracker) -> Any:
        prior, saved = list(prior_tracker.events), list(tracker.events)
        if not prior or not saved:
            return RedisTrackerStore._merge_trackers(prior_tracker, tracker)
        start = session_start(prior, saved[0])
        stored_part = len(prior) - start if start is not None else 0
        if (
            start is None
            or len(saved) < stored_part
            or saved[stored_part - 1].as_dict() != prior[-1].as_dict()
        ):  # not an extension of what is stored: Rasa's own merge
            return RedisTrackerStore._merge_trackers(prior_tracker, tracker)
        if start == 0:
            return tracker
        return DialogueStateTracker.from_events(
            tracker.sender_id,
            prior[:start] + saved,
            tracker.slots.values(),
            sender_source=tracker.sender_source,
            max_event_history=tracker._max_event_history,
        )


def session_start(prior: list[Any], first: Any) -> int | None:
    """Index of ``first`` (the saved tracker's first event) in the stored events, searching
    from the end: the latest session starts near it."""
    wanted = first.as_dict()
    for index in range(len(prior) - 1, -1, -1):
        if prior[index].timestamp == first.timestamp and prior[index].as_dict() == wanted:
            return index
    return None
