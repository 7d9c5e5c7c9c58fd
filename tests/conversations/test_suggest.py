"""Past replies offered to agents: pairs from closed conversations, personal data left out."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import repo
from conversations.suggest import load_pairs
from tests.tickets.db import conversation_with

Sessions = async_sessionmaker[AsyncSession]


async def closed_exchange(session: AsyncSession, user: str, question: str, answer: str) -> None:
    conv = await conversation_with(session, user, question)
    repo.add_message(session, conv.id, "agent", answer)
    conv.state = "closed"
    await session.flush()


async def test_replies_with_personal_data_are_never_suggested(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await closed_exchange(session, "a", "怎么退货", "在订单页申请退货即可")
        await closed_exchange(session, "b", "退款到哪了", "已退到您尾号 62284812 的卡")
        await closed_exchange(session, "c", "发票呢", "已发到 zhang.san@example.com")
        await closed_exchange(session, "d", "物流查询", "请看 https://track.example.com/x")
        await closed_exchange(session, "e", "我的手机 13800138000 收不到验证码", "请稍后重试")
    async with sessions() as session:
        pairs = await load_pairs(session)
    assert [(p.question, p.answer) for p in pairs] == [("怎么退货", "在订单页申请退货即可")]
