from __future__ import annotations

import pytest

from connectors.wecom.api import piece_msgids, raise_for_errcode
from connectors.wecom.errors import (
    SendQuotaExceeded,
    SendWindowClosed,
    WeComApiError,
    WeComAuthError,
    WeComPayloadError,
    WeComRateLimited,
    WeComSendRuleError,
)
from connectors.wecom.models import parse_sync_page, split_text


@pytest.mark.parametrize(
    "text",
    ["", "short", "a" * 2048, "a" * 2049, "中" * 683, "中" * 700 + "x", "😀" * 1000, ("段落。\n" * 400)],
)
def test_split_keeps_pieces_within_2048_bytes_and_loses_nothing(text: str) -> None:
    pieces = split_text(text)
    assert "".join(pieces) == text
    assert all(len(p.encode("utf-8")) <= 2048 for p in pieces)
    assert all(pieces) or text == ""
    assert len(pieces) == max(1, -(-len(text.encode()) // 2048)) or "\n" in text


def test_split_never_cuts_a_character() -> None:
    text = "a" + "中" * 1000  # 3001 bytes; byte 2048 falls inside a character
    first, second = split_text(text)
    assert len(first.encode()) == 2047
    assert first + second == text


def test_split_prefers_a_late_newline() -> None:
    text = "x" * 1500 + "\n" + "y" * 1000
    assert split_text(text) == ["x" * 1500 + "\n", "y" * 1000]


def test_split_ignores_an_early_newline() -> None:
    text = "x" * 10 + "\n" + "y" * 3000
    pieces = split_text(text)
    assert len(pieces[0].encode()) == 2048


def test_piece_msgids_are_unique_and_valid() -> None:
    ids = piece_msgids("r" * 32, 3)
    assert len(set(ids)) == 3 and all(len(i) <= 32 for i in ids)
    assert piece_msgids("abc", 1) == ["abc"]
    with pytest.raises(ValueError):
        piece_msgids("bad id!", 1)


@pytest.mark.parametrize(
    ("errcode", "exc"),
    [
        (95001, SendQuotaExceeded),
        (95002, SendWindowClosed),
        (95013, WeComSendRuleError),
        (45009, WeComRateLimited),
        (40014, WeComAuthError),
        (42001, WeComAuthError),
        (40013, WeComAuthError),
        (60001, WeComApiError),
    ],
)
def test_errcodes_map_to_typed_errors(errcode: int, exc: type[WeComApiError]) -> None:
    with pytest.raises(exc) as err:
        raise_for_errcode("kf/send_msg", {"errcode": errcode, "errmsg": "m"})
    assert err.value.errcode == errcode


def test_sync_page_is_validated() -> None:
    page = parse_sync_page(
        {
            "errcode": 0,
            "next_cursor": "c1",
            "has_more": 1,
            "msg_list": [
                {
                    "msgid": "m1",
                    "open_kfid": "wk",
                    "external_userid": "wm",
                    "send_time": 1,
                    "origin": 3,
                    "msgtype": "text",
                    "text": {"content": "hi", "menu_id": "101"},
                }
            ],
        }
    )
    assert page.has_more and page.next_cursor == "c1"
    assert page.messages[0].text == "hi" and page.messages[0].menu_id == "101"
    with pytest.raises(WeComPayloadError):
        parse_sync_page({"msg_list": [{"msgid": 5}]})
    with pytest.raises(WeComPayloadError):
        parse_sync_page({"msg_list": "nope"})
