"""The bench's accounting: where each intent's message goes under each policy, and what counts."""

from __future__ import annotations

import pytest

from bench.bot_routing import final, rates, route


@pytest.mark.parametrize("intent", ["faq", "out_of_scope", "nlu_fallback"])
@pytest.mark.parametrize("policy", ["bare_rasa", "kefu"])
def test_knowledge_intents_reach_the_index_under_both_policies(policy: str, intent: str) -> None:
    assert route(policy, intent, "退款多久到账") == "knowledge"


@pytest.mark.parametrize(
    ("intent", "text", "bare", "kefu"),
    [
        ("order_status", "我的意外保障服务在哪里查看", "other", "knowledge"),
        ("order_status", "我的快递到哪了", "other", "other"),
        ("ticket_status", "618降价了，之前买的能退差额吗", "other", "knowledge"),
        ("ticket_status", "我的工单处理到哪了", "other", "other"),
        ("greet", "维修完资料还在吗", "other", "knowledge"),
        ("greet", "你好", "other", "other"),
        ("request_human", "要彻底删除账号和个人信息", "human", "knowledge"),
        ("request_human", "转人工", "human", "human"),
    ],
)
def test_the_guards_change_only_messages_that_do_not_read_like_their_intent(
    intent: str, text: str, bare: str, kefu: str
) -> None:
    assert route("bare_rasa", intent, text) == bare
    assert route("kefu", intent, text) == kefu


def test_outcomes_count_a_handoff_as_declined_and_a_misroute_as_its_own_failure() -> None:
    assert final("knowledge", "clarified") == "clarified"
    assert final("human", "correct") == "handoff"  # the index would have answered; a person does
    assert final("other", "correct") == "misrouted"
    got = rates(["correct", "clarified", "declined", "handoff", "wrong", "misrouted", "misrouted", "correct"])
    assert got == {"correct": 3 / 8, "declined_or_handoff": 2 / 8, "wrong": 1 / 8, "misrouted": 2 / 8}
