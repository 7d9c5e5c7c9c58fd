"""Does a message read like its intent (an order or ticket question, a request for a person,
small talk)? A guard on top of Rasa's intent.

DIET is trained on a few dozen examples per intent and is often sure of itself far from them:
"我的意外保障服务在哪里查看" came out as ``order_status`` at 0.99 and "维修完资料还在吗" as ``greet``.
Sending such a question into the order form (or the ticket lookup) gives the customer a wrong
reply instead of the FAQ answer. So the order and ticket actions act only when the message
carries the words such a request is made of: a thing (订单 / 包裹 / 工单 / order / ticket ...)
and a status word (到哪 / 发货 / 进度 / where / status ...), or the number itself. Anything
else goes to the knowledge base, which answers or declines (docs/bot.md, "Routing guards").

A request for a human must name one (人工, 真人, 客服, human, agent ...): "要彻底删除账号和个人信息"
came out as ``request_human`` at 0.92. Small talk is told the same way: a message made of
greeting, thanks, goodbye, yes or no words and openers ("我想咨询一下"), and nothing else, is
small talk; "维修完资料还在吗" is not, although it ends in "在吗".

Every ``order_status``, ``ticket_status``, ``request_human`` and small-talk example in
bot/data/nlu.yml passes its cue (tests/actions/test_cues.py reads them).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from actions.orders import find_order_no
from actions.ticket_status import find_ticket_no

_ORDER_THING = re.compile(r"订单|单号|运单|快递|包裹|物流|东西|\border|package|parcel|shipment")
_ORDER_STATUS = re.compile(
    r"到哪|在哪|发货|发了|物流|状态|进度|到了|没到|还没|什么时候到|几时到|多久到|怎么还|订单查询|"
    r"where|track|status|shipped|arrive|deliver|check"
)
_ORDER_LOOKUP = re.compile(r"(查|查询|看看|看下|跟踪)(一下|下)?(我的)?(订单|物流|快递|包裹)")

_TICKET_THING = re.compile(r"工单|投诉|反馈|留言|提交的问题|\bticket|complaint|request")
_TICKET_STATUS = re.compile(
    r"怎么样|进度|进展|处理|回复|结果|状态|解决|到哪|有人|"
    r"status|update|progress|answer|repl|resolv|news|look|happen|check|waiting"
)


def asks_about_order(message: str) -> bool:
    """An order number, "查订单"-style lookups, or an order word with a status word."""
    text = message.lower()
    if find_order_no(message) is not None or _ORDER_LOOKUP.search(text):
        return True
    return bool(_ORDER_THING.search(text) and _ORDER_STATUS.search(text))


def asks_about_ticket(message: str) -> bool:
    """A ticket number, or a ticket word with a status word."""
    text = message.lower()
    if find_ticket_no(message) is not None:
        return True
    return bool(_TICKET_THING.search(text) and _TICKET_STATUS.search(text))


_HUMAN = re.compile(
    r"人工|真人|客服|找个人|转接|机器人|"
    r"\b(?:human|person|agent|someone|somebody|representative|operator|customer service|staff)\b"
)


def asks_for_human(message: str) -> bool:
    """Names a person to talk to: 人工 / 真人 / 客服 / human / agent / someone ..."""
    return bool(_HUMAN.search(message.lower()))


_SMALL_TALK = re.compile(
    r"你们好|你好|您好|哈喽|嗨|早上好|下午好|晚上好|还在吗|在吗|在么|在嘛|在不在|有人吗|再见|拜拜|回头见|下次再聊|谢谢你|谢谢您|谢谢|感谢|多谢|谢啦|非常|太|"
    r"辛苦了|没事了|先这样|是的|对的|好的|没错|可以|不用了|不需要|不要|没有|不对|不是|算了|是|对|嗯|行|不|"
    # openers: "你好，我想咨询一下" greets and waits for the question
    r"请问|问一下|问下|我想|想|咨询|一下|我有个问题|有个问题|我有问题|有问题|帮个忙|"
    r"\b(?:good (?:morning|afternoon|evening)|hello|hi|hey|(?:is )?any ?one (?:there|here)|there|"
    r"bye(?: bye)?|goodbye|see you(?: later)?|talk to you later|that's all|thank you(?: so much)?|"
    r"thanks(?: a lot)?|many thanks|much appreciated|cheers|yes|yeah|yep|sure|okay|ok|correct|"
    r"that's (?:right|wrong)|nope|not really|never mind|no|"
    r"i (?:have|'ve got) a (?:quick )?question|(?:i )?need (?:some )?help|can you help(?: me)?|help|please)\b"
)
_FILLER = re.compile(r"[\s\W_]|[啊呀呢吧哦嘛了啦哈]")


def is_small_talk(message: str) -> bool:
    """Only greeting, thanks, goodbye, yes or no words and openers ("我想咨询一下"), and punctuation."""
    return not _FILLER.sub("", _SMALL_TALK.sub("", message.lower()))


SMALL_TALK_INTENTS = ("greet", "goodbye", "thanks", "affirm", "deny")
Cue = Callable[[str], bool]
# Rasa intent -> what a message of that intent must read like for the intent's own action to run
CUES: dict[str, Cue] = {
    "order_status": asks_about_order,
    "ticket_status": asks_about_ticket,
    "request_human": asks_for_human,
    **dict.fromkeys(SMALL_TALK_INTENTS, is_small_talk),
}
