from __future__ import annotations

from rasa_sdk import Tracker

from actions.lang import reply_lang
from tests.actions.conftest import MakeTracker


def test_metadata_language_wins(make_tracker: MakeTracker) -> None:
    assert reply_lang(make_tracker("你好", lang="en")) == "en"
    assert reply_lang(make_tracker("hello", lang="zh")) == "zh"


def test_detected_from_the_text_without_metadata(make_tracker: MakeTracker) -> None:
    assert reply_lang(make_tracker("我的订单到哪了")) == "zh"
    assert reply_lang(make_tracker("where is my order")) == "en"


def test_unknown_metadata_is_ignored(make_tracker: MakeTracker) -> None:
    assert reply_lang(make_tracker("where is my order", lang="fr")) == "en"


def test_a_bare_order_number_keeps_the_language_of_the_conversation() -> None:
    events = [
        {"event": "user", "text": "我的订单到哪了", "metadata": {}},
        {"event": "bot", "text": "请提供您的订单号"},
        {"event": "user", "text": "YQ20261101001", "metadata": {}},
    ]
    tracker = Tracker("c", {}, {"text": "YQ20261101001", "metadata": {}}, events, False, None, {}, None)
    assert reply_lang(tracker) == "zh"


def test_nothing_to_go_on_is_the_default(make_tracker: MakeTracker) -> None:
    assert reply_lang(make_tracker("12345")) == "zh"
    assert reply_lang(make_tracker("12345"), default="en") == "en"
