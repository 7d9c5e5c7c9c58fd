"""Which agent should take a queued conversation: a pure function of plain values (no Redis).

Order of preference, each step switched on per group (``GroupPolicy.steps``):
1. sticky: a returning customer goes to the agent they talked to last, but only when that agent
   is online and below their maximum; never held for an away or offline agent;
2. skill: only agents of the conversation's skill group (without this step, any online agent);
3. least load: fewest open conversations first; ties (and everything, without this step) by
   round robin, starting after ``cursor``, the agent the group's last rotation went to.
An agent who transferred the conversation away (``avoid_agent_id``) comes last.

The result is a full ranking, so the atomic claim can fall back to the next agent when the
first one filled up or went away between the read and the claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from handoff.model import AgentView, GroupPolicy, QueueEntry, Step


@dataclass(frozen=True)
class Ranking:
    sticky: str | None  # the returning customer's agent, when eligible
    rotation: tuple[str, ...]  # the other eligible agents, best first

    @property
    def ordered(self) -> tuple[str, ...]:
        return (self.sticky, *self.rotation) if self.sticky else self.rotation

    @property
    def best(self) -> str | None:
        return self.ordered[0] if self.ordered else None


def rank(
    entry: QueueEntry, agents: Sequence[AgentView], policy: GroupPolicy, cursor: str | None = None
) -> Ranking:
    sticky = _sticky(entry, agents, policy)
    pool = [a for a in agents if a.has_capacity and a.agent_id != sticky and _in_scope(entry, a, policy)]
    least_load = Step.LEAST_LOAD in policy.steps
    avoid = entry.avoid_agent_id
    pool.sort(
        key=lambda a: (a.agent_id == avoid, a.load if least_load else 0, *_rotation_key(a.agent_id, cursor))
    )
    return Ranking(sticky=sticky, rotation=tuple(a.agent_id for a in pool))


def choose(
    entry: QueueEntry, agents: Sequence[AgentView], policy: GroupPolicy, cursor: str | None = None
) -> str | None:
    """The single best agent, or None when nobody can take the conversation now."""
    return rank(entry, agents, policy, cursor).best


def _sticky(entry: QueueEntry, agents: Sequence[AgentView], policy: GroupPolicy) -> str | None:
    if Step.STICKY not in policy.steps or not entry.preferred_agent_id:
        return None
    for agent in agents:
        if agent.agent_id == entry.preferred_agent_id and agent.has_capacity:
            return agent.agent_id
    return None


def _in_scope(entry: QueueEntry, agent: AgentView, policy: GroupPolicy) -> bool:
    return Step.SKILL not in policy.steps or entry.group in agent.skills


def _rotation_key(agent_id: str, cursor: str | None) -> tuple[int, str]:
    """Agents after the cursor (by id) come first, then wrap around to the start."""
    if cursor is None:
        return (0, agent_id)
    return (0 if agent_id > cursor else 1, agent_id)
