"""Alert rules and alert events.

A rule (``alert_rules``) names a kind and a threshold; an alert (``alerts``) is raised once while
its condition holds: the row carries the condition's key in the unique ``active_key`` until the
condition ends (``resolve_except``), so the same condition seen again, by any replica, raises
nothing new. Instant findings (a forbidden word in a reply) are raised already resolved.

New alerts are published after their commit on one Redis channel (``keys.alert_events``): the
supervisor sockets of every replica relay it, and the replica that raised it calls the webhook.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import utc_now
from core.errors import NotFound, ValidationFailed
from supervision import keys
from supervision.tables import Alert, AlertRule

log = logging.getLogger(__name__)

# kind -> what its threshold means (None: no threshold)
RULE_KINDS: dict[str, str | None] = {
    "queue_length": "conversations waiting",
    "queue_wait": "seconds the longest has waited",
    "first_response": "seconds an assigned conversation waits for the agent's first reply",
    "sla": None,  # a ticket's SLA at risk or breached
    "forbidden_word": None,
    "sensitive_word": None,
    "missing_greeting": None,
    "missing_closing": None,
    "negative_sentiment": "upset customer messages in one conversation",
}
# the alert types a word-list finding raises, by the kind of the finding
WORD_ALERTS = {
    "forbidden": "forbidden_word",
    "sensitive": "sensitive_word",
    "missing_greeting": "missing_greeting",
    "missing_closing": "missing_closing",
}

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "queue_length": "Queue {group}: {length} waiting (limit {threshold})",
        "queue_wait": "Queue {group}: the longest has waited {wait} s (limit {threshold} s)",
        "first_response": "Conversation {conversation_id}: no reply from {agent} for {wait} s "
        "(limit {threshold} s)",
        "sla": "Ticket {ticket}: {target} SLA {level} (due {due})",
        "forbidden_word": "{agent} used a forbidden word: {word}",
        "sensitive_word": "{agent} used a sensitive word: {word}",
        "missing_greeting": "{agent} did not greet the customer",
        "missing_closing": "{agent} closed without a closing phrase",
        "negative_sentiment": "Conversation {conversation_id} with {agent}: the customer is upset ({count})",
    },
    "zh": {
        "queue_length": "队列 {group}：{length} 人排队（上限 {threshold}）",
        "queue_wait": "队列 {group}：最久已等待 {wait} 秒（上限 {threshold} 秒）",
        "first_response": "会话 {conversation_id}：{agent} 已 {wait} 秒未回复（上限 {threshold} 秒）",
        "sla": "工单 {ticket}：{target} SLA {level}（截止 {due}）",
        "forbidden_word": "{agent} 使用了禁用词：{word}",
        "sensitive_word": "{agent} 使用了敏感词：{word}",
        "missing_greeting": "{agent} 未使用问候语",
        "missing_closing": "{agent} 结束会话时未使用结束语",
        "negative_sentiment": "会话 {conversation_id}（{agent}）：客户情绪负面（{count} 条）",
    },
}


def render(alert_type: str, data: dict[str, Any], lang: str = "en") -> str:
    template = MESSAGES.get(lang, MESSAGES["en"]).get(alert_type, alert_type)
    values = {k: _fmt(v) for k, v in data.items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return template


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return str(int(value)) if value == int(value) else f"{value:.1f}"
    return str(value)


def alert_json(alert: Alert, lang: str = "en") -> dict[str, Any]:
    return {
        "id": alert.id,
        "type": alert.type,
        "conversation_id": alert.conversation_id or None,
        "agent_id": alert.agent_id,
        "group": alert.group,
        "created_at": _aware(alert.created_at).isoformat(),
        "resolved_at": _aware(alert.resolved_at).isoformat() if alert.resolved_at else None,
        "message": render(alert.type, alert.data, lang),
        "data": alert.data,
    }


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Condition:
    """Something a rule found true now: raise an alert unless one is active with this key."""

    type: str
    key: str
    rule_id: int | None
    data: dict[str, Any]
    conversation_id: str = ""
    agent_id: int | None = None
    group: str = ""


# -- rules --------------------------------------------------------------------------------------


def check_rule(body: dict[str, Any]) -> dict[str, Any]:
    kind = body.get("kind")
    if kind not in RULE_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(RULE_KINDS)}", code="invalid_rule_kind")
    threshold = body.get("threshold", 0)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 10**7:
        raise ValidationFailed("threshold must be a number from 0", code="invalid_threshold")
    group = body.get("group", "") or ""
    if not isinstance(group, str) or len(group) > 64 or "," in group:
        raise ValidationFailed("group must be a group name or empty", code="invalid_group")
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValidationFailed("enabled must be true or false", code="invalid_enabled")
    webhook = body.get("webhook_url", "") or ""
    if (
        not isinstance(webhook, str)
        or len(webhook) > 512
        or (webhook and not webhook.startswith(("https://", "http://")))
    ):
        raise ValidationFailed("webhook_url must be an http(s) URL or empty", code="invalid_webhook_url")
    return {
        "kind": kind,
        "threshold": float(threshold),
        "group": group,
        "enabled": enabled,
        "webhook_url": webhook,
    }


def rule_json(rule: AlertRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "kind": rule.kind,
        "threshold": rule.threshold,
        "group": rule.group,
        "enabled": rule.enabled,
        "webhook_url": rule.webhook_url,
    }


async def list_rules(session: AsyncSession) -> list[AlertRule]:
    return list(await session.scalars(select(AlertRule).order_by(AlertRule.id)))


async def add_rule(session: AsyncSession, body: dict[str, Any]) -> AlertRule:
    rule = AlertRule(**check_rule(body), updated_at=utc_now())
    session.add(rule)
    await session.flush()
    return rule


async def update_rule(session: AsyncSession, rule_id: int, body: dict[str, Any]) -> AlertRule:
    rule = await session.get(AlertRule, rule_id)
    if rule is None:
        raise NotFound(f"no alert rule {rule_id}", code="rule_not_found")
    values = check_rule({**rule_json(rule), **body})
    for name, value in values.items():
        setattr(rule, name, value)
    rule.updated_at = utc_now()
    await session.flush()
    return rule


async def delete_rule(session: AsyncSession, rule_id: int) -> None:
    rule = await session.get(AlertRule, rule_id)
    if rule is None:
        raise NotFound(f"no alert rule {rule_id}", code="rule_not_found")
    await session.delete(rule)


# -- alerts -------------------------------------------------------------------------------------

Notify = Callable[[Alert, str], Awaitable[None]]  # (alert, webhook url) after commit


class Alerts:
    """Raises, resolves, lists and publishes alerts."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        redis: aioredis.Redis,
        *,
        notify: Notify | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._sessions = sessions
        self._redis = redis
        self._notify = notify
        self._clock = clock

    async def raise_condition(self, condition: Condition, *, instant: bool = False) -> Alert | None:
        """Record the alert unless one with the same key is active; publish it. ``instant``:
        a one-off finding, recorded already resolved (never blocks a later one)."""
        now = self._clock()
        alert = Alert(
            type=condition.type,
            rule_id=condition.rule_id,
            dedup_key=condition.key,
            active_key=None if instant else condition.key,
            conversation_id=condition.conversation_id,
            agent_id=condition.agent_id,
            group=condition.group,
            data=condition.data,
            created_at=now,
            resolved_at=now if instant else None,
        )
        try:
            async with self._sessions.begin() as session:
                if not instant and await session.scalar(
                    select(Alert.id).where(Alert.active_key == condition.key)
                ):
                    return None
                session.add(alert)
        except IntegrityError:  # another replica raised it a moment ago
            return None
        await self.publish(alert)
        webhook = await self._webhook_of(condition.rule_id)
        if webhook and self._notify is not None:
            await self._notify(alert, webhook)
        return alert

    async def resolve(self, key: str) -> None:
        """End the active alert of this condition key, if any (its condition ended)."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(Alert)
                .where(Alert.active_key == key)
                .values(active_key=None, resolved_at=self._clock())
            )

    async def resolve_except(self, types: Iterable[str], holding: set[str]) -> int:
        """End the active alerts of ``types`` whose condition key is not in ``holding``."""
        async with self._sessions.begin() as session:
            rows = await session.execute(
                select(Alert.id, Alert.active_key).where(
                    Alert.type.in_(list(types)), Alert.active_key.is_not(None)
                )
            )
            ended = [alert_id for alert_id, key in rows.all() if key not in holding]
            if ended:
                await session.execute(
                    update(Alert)
                    .where(Alert.id.in_(ended))
                    .values(active_key=None, resolved_at=self._clock())
                )
        return len(ended)

    async def recent(
        self, *, limit: int = 50, since: datetime | None = None, types: Iterable[str] = ()
    ) -> list[Alert]:
        query = select(Alert).order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit)
        if since is not None:
            query = query.where(Alert.created_at >= since)
        wanted = list(types)
        if wanted:
            query = query.where(Alert.type.in_(wanted))
        async with self._sessions() as session:
            return list(await session.scalars(query))

    async def publish(self, alert: Alert) -> None:
        try:
            payload = {
                "type": "alert",
                "alert": alert_json(alert),
                "message_zh": render(alert.type, alert.data, "zh"),
            }
            await self._redis.publish(keys.alert_events(), json.dumps(payload, ensure_ascii=False))
        except Exception:
            log.exception("publishing alert %s failed", alert.id)

    async def _webhook_of(self, rule_id: int | None) -> str:
        if rule_id is None:
            return ""
        async with self._sessions() as session:
            rule = await session.get(AlertRule, rule_id)
        return rule.webhook_url if rule is not None and rule.enabled else ""

    async def rule_of_kind(self, kind: str, group: str = "") -> AlertRule | None:
        """The enabled rule of ``kind`` for ``group`` (a group's own rule before the every-group one)."""
        async with self._sessions() as session:
            rules = list(
                await session.scalars(
                    select(AlertRule).where(AlertRule.kind == kind, AlertRule.enabled.is_(True))
                )
            )
        own = [r for r in rules if r.group == group and group]
        chosen = own or [r for r in rules if not r.group]
        return chosen[0] if chosen else None
