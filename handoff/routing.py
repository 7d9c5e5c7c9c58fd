"""Routing rules: which skill group a handed-off conversation goes to. Pure: plain values in.

Rules are tried in order; the first whose every given field matches wins. A field left empty
matches anything. The default table sends VIP (tier S) customers to ``vip`` and everyone else
to ``general``; deployments pass their own table (channel, entry point, language, tier, topic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.types import HandoffRequest


@dataclass(frozen=True)
class Rule:
    group: str
    channel: str = ""
    entry_point: str = ""
    lang: str = ""
    tier: str = ""
    topic: str = ""

    def matches(self, request: HandoffRequest) -> bool:
        wanted = {
            self.channel: str(request.channel),
            self.entry_point: request.entry_point,
            self.lang: request.lang,
            self.tier: request.tier,
            self.topic: request.topic,
        }
        return all(not field or field == value for field, value in wanted.items())


DEFAULT_RULES: tuple[Rule, ...] = (Rule(group="vip", tier="S"), Rule(group="general"))


def route(request: HandoffRequest, rules: Sequence[Rule] = DEFAULT_RULES, default: str = "general") -> str:
    for rule in rules:
        if rule.matches(request):
            return rule.group
    return default
