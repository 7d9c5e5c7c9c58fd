from __future__ import annotations

import pytest

from connectors.wecom.crypto import WeComCrypto
from connectors.wecom.errors import WeComPayloadError
from connectors.wecom.xml import (
    AppTextMessage,
    KfEvent,
    OtherCallback,
    build_app_text,
    build_envelope,
    build_kf_event,
    build_reply,
    build_text_reply,
    parse_callback,
    parse_envelope,
)
from tests.fakes.wecom_fixtures import AES_KEY, CORP_ID, TOKEN

# The documented kf_msg_or_event example, with whitespace as Tencent shows it.
KF_EVENT = """<xml>
   <ToUserName><![CDATA[ww12345678910]]></ToUserName>
   <CreateTime>1348831860</CreateTime>
   <MsgType><![CDATA[event]]></MsgType>
   <Event><![CDATA[kf_msg_or_event]]></Event>
   <Token><![CDATA[ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR]]></Token>
   <OpenKfId><![CDATA[wkxxxxxxx]]></OpenKfId>
</xml>"""


def test_kf_event_is_parsed() -> None:
    assert parse_callback(KF_EVENT) == KfEvent(
        "ww12345678910", 1348831860, "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR", "wkxxxxxxx"
    )


def test_app_text_message_is_parsed() -> None:
    xml = build_app_text(CORP_ID, "zhangsan", 1700000000, "请问 ]]> 怎么办", "1234567890123456", "1000002")
    msg = parse_callback(xml)
    assert msg == AppTextMessage(
        CORP_ID, "zhangsan", 1700000000, "请问 ]]> 怎么办", "1234567890123456", "1000002"
    )


def test_other_events_are_typed_as_other() -> None:
    xml = "<xml><MsgType>event</MsgType><Event>enter_agent</Event></xml>"
    assert parse_callback(xml) == OtherCallback("event", "enter_agent")


def test_envelope_round_trip() -> None:
    env = parse_envelope(build_envelope(CORP_ID, "ENC+/=", "1000002"))
    assert (env.to_user_name, env.encrypt, env.agent_id) == (CORP_ID, "ENC+/=", "1000002")


@pytest.mark.parametrize(
    "body",
    [
        "not xml",
        "<root><Encrypt>x</Encrypt></root>",
        "<xml><ToUserName>a</ToUserName></xml>",
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        "<xml><Encrypt>&e;</Encrypt></xml>",
        '<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        "<xml><Encrypt>&b;</Encrypt></xml>",
        "<xml><Encrypt>" + "A" * 70000 + "</Encrypt></xml>",
    ],
)
def test_bad_or_hostile_envelopes_are_refused(body: str) -> None:
    with pytest.raises(WeComPayloadError):
        parse_envelope(body)


def test_missing_fields_are_refused() -> None:
    with pytest.raises(WeComPayloadError):
        parse_callback("<xml><MsgType>event</MsgType><Event>kf_msg_or_event</Event></xml>")


def test_passive_reply_decrypts_to_the_text_reply() -> None:
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    plain = build_text_reply("zhangsan", CORP_ID, 1700000000, "收到")
    reply = build_reply(crypto.seal(plain, "1700000000", "nonce1"))
    env = parse_envelope(reply)
    assert "<MsgSignature>" in reply and "<TimeStamp>1700000000</TimeStamp>" in reply
    sig = reply.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    assert crypto.open(sig, "1700000000", "nonce1", env.encrypt) == plain


def test_built_kf_event_parses_back() -> None:
    assert parse_callback(build_kf_event(CORP_ID, 5, "T", "wk1")) == KfEvent(CORP_ID, 5, "T", "wk1")
