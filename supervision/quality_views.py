"""Read views of the quality inspection: scores by agent, group and day, the worst
conversations, and the T+0 view (every alert of one business day by agent and group)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.tables import User
from supervision.reports import day_start, local_day
from supervision.scoring import score_json
from supervision.tables import Alert, QualityScore

WORST = 10


async def usernames(session: AsyncSession) -> dict[int, str]:
    return dict((await session.execute(select(User.id, User.username))).all())


def _avg(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


async def scores_view(session: AsyncSession, start: date, end: date, tz: ZoneInfo) -> dict[str, Any]:
    rows = list(
        await session.scalars(
            select(QualityScore).where(
                QualityScore.closed_at >= day_start(start, tz).astimezone(UTC),
                QualityScore.closed_at < day_start(end + timedelta(days=1), tz).astimezone(UTC),
            )
        )
    )
    names = await usernames(session)
    by_agent: dict[str, list[float]] = defaultdict(list)
    by_group: dict[str, list[float]] = defaultdict(list)
    by_day: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        final = row.override_score if row.override_score is not None else row.score
        by_agent[names.get(row.agent_id or -1, "")].append(final)
        by_group[row.group].append(final)
        by_day[local_day(row.closed_at, tz).isoformat()].append(final)
    worst = sorted(rows, key=lambda r: r.override_score if r.override_score is not None else r.score)[:WORST]
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "scored": len(rows),
        "by_agent": [{"agent": k, "count": len(v), "avg": _avg(v)} for k, v in sorted(by_agent.items())],
        "by_group": [{"group": k, "count": len(v), "avg": _avg(v)} for k, v in sorted(by_group.items())],
        "by_day": [{"day": k, "count": len(v), "avg": _avg(v)} for k, v in sorted(by_day.items())],
        "worst": [score_json(r, names.get(r.agent_id or -1, "")) for r in worst],
    }


async def day_alerts(session: AsyncSession, day: date, tz: ZoneInfo) -> dict[str, Any]:
    """T+0: every alert of the business day, counted by agent and by group, each drillable to
    its conversations."""
    rows = list(
        await session.scalars(
            select(Alert)
            .where(
                Alert.created_at >= day_start(day, tz).astimezone(UTC),
                Alert.created_at < day_start(day + timedelta(days=1), tz).astimezone(UTC),
            )
            .order_by(Alert.created_at)
        )
    )
    names = await usernames(session)
    agents: dict[str, dict[str, Any]] = {}
    groups: dict[str, dict[str, Any]] = {}
    for alert in rows:
        for table, key in ((agents, names.get(alert.agent_id or -1, "")), (groups, alert.group)):
            entry = table.setdefault(key, {"count": 0, "types": defaultdict(int), "conversations": []})
            entry["count"] += 1
            entry["types"][alert.type] += 1
            if alert.conversation_id and alert.conversation_id not in entry["conversations"]:
                entry["conversations"].append(alert.conversation_id)
    return {
        "day": day.isoformat(),
        "alerts": len(rows),
        "by_agent": [{"agent": k, **v, "types": dict(v["types"])} for k, v in sorted(agents.items())],
        "by_group": [{"group": k, **v, "types": dict(v["types"])} for k, v in sorted(groups.items())],
    }


__all__ = ["day_alerts", "scores_view"]
