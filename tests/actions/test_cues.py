"""The routing cues against the bot's own training examples and questions that fooled DIET."""

from __future__ import annotations

import re

import pytest
import yaml

from actions.cues import (
    CUES,
    SMALL_TALK_INTENTS,
    asks_about_order,
    asks_about_ticket,
    asks_for_human,
    is_small_talk,
)
from core.settings import ROOT

ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")  # "[YQ2026...](order_no)" -> "YQ2026..."


def nlu_examples(intent: str) -> list[str]:
    data = yaml.safe_load((ROOT / "bot" / "data" / "nlu.yml").read_text(encoding="utf-8"))
    [block] = [b for b in data["nlu"] if b.get("intent") == intent]
    lines = [line.strip().removeprefix("- ") for line in block["examples"].splitlines()]
    return [ANNOTATION.sub(r"\1", line) for line in lines if line]


@pytest.mark.parametrize("intent", sorted(CUES))
def test_every_training_example_of_a_guarded_intent_passes_its_cue(intent: str) -> None:
    examples = nlu_examples(intent)
    assert len(examples) >= 14
    assert [e for e in examples if not CUES[intent](e)] == []


@pytest.mark.parametrize("intent", SMALL_TALK_INTENTS)
def test_small_talk_examples_carry_no_order_or_ticket_cue(intent: str) -> None:
    assert [e for e in nlu_examples(intent) if asks_about_order(e) or asks_about_ticket(e)] == []


@pytest.mark.parametrize(
    "text",
    [
        "你好，我想咨询一下",
        "在吗？我有个问题",
        "请问在吗",
        "hi, I have a question",
        "hello, I need help",
        "好的，谢谢！",
    ],
)
def test_openers_read_as_small_talk(text: str) -> None:
    assert is_small_talk(text)  # the greeting waits for the question instead of handing off


@pytest.mark.parametrize("intent", ["order_status", "ticket_status", "faq", "out_of_scope", "request_human"])
def test_no_other_example_reads_as_small_talk(intent: str) -> None:
    assert [e for e in nlu_examples(intent) if is_small_talk(e)] == []


@pytest.mark.parametrize(
    "text",
    [
        "维修完资料还在吗",
        "耳机是原装的吗",
        "你好，退款多久到账",
        "耳机有问题",
        "this is wrong",
        "hi, where is my refund",
    ],
)
def test_questions_with_a_greeting_or_yes_no_word_are_not_small_talk(text: str) -> None:
    assert not is_small_talk(text)


@pytest.mark.parametrize(
    "text",
    [
        "我的意外保障服务在哪里查看",  # DIET: order_status 0.99
        "我那笔钱到底哪天能回到卡里",
        "洗衣机的滚筒能单独买吗",
        "有不认识的订单出现在我的账户里",
        "订单退了之后优惠券去哪了",
        "订单的发票去哪里查看",
        "退货申请入口在哪",
        "can I change my delivery address",
    ],
)
def test_questions_that_are_not_order_lookups(text: str) -> None:
    assert not asks_about_order(text)


@pytest.mark.parametrize(
    "text",
    [
        "YQ20261101001",
        "帮我看看yq20261102003",
        "我的快递怎么还没到",
        "订单到哪了",
        "查下物流",
        "where's my package",
    ],
)
def test_order_lookups(text: str) -> None:
    assert asks_about_order(text)


@pytest.mark.parametrize(
    "text",
    [
        "东西没问题，就是不想要了，可以退吗",
        "618降价了，之前买的能退差额吗",
        "增票资质在哪里提交",
        "how do I file a complaint",
    ],
)
def test_questions_that_are_not_ticket_lookups(text: str) -> None:
    assert not asks_about_ticket(text)


@pytest.mark.parametrize("text", ["T20261123-0001", "我的投诉有进展了吗", "any update on my ticket"])
def test_ticket_lookups(text: str) -> None:
    assert asks_about_ticket(text)


@pytest.mark.parametrize(
    "text", ["要彻底删除账号和个人信息", "电视到了想约个周末安装", "想给你们的APP提点建议"]
)
def test_questions_that_do_not_ask_for_a_person(text: str) -> None:
    assert not asks_for_human(text)  # DIET: request_human 0.76-0.92
