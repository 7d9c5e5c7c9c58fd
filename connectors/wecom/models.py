"""Typed shapes of WeCom API answers and requests, validated at the edge."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from connectors.wecom.errors import WeComPayloadError

MAX_TEXT_BYTES = 2048
MSGID_PATTERN = re.compile(r"^[0-9A-Za-z_-]{1,32}$")


class Origin(IntEnum):
    """Who sent a message returned by kf/sync_msg."""

    CUSTOMER = 3
    SYSTEM = 4
    SERVICER = 5


class ServiceState(IntEnum):
    """kf session states for kf/service_state/trans."""

    UNTREATED = 0
    BOT = 1  # 由智能助手接待
    QUEUED = 2  # 待接入池排队中
    AGENT = 3  # 由人工接待
    CLOSED = 4  # 已结束/未开始


@dataclass(frozen=True)
class KfMessage:
    msgid: str
    open_kfid: str
    external_userid: str
    send_time: int
    origin: int
    msgtype: str
    text: str | None = None
    menu_id: str | None = None
    servicer_userid: str = ""


@dataclass(frozen=True)
class SyncPage:
    next_cursor: str
    has_more: bool
    messages: tuple[KfMessage, ...]


@dataclass(frozen=True)
class MenuItem:
    """One clickable line of a msgmenu message."""

    id: str
    content: str


def _str(data: dict[str, Any], field: str, default: str | None = None) -> str:
    value = data.get(field, default)
    if not isinstance(value, str):
        raise WeComPayloadError(f"sync_msg answer: {field} is not a string")
    return value


def _int(data: dict[str, Any], field: str) -> int:
    value = data.get(field, 0)
    if isinstance(value, bool) or not isinstance(value, int):
        raise WeComPayloadError(f"sync_msg answer: {field} is not an integer")
    return value


def parse_kf_message(data: Any) -> KfMessage:
    if not isinstance(data, dict):
        raise WeComPayloadError("sync_msg answer: a message is not an object")
    text_obj = data.get("text")
    text = menu_id = None
    if data.get("msgtype") == "text" and isinstance(text_obj, dict):
        text = _str(text_obj, "content", "")
        menu_id = text_obj.get("menu_id") if isinstance(text_obj.get("menu_id"), str) else None
    return KfMessage(
        msgid=_str(data, "msgid"),
        open_kfid=_str(data, "open_kfid", ""),
        external_userid=_str(data, "external_userid", ""),
        send_time=_int(data, "send_time"),
        origin=_int(data, "origin"),
        msgtype=_str(data, "msgtype", ""),
        text=text,
        menu_id=menu_id,
        servicer_userid=_str(data, "servicer_userid", ""),
    )


def parse_sync_page(data: dict[str, Any]) -> SyncPage:
    msg_list = data.get("msg_list", [])
    if not isinstance(msg_list, list):
        raise WeComPayloadError("sync_msg answer: msg_list is not a list")
    return SyncPage(
        next_cursor=_str(data, "next_cursor", ""),
        has_more=_int(data, "has_more") == 1,
        messages=tuple(parse_kf_message(m) for m in msg_list),
    )


def split_text(text: str, max_bytes: int = MAX_TEXT_BYTES) -> list[str]:
    """Cut ``text`` into pieces of at most ``max_bytes`` UTF-8 bytes, never inside a character.

    A piece ends after the last newline in its window when that newline lies in the window's
    second half; joined, the pieces give back ``text`` exactly.
    """
    if max_bytes < 4:
        raise ValueError("max_bytes must leave room for any one character")
    pieces: list[str] = []
    rest = text
    while len(rest.encode("utf-8")) > max_bytes:
        cut = _fit(rest, max_bytes)
        newline = rest.rfind("\n", 0, cut)
        if newline >= 0 and len(rest[: newline + 1].encode("utf-8")) * 2 > max_bytes:
            cut = newline + 1
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def _fit(text: str, max_bytes: int) -> int:
    """The largest number of leading characters whose UTF-8 form fits in ``max_bytes``."""
    size = 0
    for i, ch in enumerate(text):
        size += len(ch.encode("utf-8"))
        if size > max_bytes:
            return i
    return len(text)
