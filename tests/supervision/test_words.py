"""The word-list check: Chinese as substrings, English as whole words, both lists on every reply."""

from __future__ import annotations

from supervision.words import WordLists, contains, flagged_words

LISTS = WordLists.build(
    [
        ("forbidden", "zh", "滚"),
        ("forbidden", "en", "stupid"),
        ("sensitive", "zh", "退款"),
        ("greeting", "zh", "您好"),
    ]
)


def test_chinese_words_match_inside_a_sentence() -> None:
    assert contains("你给我滚开", "滚", "zh")
    assert not contains("您好", "滚", "zh")


def test_english_words_match_whole_words_in_any_case() -> None:
    assert contains("That is a STUPID idea.", "stupid", "en")
    assert not contains("stupidity is not a word on the list", "stupid", "en")
    assert contains("hell!", "hell", "en") and not contains("hello", "hell", "en")


def test_a_reply_is_checked_against_both_languages_and_both_flagged_kinds() -> None:
    assert flagged_words("stupid，请滚，退款要三天", LISTS) == [
        ("forbidden", "滚"),
        ("forbidden", "stupid"),
        ("sensitive", "退款"),
    ]
    assert flagged_words("您好，请稍等", LISTS) == []  # a greeting is not a flagged word
