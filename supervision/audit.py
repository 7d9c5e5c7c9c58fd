"""The audit log of settings changes (alert rules, word lists, ...): written in the same
transaction as the change, read newest first by ``GET /api/admin/audit``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import utc_now
from supervision.tables import AuditEntry


def record(
    session: AsyncSession, actor: str, action: str, target: str = "", data: dict[str, Any] | None = None
) -> None:
    session.add(AuditEntry(actor=actor, action=action, target=target, data=data or {}, created_at=utc_now()))


async def recent(session: AsyncSession, limit: int = 100) -> list[AuditEntry]:
    rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    return list(rows)


def iso(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "data": entry.data,
        "created_at": iso(entry.created_at),
    }
