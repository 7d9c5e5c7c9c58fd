"""Queue entries to and from the flat string fields of a Redis hash, and the queue score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from handoff.model import QueueEntry, Tier

TIER_SPAN = 10**13  # > any epoch time in ms until the year 2286, so tier always dominates wait


def score(tier: Tier, enqueued_at: float) -> int:
    """Lower is served first: tier rank, then the time of enqueueing (FIFO, millisecond steps).

    Scores stay below 2**53, so Redis's double keeps them exact. Entries enqueued within the
    same millisecond in the same tier are ordered by conversation id.
    """
    return tier.rank * TIER_SPAN + int(enqueued_at * 1000)


def encode(entry: QueueEntry) -> dict[str, str]:
    return {
        "conversation_id": entry.conversation_id,
        "customer_id": entry.customer_id,
        "tier": entry.tier.value,
        "lang": entry.lang,
        "channel": entry.channel,
        "topic": entry.topic,
        "enqueued_at": repr(entry.enqueued_at),
        "preferred_agent_id": entry.preferred_agent_id,
        "reason": entry.reason,
        "avoid_agent_id": entry.avoid_agent_id,
    }


def decode(fields: Mapping[str, str]) -> QueueEntry:
    return QueueEntry(
        conversation_id=fields["conversation_id"],
        group=fields.get("group", ""),
        customer_id=fields.get("customer_id", ""),
        tier=Tier.parse(fields.get("tier", "")),
        lang=fields.get("lang", "zh"),
        channel=fields.get("channel", "web"),
        topic=fields.get("topic", ""),
        enqueued_at=float(fields.get("enqueued_at") or 0.0),
        preferred_agent_id=fields.get("preferred_agent_id", ""),
        reason=fields.get("reason", ""),
        avoid_agent_id=fields.get("avoid_agent_id", ""),
    )


def pairs(flat: Sequence[str]) -> dict[str, str]:
    """``[k1, v1, k2, v2, ...]`` (as HGETALL answers inside Lua) to a dict."""
    return {flat[i]: flat[i + 1] for i in range(0, len(flat) - 1, 2)}


def flatten(fields: Mapping[str, str]) -> list[str]:
    return [part for item in fields.items() for part in item]
