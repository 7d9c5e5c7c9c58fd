"""Web visitors' tokens as a widget keeps them: learned from each answer, sent with each request."""

from __future__ import annotations

from typing import Any

HEADER = "X-Kefu-Visitor-Token"
_TOKENS: dict[str, str] = {}


def headers(visitor: str) -> dict[str, str]:
    """The visitor's token header, once the service has issued one (none before the first message)."""
    token = _TOKENS.get(visitor)
    return {HEADER: token} if token else {}


def remember(visitor: str, answer: dict[str, Any]) -> dict[str, Any]:
    token = answer.get("visitor_token")
    if isinstance(token, str):
        _TOKENS[visitor] = token
    return answer
