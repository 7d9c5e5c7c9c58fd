"""Learning from use: what may be learned, how it merges into entries, its SQL records, and publish."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import Conflict, NotFound, ValidationFailed
from knowledge import learning
from knowledge.index import load_index
from knowledge.live import published_version
from knowledge.publish import publish
from knowledge.store import import_entries
from knowledge.tables import UnansweredQuestion
from knowledge.types import FaqEntry
from tests.knowledge.kb import ENTRIES, FAST

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
REFUND = FaqEntry("refund-time", "zh", "退款多久到账？", ("退款几天到账",), "1-3个工作日。")


@pytest.mark.parametrize(
    "text",
    [
        "我的手机号13812345678怎么改",
        "订单 2025112300123 到哪了",
        "发到 zhang.san@example.com 吧",
        "看这个 https://example.com/x",
        "www.example.com 打不开",
        "好",
        "退" * 201,
        "   ",
    ],
)
def test_personal_looking_or_odd_sized_texts_are_not_learned(text: str) -> None:
    assert learning.learnable(text) is None


def test_a_plain_question_is_learned_with_its_spaces_collapsed() -> None:
    assert learning.learnable("  钱啥时候  退回来 \n") == "钱啥时候 退回来"
    assert learning.learnable("iPhone 15 还有货吗") == "iPhone 15 还有货吗"


def test_merge_appends_new_wordings_skips_known_ones_and_caps_per_entry() -> None:
    other = FaqEntry("invoice", "zh", "如何开发票？", (), "在订单详情页申请。")
    learned = {
        "refund-time": ["钱啥时候退回来", "退款几天到账？", "ＲＥＦＵＮＤ 多久", "refund 多久"],
        "gone": ["x"],
    }
    merged = learning.merge([REFUND, other], learned, cap=5)
    assert merged[0].similar == (
        "退款几天到账",
        "钱啥时候退回来",
        "ＲＥＦＵＮＤ 多久",
    )  # full width = same text
    assert merged[1] is other
    capped = learning.merge([REFUND], {"refund-time": ["一", "二二", "三三三"]}, cap=2)
    assert capped[0].similar == ("退款几天到账", "一", "二二")


async def _seed(session: AsyncSession, *texts: str) -> list[int]:
    await import_entries(session, [REFUND], replace=False)
    rows = [UnansweredQuestion(conversation_id="c1", text=t, lang="zh", top_score=0.1) for t in texts]
    session.add_all(rows)
    await session.flush()
    return [r.id for r in rows]


async def test_learn_is_idempotent_needs_a_known_entry_and_keeps_rejections(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await _seed(session)
        first = await learning.learn(
            session, "refund-time", "钱啥时候退回来", source="suggestion", source_id=1, actor="a"
        )
        again = await learning.learn(
            session, "refund-time", "钱啥时候退回来", source="suggestion", source_id=2, actor="b"
        )
        assert first is not None and again is not None and again.id == first.id
        assert (
            await learning.learn(
                session, "refund-time", "电话13812345678", source="suggestion", source_id=3, actor="a"
            )
            is None
        )
        with pytest.raises(NotFound) as missing:
            await learning.learn(session, "nope", "随便问问", source="suggestion", source_id=4, actor="a")
        assert missing.value.code == "faq_entry_not_found"
        await learning.set_learned_status(session, first.id, "rejected")
        await learning.learn(
            session, "refund-time", "钱啥时候退回来", source="unanswered", source_id=5, actor="c"
        )
        assert await learning.active_learned(session) == {}
        await learning.set_learned_status(session, first.id, "active")
        assert await learning.active_learned(session) == {"refund-time": ["钱啥时候退回来"]}
        with pytest.raises(NotFound):
            await learning.set_learned_status(session, 999, "active")


async def test_resolving_unanswered_questions(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        add, dismiss, personal = await _seed(
            session, "钱啥时候退回来", "你们老板是谁", "我手机13812345678收不到短信"
        )
        question, learned = await learning.resolve_unanswered(
            session, add, entry_key="refund-time", actor="editor1", now=NOW
        )
        assert (question.status, question.entry_key, question.resolved_by) == (
            "added",
            "refund-time",
            "editor1",
        )
        assert learned is not None and (learned.source, learned.source_id) == ("unanswered", add)
        question, learned = await learning.resolve_unanswered(
            session, dismiss, entry_key=None, actor="e", now=NOW
        )
        assert question.status == "dismissed" and learned is None
        with pytest.raises(Conflict) as twice:
            await learning.resolve_unanswered(session, add, entry_key=None, actor="e", now=NOW)
        assert twice.value.code == "already_resolved"
        with pytest.raises(ValidationFailed) as refused:
            await learning.resolve_unanswered(session, personal, entry_key="refund-time", actor="e", now=NOW)
        assert refused.value.code == "not_learnable"
        with pytest.raises(NotFound) as unknown:
            await learning.resolve_unanswered(session, 999, entry_key=None, actor="e", now=NOW)
        assert unknown.value.code == "unanswered_not_found"
        opened = await learning.list_unanswered(session, status="open", limit=10)
        assert [q.id for q in opened] == [personal]


async def test_publish_builds_the_learned_wordings_into_the_next_version(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    wording = "我那笔钱到底哪天能回到卡里"
    async with sessions.begin() as session:
        await import_entries(session, ENTRIES, replace=False)
    before = await publish(sessions, tmp_path, FAST)
    async with sessions.begin() as session:
        await learning.learn(
            session, "refund-time", wording, source="suggestion", source_id=1, actor="agent1"
        )
        await learning.learn(
            session, "invoice", wording + "吗", source="suggestion", source_id=2, actor="agent1"
        )
        rejected = await learning.learn(
            session, "invoice", wording + "呢", source="suggestion", source_id=3, actor="x"
        )
        assert rejected is not None
        await learning.set_learned_status(session, rejected.id, "rejected")
    after = await publish(sessions, tmp_path, FAST)
    assert (before.learned_count, after.learned_count) == (0, 2)
    assert published_version(tmp_path) == after.version
    manifest = json.loads((Path(after.path) / "manifest.json").read_text(encoding="utf-8"))
    old = json.loads((Path(before.path) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["text_count"] == old["text_count"] + 2
    found = load_index(Path(after.path), FAST).search(wording)
    assert found.candidates[0].key == "refund-time"
