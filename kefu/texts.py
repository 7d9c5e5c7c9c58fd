"""Customer-facing texts the service itself says, in Chinese and English."""

from __future__ import annotations

from kefu.types import Lang

TEXTS: dict[str, dict[Lang, str]] = {
    "bot_unavailable": {
        "zh": "抱歉，智能助手暂时无法回复，正在为您转接人工客服。",
        "en": "Sorry, our assistant is unavailable right now. We are connecting you to a colleague.",
    },
    "queued": {
        "zh": "已为您转接人工客服，请稍候。",
        "en": "You are being connected to a customer-service colleague. Please wait.",
    },
    "queue_position": {
        "zh": "您前面还有 {ahead} 位客户，当前排在第 {position} 位。",
        "en": "You are number {position} in the queue ({ahead} ahead of you).",
    },
}


def text_for(key: str, lang: Lang, **values: object) -> str:
    return TEXTS[key][lang].format(**values)
