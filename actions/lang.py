"""Which language to answer in: the service's metadata first, else the customer's own words.
Also the words of the customer's latest message, as every action reads them.

A bare order number ("YQ20261101001") says nothing about the language, so such messages are
skipped and the customer's earlier messages decide.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rasa_sdk import Tracker

from actions.orders import ORDER_NO
from core.lang import detect_lang
from core.types import Lang


def latest_text(tracker: Tracker) -> str:
    """The text of the customer's latest message ("" when there is none)."""
    return str((tracker.latest_message or {}).get("text") or "")


def _user_messages(tracker: Tracker) -> Iterator[dict[str, Any]]:
    """The latest message, then the earlier user events, newest first."""
    yield tracker.latest_message or {}
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            yield event


def _metadata_lang(message: dict[str, Any]) -> Lang | None:
    metadata = message.get("metadata")
    lang = metadata.get("lang") if isinstance(metadata, dict) else None
    if lang == "zh":
        return "zh"
    return "en" if lang == "en" else None


def reply_lang(tracker: Tracker, default: Lang = "zh") -> Lang:
    messages = list(_user_messages(tracker))
    for message in messages:
        lang = _metadata_lang(message)
        if lang is not None:
            return lang
    for message in messages:
        words = ORDER_NO.sub("", str(message.get("text") or ""))
        if any(ch.isalpha() for ch in words):
            return detect_lang(words, default)
    return default
