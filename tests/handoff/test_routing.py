from __future__ import annotations

from core.types import Channel, HandoffReason, HandoffRequest
from handoff.routing import DEFAULT_RULES, Rule, route


def request(**fields: object) -> HandoffRequest:
    base: dict[str, object] = {"conversation_id": "c", "reason": HandoffReason.LOW_CONFIDENCE}
    return HandoffRequest(**{**base, **fields})  # type: ignore[arg-type]


def test_default_rules_send_vips_to_vip_and_others_to_general() -> None:
    assert route(request(tier="S"), DEFAULT_RULES) == "vip"
    assert route(request(tier="A"), DEFAULT_RULES) == "general"


def test_first_matching_rule_wins_and_empty_fields_match_anything() -> None:
    rules = [
        Rule(group="wecom-en", channel="wecom_kf", lang="en"),
        Rule(group="refunds", topic="refund"),
        Rule(group="fallback"),
    ]
    assert route(request(channel=Channel.WECOM_KF, lang="en", topic="refund"), rules) == "wecom-en"
    assert route(request(channel=Channel.WEB, lang="en", topic="refund"), rules) == "refunds"
    assert route(request(channel=Channel.WEB, lang="zh"), rules) == "fallback"
    assert route(request(), []) == "general"
