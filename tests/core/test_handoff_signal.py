"""The handoff signal: what the action server writes is what the switchboard reads."""

from __future__ import annotations

from core.handoff_signal import HandoffSignal, find
from core.types import BotReply, HandoffReason, Suggestion


def test_a_signal_survives_the_wire() -> None:
    signal = HandoffSignal(
        HandoffReason.CUSTOMER_REQUEST,
        (Suggestion("refund", "退款多久到账", "3-5 个工作日", 0.42),),
        topic="refund",
    )
    assert HandoffSignal.decode(signal.encode()) == signal


def test_replies_without_a_signal_have_none() -> None:
    replies = [BotReply(text="你好"), BotReply(text="", custom={"kefu": {"answer": {"key": "a"}}})]
    assert find(replies) is None


def test_the_first_signal_among_the_replies_is_found() -> None:
    signal = HandoffSignal(HandoffReason.FORM_FAILED)
    replies = [BotReply(text="好的"), BotReply(text="转人工", custom=signal.encode())]
    assert find(replies) == signal


def test_a_malformed_body_is_read_as_far_as_it_goes() -> None:
    custom = {
        "kefu": {
            "handoff": {
                "reason": "no-such-reason",
                "candidates": [{"key": "k", "score": "high"}, "junk", {"key": "ok", "score": 0.5}],
            }
        }
    }
    decoded = HandoffSignal.decode(custom)
    assert decoded is not None
    assert decoded.reason == HandoffReason.LOW_CONFIDENCE
    assert [c.key for c in decoded.candidates] == ["ok"]


def test_a_handoff_field_that_is_not_an_object_is_no_signal() -> None:
    assert HandoffSignal.decode({"kefu": {"handoff": "yes"}}) is None
    assert HandoffSignal.decode({"kefu": "handoff"}) is None
    assert HandoffSignal.decode(None) is None
