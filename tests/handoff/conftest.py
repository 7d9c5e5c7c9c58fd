"""Handoff fixtures: a controllable clock and the queue/presence/assigner trio on real Redis."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis

from handoff.assigner import Assigner
from handoff.events import HandoffEvents
from handoff.model import AgentStatus, GroupPolicy, QueueEntry, Tier
from handoff.presence import Presence, PresenceConfig
from handoff.queue import HandoffQueue


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@dataclass
class Desk:
    """One replica's view of the handoff system."""

    clock: FakeClock
    queue: HandoffQueue
    presence: Presence
    assigner: Assigner
    events: HandoffEvents

    async def agent(
        self, agent_id: str, groups: Iterable[str], max_concurrent: int = 3, online: bool = True
    ) -> None:
        await self.presence.register(agent_id, groups, max_concurrent)
        if online:
            await self.presence.set_status(agent_id, AgentStatus.ONLINE)

    async def wait(
        self,
        conversation_id: str,
        group: str = "sales",
        tier: Tier = Tier.NORMAL,
        preferred: str = "",
        step: float = 1.0,
    ) -> int:
        """Enqueue at the current fake time, then let ``step`` seconds pass."""
        position = await self.queue.enqueue(
            QueueEntry(
                conversation_id=conversation_id,
                group=group,
                customer_id=f"cust-{conversation_id}",
                tier=tier,
                preferred_agent_id=preferred,
                enqueued_at=self.clock(),
            )
        )
        self.clock.advance(step)
        return position


DeskFactory = Callable[..., Desk]


def make_desk(
    client: aioredis.Redis,
    clock: FakeClock | None = None,
    policies: Mapping[str, GroupPolicy] | None = None,
    presence_config: PresenceConfig | None = None,
) -> Desk:
    clock = clock or FakeClock()
    events = HandoffEvents(client)
    queue = HandoffQueue(client, clock=clock, events=events)
    presence = Presence(client, clock=clock, config=presence_config)
    assigner = Assigner(client, presence, queue, clock=clock, policies=policies, events=events)
    return Desk(clock, queue, presence, assigner, events)


@pytest.fixture
def desk(redis_client: aioredis.Redis) -> Desk:
    return make_desk(redis_client)
