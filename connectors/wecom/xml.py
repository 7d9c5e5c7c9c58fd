"""WeCom callback XML: the encrypted envelope, the decrypted event or message, passive replies.

Parsing goes through defusedxml with DTDs forbidden, so no entity expansion and no XXE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from connectors.wecom.crypto import Sealed
from connectors.wecom.errors import WeComPayloadError

MAX_XML_BYTES = 64 * 1024


@dataclass(frozen=True)
class Envelope:
    """The outer, still-encrypted callback body."""

    to_user_name: str
    encrypt: str
    agent_id: str = ""


@dataclass(frozen=True)
class KfEvent:
    """kf_msg_or_event: new kf messages wait behind ``token`` for ``open_kfid``."""

    corp_id: str
    create_time: int
    token: str
    open_kfid: str


@dataclass(frozen=True)
class AppTextMessage:
    """A text message an employee sent to the self-built app."""

    corp_id: str
    from_user: str
    create_time: int
    content: str
    msg_id: str
    agent_id: str


@dataclass(frozen=True)
class OtherCallback:
    """Any other message or event; acknowledged and ignored."""

    msg_type: str
    event: str


Callback = KfEvent | AppTextMessage | OtherCallback


def _root(text: str | bytes) -> Any:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > MAX_XML_BYTES:
        raise WeComPayloadError("the XML body is too large", code="xml_too_large")
    try:
        root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise WeComPayloadError("the body is not acceptable XML", code="invalid_xml") from exc
    if root.tag != "xml":
        raise WeComPayloadError("the XML root must be <xml>", code="invalid_xml")
    return root


def _text(root: Any, tag: str, *, required: bool = True) -> str:
    node = root.find(tag)
    value = (node.text or "").strip() if node is not None else ""
    if required and not value:
        raise WeComPayloadError(f"the XML has no {tag}", code="invalid_xml")
    return value


def _int(root: Any, tag: str) -> int:
    value = _text(root, tag, required=False)
    try:
        return int(value) if value else 0
    except ValueError as exc:
        raise WeComPayloadError(f"{tag} is not a number", code="invalid_xml") from exc


def parse_envelope(body: str | bytes) -> Envelope:
    root = _root(body)
    return Envelope(
        to_user_name=_text(root, "ToUserName", required=False),
        encrypt=_text(root, "Encrypt"),
        agent_id=_text(root, "AgentID", required=False),
    )


def parse_callback(plaintext: str) -> Callback:
    """The decrypted XML as a typed callback."""
    root = _root(plaintext)
    msg_type = _text(root, "MsgType")
    event = _text(root, "Event", required=False)
    corp_id = _text(root, "ToUserName", required=False)
    if msg_type == "event" and event == "kf_msg_or_event":
        return KfEvent(corp_id, _int(root, "CreateTime"), _text(root, "Token"), _text(root, "OpenKfId"))
    if msg_type == "text":
        return AppTextMessage(
            corp_id=corp_id,
            from_user=_text(root, "FromUserName"),
            create_time=_int(root, "CreateTime"),
            content=_text(root, "Content", required=False),
            msg_id=_text(root, "MsgId"),
            agent_id=_text(root, "AgentID", required=False),
        )
    return OtherCallback(msg_type, event)


def cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_envelope(to_user_name: str, encrypt: str, agent_id: str = "") -> str:
    """The encrypted body Tencent POSTs to a callback URL."""
    return (
        f"<xml><ToUserName>{cdata(to_user_name)}</ToUserName>"
        f"<Encrypt>{cdata(encrypt)}</Encrypt>"
        f"<AgentID>{cdata(agent_id)}</AgentID></xml>"
    )


def build_reply(sealed: Sealed) -> str:
    """An encrypted passive reply (the body of a 200 answer to a callback POST)."""
    return (
        f"<xml><Encrypt>{cdata(sealed.encrypt)}</Encrypt>"
        f"<MsgSignature>{cdata(sealed.msg_signature)}</MsgSignature>"
        f"<TimeStamp>{sealed.timestamp}</TimeStamp>"
        f"<Nonce>{cdata(sealed.nonce)}</Nonce></xml>"
    )


def build_text_reply(to_user: str, from_user: str, create_time: int, content: str) -> str:
    """The plaintext of a passive text reply, to be sealed with ``WeComCrypto.seal``."""
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        f"<MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(content)}</Content></xml>"
    )


def build_kf_event(corp_id: str, create_time: int, token: str, open_kfid: str) -> str:
    """The plaintext of a kf_msg_or_event callback (used by the fake and by tests)."""
    return (
        f"<xml><ToUserName>{cdata(corp_id)}</ToUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        f"<MsgType>{cdata('event')}</MsgType>"
        f"<Event>{cdata('kf_msg_or_event')}</Event>"
        f"<Token>{cdata(token)}</Token>"
        f"<OpenKfId>{cdata(open_kfid)}</OpenKfId></xml>"
    )


def build_app_text(
    corp_id: str, from_user: str, create_time: int, content: str, msg_id: str, agent_id: str
) -> str:
    """The plaintext of a self-built app text message callback."""
    return (
        f"<xml><ToUserName>{cdata(corp_id)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        f"<MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(content)}</Content>"
        f"<MsgId>{msg_id}</MsgId>"
        f"<AgentID>{agent_id}</AgentID></xml>"
    )
