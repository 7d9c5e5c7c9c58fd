"""Customer-facing texts the service itself says, in Chinese and English."""

from __future__ import annotations

from core.types import Lang

TEXTS: dict[str, dict[Lang, str]] = {
    "bot_unavailable": {
        "zh": "抱歉，智能助手暂时无法回复，正在为您转接人工客服。",
        "en": "Sorry, our assistant is unavailable right now. We are connecting you to a colleague.",
    },
    "queue_position": {
        "zh": "您前面还有 {ahead} 位客户，当前排在第 {position} 位。",
        "en": "You are number {position} in the queue ({ahead} ahead of you).",
    },
    "agent_joined": {
        "zh": "客服 {name} 已接入，正在为您服务。",
        "en": "{name} from customer service has joined the conversation.",
    },
    "transferred": {
        "zh": "正在为您转接其他客服，请稍候。",
        "en": "We are transferring you to another colleague. Please wait.",
    },
    "csat_request": {
        "zh": "本次服务已结束，请为我们的服务打分（1-5 星）。",
        "en": "This conversation has ended. Please rate our service from 1 to 5 stars.",
    },
    "message_left": {
        "zh": "已收到您的留言（工单号 {ticket_number}），我们会尽快回复您。",
        "en": "We have your message (ticket {ticket_number}) and will reply as soon as we can.",
    },
    "csat_thanks": {
        "zh": "感谢您的评价！如还有问题，随时发消息给我们。",
        "en": "Thank you for your rating! Write to us any time if you need anything else.",
    },
}


def text_for(key: str, lang: Lang, **values: object) -> str:
    return TEXTS[key][lang].format(**values)
