"""Plain values of the handoff domain: queue entries, agents, assignments, group policies."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Tier(StrEnum):
    """Customer tier; the queue serves S before A before normal."""

    S = "S"
    A = "A"
    NORMAL = "normal"

    @property
    def rank(self) -> int:
        return _TIER_RANK[self]

    @classmethod
    def parse(cls, value: str) -> Tier:
        """Unknown or empty tiers count as normal (a tier never blocks a handoff)."""
        try:
            return cls(value)
        except ValueError:
            return cls.NORMAL


_TIER_RANK = {Tier.S: 0, Tier.A: 1, Tier.NORMAL: 2}


class AgentStatus(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Step(StrEnum):
    """Steps of the assignment strategy; a group policy says which apply."""

    STICKY = "sticky"  # returning customer to the same agent (online, with capacity)
    SKILL = "skill"  # only agents of the conversation's skill group
    LEAST_LOAD = "least_load"  # fewest open conversations first (else pure round robin)


ALL_STEPS: frozenset[Step] = frozenset(Step)


@dataclass(frozen=True)
class GroupPolicy:
    steps: frozenset[Step] = ALL_STEPS


@dataclass(frozen=True)
class QueueEntry:
    """One conversation waiting for a human, as the queue holds it."""

    conversation_id: str
    group: str
    customer_id: str = ""
    tier: Tier = Tier.NORMAL
    lang: str = "zh"
    channel: str = "web"
    topic: str = ""
    enqueued_at: float = 0.0  # epoch seconds; kept on transfer so a moved customer keeps their wait
    preferred_agent_id: str = ""  # the agent this customer talked to last, if any
    reason: str = ""
    avoid_agent_id: str = ""  # who transferred it away: offered to them again only as a last resort


@dataclass(frozen=True)
class AgentView:
    """What the choice needs to know about one agent."""

    agent_id: str
    status: AgentStatus
    skills: frozenset[str]
    load: int
    max_concurrent: int

    @property
    def has_capacity(self) -> bool:
        return self.status is AgentStatus.ONLINE and self.load < self.max_concurrent


@dataclass(frozen=True)
class Assignment:
    conversation_id: str
    agent_id: str
    group: str
    assigned_at: float
    sticky: bool = False


@dataclass(frozen=True)
class GroupStats:
    group: str
    length: int
    oldest_wait: float  # seconds the longest-waiting entry has waited; 0 when empty
