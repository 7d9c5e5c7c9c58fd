from __future__ import annotations

import string

import pytest

from actions.texts import ORDER_STATES, TEXTS, order_state, text


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_every_message_has_both_languages_with_the_same_fields(key: str) -> None:
    assert set(TEXTS[key]) == {"zh", "en"}
    assert fields(TEXTS[key]["zh"]) == fields(TEXTS[key]["en"])


def test_every_handoff_reason_has_a_message() -> None:
    for reason in ("low_confidence", "customer_request", "form_failed", "knowledge_unavailable"):
        assert text(f"handoff_{reason}", "zh") != text(f"handoff_{reason}", "en")


def test_order_states_are_translated_and_unknown_ones_kept() -> None:
    assert all(set(labels) == {"zh", "en"} for labels in ORDER_STATES.values())
    assert order_state("Shipped", "zh") == "已发货"
    assert order_state("lost_at_sea", "en") == "lost_at_sea"
