from __future__ import annotations

from typing import Any

import pytest

from connectors.app.inbound import parse_app_message
from core.errors import ValidationFailed
from core.types import Channel


def body(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "app_id": "shop",
        "user_id": "u-1",
        "text": " 我的订单到哪了 ",
        "message_id": "m-1",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_full_body_becomes_inbound_message() -> None:
    msg = parse_app_message(
        body(lang="zh", tier="S", customer={"phone": "+86 138-0000-0000", "member_id": "VIP_9", "x": "drop"}),
        "shop",
    )
    assert msg.channel is Channel.APP
    assert (msg.channel_user_id, msg.channel_message_id, msg.text) == ("shop:u-1", "m-1", "我的订单到哪了")
    assert msg.lang == "zh"
    assert msg.entry_point == "shop"
    assert msg.metadata == {
        "app_id": "shop",
        "tier": "S",
        "customer": {"phone": "+86 138-0000-0000", "member_id": "VIP_9"},
    }


def test_optional_fields_may_be_absent() -> None:
    msg = parse_app_message(body(), "shop")
    assert msg.lang is None
    assert msg.metadata == {"app_id": "shop"}


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"app_id": "other"}, "app_id_mismatch"),
        ({"app_id": None}, "invalid_app_id"),
        ({"user_id": None}, "invalid_user_id"),
        ({"user_id": "a b"}, "invalid_user_id"),
        ({"user_id": "u" * 65}, "invalid_user_id"),
        ({"message_id": None}, "invalid_message_id"),
        ({"message_id": "../x"}, "invalid_message_id"),
        ({"text": ""}, "invalid_text"),
        ({"text": ["hi"]}, "invalid_text"),
        ({"text": "x" * 2001}, "text_too_long"),
        ({"lang": "fr"}, "invalid_lang"),
        ({"tier": "gold"}, "invalid_tier"),
        ({"customer": "138"}, "invalid_customer"),
        ({"customer": {"phone": "call me"}}, "invalid_customer"),
        ({"customer": {"member_id": 42}}, "invalid_customer"),
    ],
)
def test_invalid_bodies_have_stable_codes(changes: dict[str, Any], code: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_app_message(body(**changes), "shop")
    assert info.value.code == code
    assert info.value.status == 422


def test_text_of_exactly_2000_characters_passes() -> None:
    assert len(parse_app_message(body(text="字" * 2000), "shop").text) == 2000
