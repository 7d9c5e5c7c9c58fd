"""The offline learning bench files what the simulated editor files, and scores top-1 on the
in-scope questions only."""

from __future__ import annotations

from bench.learning import Outcome
from bench.learning_seeds import filed, scored
from knowledge.types import Decision


def test_the_editor_files_declined_and_wrongly_answered_in_scope_questions_newest_first() -> None:
    first: list[tuple[Outcome, Decision]] = [
        (Outcome("退款多久", "refund", "declined", "refund"), "decline"),
        (Outcome("钱啥时候回来", "refund", "wrong", "invoice"), "answer"),  # rated unhelpful
        (Outcome("发票呢", "invoice", "wrong", "refund"), "clarify"),  # no rating on a clarify
        (Outcome("开票", "invoice", "correct", "invoice"), "answer"),
        (Outcome("你们老板是谁", None, "declined", "refund"), "decline"),  # dismissed
        (Outcome("天气如何", None, "wrong", "refund"), "answer"),  # dismissed
    ]
    assert filed(first) == {"refund": ["钱啥时候回来", "退款多久"]}


def test_scored_adds_top1_over_in_scope_questions() -> None:
    asked: list[tuple[Outcome, Decision]] = [
        (Outcome("a", "x", "correct", "x"), "answer"),
        (Outcome("b", "x", "declined", "x"), "decline"),
        (Outcome("c", "y", "declined", "x"), "decline"),
        (Outcome("d", None, "wrong", "x"), "answer"),
    ]
    s = scored(asked)
    assert s["top1"] == 2 / 3 and s["in_correct"] == 1 / 3 and s["all_wrong"] == 1 / 4
