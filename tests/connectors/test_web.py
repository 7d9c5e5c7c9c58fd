from __future__ import annotations

import pytest

from connectors.base import parse_json_object
from connectors.web import parse_web_message
from core.errors import ValidationFailed
from core.types import Channel


def test_valid_message_becomes_inbound_message() -> None:
    msg = parse_web_message(
        {"visitor_id": "v-1", "text": "  退款多久能到账？ ", "lang": "zh", "client_message_id": "c1"}
    )
    assert msg.channel is Channel.WEB
    assert msg.channel_user_id == "v-1"
    assert msg.text == "退款多久能到账？"
    assert msg.channel_message_id == "c1"


def test_missing_client_id_gets_a_unique_one() -> None:
    a = parse_web_message({"visitor_id": "v", "text": "hi"})
    b = parse_web_message({"visitor_id": "v", "text": "hi"})
    assert a.channel_message_id != b.channel_message_id


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"text": "hi"}, "invalid_visitor_id"),
        ({"visitor_id": "bad id!", "text": "hi"}, "invalid_visitor_id"),
        ({"visitor_id": "x" * 65, "text": "hi"}, "invalid_visitor_id"),
        ({"visitor_id": "v", "text": "   "}, "invalid_text"),
        ({"visitor_id": "v", "text": 42}, "invalid_text"),
        ({"visitor_id": "v", "text": "x" * 2001}, "text_too_long"),
        ({"visitor_id": "v", "text": "hi", "lang": "fr"}, "invalid_lang"),
        ({"visitor_id": "v", "text": "hi", "client_message_id": "../etc"}, "invalid_client_message_id"),
    ],
)
def test_invalid_input_has_stable_codes(body: dict[str, object], code: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_web_message(body)
    assert info.value.code == code


@pytest.mark.parametrize("raw", [b"", b"{", b"[1,2]", b"\xff\xfe", b'"text"'])
def test_body_must_be_a_json_object(raw: bytes) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_json_object(raw)
    assert info.value.code == "invalid_json"
