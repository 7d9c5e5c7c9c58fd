"""Every text the bot says, keyed by message id, in Chinese and English."""

from __future__ import annotations

from core.types import Lang

TEXTS: dict[str, dict[Lang, str]] = {
    "greet": {
        "zh": "您好！我是智能客服，可以帮您查询订单、解答购物常见问题，也可以为您转接人工客服。",
        "en": "Hello! I'm the shop assistant. I can check an order, answer common shopping "
        "questions, or connect you to a colleague.",
    },
    "goodbye": {"zh": "再见，祝您购物愉快！", "en": "Goodbye, and happy shopping!"},
    "thanks": {
        "zh": "不客气！还有其他问题随时问我。",
        "en": "You're welcome! Ask me anytime if there is anything else.",
    },
    "affirm": {"zh": "好的。还有什么可以帮您？", "en": "All right. What else can I do for you?"},
    "deny": {
        "zh": "好的，有其他问题随时告诉我。",
        "en": "Okay. Just let me know if you have another question.",
    },
    "handoff_customer_request": {
        "zh": "好的，正在为您转接人工客服，请稍候。",
        "en": "Sure, I'm connecting you to a customer-service colleague. Please wait a moment.",
    },
    "handoff_low_confidence": {
        "zh": "这个问题我暂时无法准确回答，已为您转接人工客服同事，请稍候。",
        "en": "I can't answer that reliably, so a human colleague will take over. Please wait a moment.",
    },
    "handoff_knowledge_unavailable": {
        "zh": "抱歉，知识库暂时不可用，已为您转接人工客服同事，请稍候。",
        "en": "Sorry, our answers are unavailable right now, so a human colleague will take over. "
        "Please wait a moment.",
    },
    "handoff_form_failed": {
        "zh": "抱歉，没能查到您的订单，已为您转接人工客服同事帮您核实，请稍候。",
        "en": "Sorry, I couldn't find your order. A human colleague will take over to check it. "
        "Please wait a moment.",
    },
    "clarify": {"zh": "您是想问：{first} 还是 {second}？", "en": "Did you mean: {first} or {second}?"},
    "clarify_one": {"zh": "您是想问：{first}？", "en": "Did you mean: {first}?"},
    "ask_order_no": {
        "zh": "请提供您的订单号（例如 YQ20261101001）。",
        "en": "Please give me your order number (for example YQ20261101001).",
    },
    "order_not_a_number": {
        "zh": "这似乎不是有效的订单号，订单号由 YQ 加 11 位数字组成。",
        "en": "That doesn't look like an order number: it is YQ followed by 11 digits.",
    },
    "order_not_found": {
        "zh": "在您的账户下没有找到订单 {order_no}。请核对后重新输入，或点“转人工”请同事帮您查。",
        "en": "I couldn't find order {order_no} for you. Please check the number and try again, "
        'or choose "Talk to a person" and a colleague will help.',
    },
    "offer_human": {"zh": "转人工", "en": "Talk to a person"},
    "order_status": {
        "zh": "订单 {order_no}：{status}。",
        "en": "Order {order_no}: {status}.",
    },
    "order_shipment": {
        "zh": "承运商：{carrier}，运单号：{tracking_no}。",
        "en": "Carrier: {carrier}, tracking number: {tracking_no}.",
    },
    "order_eta": {"zh": "预计送达：{eta}。", "en": "Estimated delivery: {eta}."},
    "order_lookup_failed": {
        "zh": "抱歉，订单系统暂时无法查询，已为您转接人工客服同事，请稍候。",
        "en": "Sorry, I can't reach the order system right now, so a human colleague will take over.",
    },
    "ticket_status": {
        "zh": "您的工单 {number} 目前状态：{status}。",
        "en": "Your ticket {number}: {status}.",
    },
    "ticket_status_subject": {
        "zh": "您的工单 {number}（{subject}）目前状态：{status}。",
        "en": "Your ticket {number} ({subject}): {status}.",
    },
    "ticket_first_response_due": {
        "zh": "预计 {due} 前给您首次答复。",
        "en": "Expect a first answer by {due} (Beijing time).",
    },
    "ticket_first_response_late": {
        "zh": "客服同事会尽快给您答复。",
        "en": "A colleague will answer as soon as possible.",
    },
    "ticket_none": {
        "zh": "您目前没有处理中的工单。需要人工客服请回复「转人工」。",
        "en": 'You have no open ticket at the moment. Reply "human agent" if you\'d like to talk '
        "to a colleague.",
    },
    "ticket_not_found": {
        "zh": "没有找到工单 {number}，请核对工单号。需要人工客服请回复「转人工」。",
        "en": 'I couldn\'t find ticket {number}. Please check the number, or reply "human agent" '
        "to talk to a colleague.",
    },
    "ticket_lookup_failed": {
        "zh": "抱歉，工单暂时无法查询，请稍后再试。需要人工客服请回复「转人工」。",
        "en": "Sorry, I can't look up tickets right now. Please try again later, or reply \"human "
        'agent" to talk to a colleague.',
    },
}

# Order states as the demo order table stores them; unknown states are shown as stored.
ORDER_STATES: dict[str, dict[Lang, str]] = {
    "pending": {"zh": "待付款", "en": "awaiting payment"},
    "pending_payment": {"zh": "待付款", "en": "awaiting payment"},
    "refunding": {"zh": "退款处理中", "en": "refund in progress"},
    "paid": {"zh": "已付款，待发货", "en": "paid, waiting to ship"},
    "processing": {"zh": "处理中", "en": "being prepared"},
    "shipped": {"zh": "已发货", "en": "shipped"},
    "in_transit": {"zh": "运输中", "en": "in transit"},
    "out_for_delivery": {"zh": "派送中", "en": "out for delivery"},
    "delivered": {"zh": "已签收", "en": "delivered"},
    "cancelled": {"zh": "已取消", "en": "cancelled"},
    "refunded": {"zh": "已退款", "en": "refunded"},
    "returned": {"zh": "已退货", "en": "returned"},
}

# Ticket statuses (tickets.model.Status) as a customer reads them.
TICKET_STATES: dict[str, dict[Lang, str]] = {
    "new": {"zh": "已受理，等待客服处理", "en": "received, waiting for a colleague"},
    "open": {"zh": "处理中", "en": "being worked on"},
    "pending": {"zh": "等待您的回复", "en": "waiting for your reply"},
    "solved": {"zh": "已解决", "en": "solved"},
    "closed": {"zh": "已关闭", "en": "closed"},
}


def text(key: str, lang: Lang, **values: object) -> str:
    """The message ``key`` in ``lang`` with ``values`` filled in."""
    return TEXTS[key][lang].format(**values)


def order_state(status: str, lang: Lang) -> str:
    labels = ORDER_STATES.get(status.strip().lower())
    return labels[lang] if labels else status


def ticket_state(status: str, lang: Lang) -> str:
    labels = TICKET_STATES.get(status.strip().lower())
    return labels[lang] if labels else status
