"""Assign queued conversations to agents, safely with any number of replicas running at once.

Each decision reads the head of a group's queue and the candidate agents, ranks them with the
pure ``handoff.choose.rank``, then runs the ``claim`` script, which checks the conversation is
still queued and, for each ranked agent in turn, that the agent is still online and below their
maximum, and moves the conversation from the queue to that agent's load in the same step. A
replica that lost the race (conversation gone) reads again; nothing is ever assigned twice and
no agent exceeds their maximum, whatever the interleaving.

The queue is served head first: if the head conversation cannot be placed, later ones wait too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from core.clock import Clock, system_clock
from core.errors import Conflict, NotFound, ValidationFailed
from handoff import codec, keys
from handoff.choose import Ranking, rank
from handoff.events import Assigned, HandoffEvent, HandoffEvents, QueueChanged, Released, Transferred
from handoff.model import Assignment, GroupPolicy, QueueEntry, Step
from handoff.presence import Presence
from handoff.queue import HandoffQueue
from handoff.scripts import Scripts, register

CLAIM_WIDTH = 8  # ranked agents offered to one claim; the next read starts fresh anyway


@dataclass(frozen=True)
class TransferResult:
    conversation_id: str
    from_agent: str
    assignment: Assignment | None  # set when the conversation went to an agent
    position: int | None  # set when it went to a group's queue
    others: tuple[Assignment, ...] = ()  # what the freed seat and the target's drain assigned too


class Assigner:
    def __init__(
        self,
        client: aioredis.Redis,
        presence: Presence,
        queue: HandoffQueue,
        *,
        clock: Clock = system_clock,
        policies: Mapping[str, GroupPolicy] | None = None,
        policy_source: Callable[[], Awaitable[Mapping[str, GroupPolicy]]] | None = None,
        default_policy: GroupPolicy | None = None,
        events: HandoffEvents | None = None,
        scripts: Scripts | None = None,
        max_attempts: int = 100,
    ) -> None:
        self._client = client
        self._presence = presence
        self._queue = queue
        self._clock = clock
        self._policies = dict(policies or {})
        self._policy_source = policy_source
        self._default = default_policy or GroupPolicy()
        self._events = events
        self._scripts = scripts or register(client)
        self._max_attempts = max_attempts
        self._drain_locks: dict[str, asyncio.Lock] = {}

    def policy(self, group: str) -> GroupPolicy:
        """The fixed policy given at construction (``policy_for`` also asks the source)."""
        return self._policies.get(group, self._default)

    async def current_policies(self) -> Mapping[str, GroupPolicy]:
        """Per-group policies now: the source's (the floor settings, which change while running)
        over the fixed ones."""
        if self._policy_source is None:
            return self._policies
        return {**self._policies, **await self._policy_source()}

    async def policy_for(self, group: str) -> GroupPolicy:
        return (await self.current_policies()).get(group, self._default)

    async def assign_next(self, group: str) -> Assignment | None:
        """Assign the head of ``group``'s queue; None when the queue is empty or nobody can take it."""
        for _ in range(self._max_attempts):
            head = await self._peek(group)
            if head is None:
                return None
            entry, cursor = head
            ranking = await self._rank(entry, cursor)
            if not ranking.ordered:
                return None
            outcome = await self._claim(entry, ranking)
            if isinstance(outcome, Assignment):
                await self._publish(
                    Assigned(
                        entry.conversation_id, outcome.agent_id, group, outcome.sticky, outcome.assigned_at
                    ),
                    QueueChanged(group, entry.conversation_id, "assigned", outcome.assigned_at),
                )
                return outcome
            # "gone": another replica took it (or it was cancelled); "busy": agents filled up. Read again.
        return None

    async def drain(self, group: str, limit: int | None = None) -> list[Assignment]:
        """Assign from ``group`` until its queue is empty or no agent can take more.

        Drains of one group in one process take turns (a second drainer in the same replica
        would only race the first for the same head); safety never depends on this lock.
        """
        done: list[Assignment] = []
        async with self._drain_locks.setdefault(group, asyncio.Lock()):
            while limit is None or len(done) < limit:
                assignment = await self.assign_next(group)
                if assignment is None:
                    break
                done.append(assignment)
        return done

    async def on_agent_available(self, agent_id: str) -> list[Assignment]:
        """An agent came online or freed capacity: drain every queue they may serve."""
        view = await self._presence.get(agent_id)
        if view is None:
            raise NotFound(f"unknown agent {agent_id}", code="unknown_agent")
        groups = set(view.skills)
        policies = await self.current_policies()
        groups.update(
            g for g in await self._queue.groups() if Step.SKILL not in policies.get(g, self._default).steps
        )
        # Across the agent's groups the best waiting head goes first (a VIP in ``vip`` before an
        # earlier normal customer in ``general``), one assignment at a time.
        done: list[Assignment] = []
        pending = sorted(groups)
        while pending:
            heads = [(await self._head_score(group), group) for group in pending]
            waiting = [(score, group) for score, group in heads if score is not None]
            if not waiting:
                break
            best = min(waiting)[1]
            got = await self.drain(best, limit=1)
            if not got:
                pending.remove(best)  # nobody can take this group's head now
            done += got
        return done

    async def _head_score(self, group: str) -> int | None:
        head = await self._queue.head(group, 1)
        return codec.score(head[0].tier, head[0].enqueued_at) if head else None

    async def release(self, agent_id: str, conversation_id: str) -> list[Assignment]:
        """Closing (or handing back) frees the agent's capacity; then the backlog is drained."""
        removed, _group = await self._scripts.release(
            keys=[keys.conversation(conversation_id), keys.load(agent_id)], args=[conversation_id, agent_id]
        )
        if not int(removed):
            return []
        await self._publish(Released(conversation_id, agent_id, self._clock()))
        return await self.on_agent_available(agent_id)

    async def release_seat(self, agent_id: str, conversation_id: str) -> bool:
        """Free the agent's seat and forget the conversation's record, without draining (a claim
        for a conversation that is no longer waiting). True when a seat was freed."""
        removed, _group = await self._scripts.release(
            keys=[keys.conversation(conversation_id), keys.load(agent_id)], args=[conversation_id, agent_id]
        )
        if int(removed):
            await self._publish(Released(conversation_id, agent_id, self._clock()))
        return bool(int(removed))

    async def unclaim(self, assignment: Assignment) -> bool:
        """Undo a claim (its SQL mirror failed): the seat is freed and the conversation goes back
        to its queue with its original place. Idempotent; False when it is no longer so assigned."""
        done = await self._scripts.unclaim(
            keys=[
                keys.conversation(assignment.conversation_id),
                keys.load(assignment.agent_id),
                keys.groups(),
            ],
            args=[assignment.conversation_id, assignment.agent_id, keys.PREFIX],
        )
        if int(done):
            now = self._clock()
            await self._publish(
                Released(assignment.conversation_id, assignment.agent_id, now),
                QueueChanged(assignment.group, assignment.conversation_id, "enqueued", now),
            )
        return bool(int(done))

    async def transfer(
        self, conversation_id: str, *, to_agent: str | None = None, to_group: str | None = None
    ) -> TransferResult:
        """Move an assigned conversation to another agent, or back into a group's queue.

        A queued conversation can also be handed straight to an agent (a supervisor's pick) or
        moved to another group. Raises ``Conflict`` when the target agent cannot take it now.
        """
        if (to_agent is None) == (to_group is None):
            raise ValidationFailed("transfer needs exactly one of to_agent, to_group", code="bad_transfer")
        if to_agent is not None:
            return await self._to_agent(conversation_id, to_agent)
        assert to_group is not None
        return await self._to_group(conversation_id, to_group)

    async def _to_agent(self, conversation_id: str, to_agent: str) -> TransferResult:
        now = self._clock()
        queued = await self._queue.entry(conversation_id)
        if queued is not None:
            claimed = await self._claim(queued, Ranking(sticky=to_agent, rotation=()))
            if not isinstance(claimed, Assignment):
                raise Conflict(f"agent {to_agent} cannot take the conversation now", code="agent_unavailable")
            await self._publish(
                Transferred(conversation_id, "", to_agent, "", now),
                QueueChanged(queued.group, conversation_id, "transferred_out", now),
            )
            return TransferResult(conversation_id, "", claimed, None)
        outcome, from_agent = await self._scripts.transfer_to_agent(
            keys=[keys.conversation(conversation_id), keys.agent(to_agent), keys.load(to_agent)],
            args=[conversation_id, to_agent, now, keys.PREFIX],
        )
        if outcome == "not_assigned":
            raise NotFound("conversation is neither queued nor assigned", code="not_in_handoff")
        if outcome == "unavailable":
            raise Conflict(f"agent {to_agent} cannot take the conversation now", code="agent_unavailable")
        group = str(await self._client.hget(keys.conversation(conversation_id), "group") or "")
        assignment = Assignment(conversation_id, to_agent, group, now)
        others: list[Assignment] = []
        if outcome == "ok":
            await self._publish(Transferred(conversation_id, str(from_agent), to_agent, "", now))
            others = await self.on_agent_available(str(from_agent))
        return TransferResult(conversation_id, str(from_agent), assignment, None, tuple(others))

    async def _to_group(self, conversation_id: str, to_group: str) -> TransferResult:
        if not to_group or "," in to_group:
            raise ValidationFailed(f"bad skill group name {to_group!r}", code="bad_group")
        now = self._clock()
        outcome, from_agent, from_group, _position = await self._scripts.transfer_to_group(
            keys=[keys.conversation(conversation_id), keys.queue(to_group), keys.groups()],
            args=[conversation_id, to_group, keys.PREFIX],
        )
        if outcome == "missing":
            raise NotFound("conversation is neither queued nor assigned", code="not_in_handoff")
        changes: list[HandoffEvent] = [
            Transferred(conversation_id, str(from_agent), "", to_group, now),
            QueueChanged(to_group, conversation_id, "transferred_in", now),
        ]
        if not from_agent:
            changes.append(QueueChanged(str(from_group), conversation_id, "transferred_out", now))
        await self._publish(*changes)
        others: list[Assignment] = []
        if from_agent:
            others += await self.on_agent_available(str(from_agent))  # their freed seat, then the new group
        others += await self.drain(to_group)
        position = await self._queue.position(conversation_id)
        agent = await self._queue.assigned_agent(conversation_id) if position is None else None
        assignment = Assignment(conversation_id, agent, to_group, self._clock()) if agent else None
        others = [a for a in others if a.conversation_id != conversation_id]
        return TransferResult(conversation_id, str(from_agent), assignment, position, tuple(others))

    async def _peek(self, group: str) -> tuple[QueueEntry, str | None] | None:
        flat: list[str] = await self._scripts.peek(
            keys=[keys.queue(group), keys.cursor(group)], args=[keys.PREFIX]
        )
        if len(flat) < 2:
            return None
        fields = codec.pairs(flat[1:])
        if "conversation_id" not in fields:
            return None
        return codec.decode(fields), flat[0] or None

    async def _rank(self, entry: QueueEntry, cursor: str | None) -> Ranking:
        policy = await self.policy_for(entry.group)
        scope = entry.group if Step.SKILL in policy.steps else None
        extra = [entry.preferred_agent_id] if entry.preferred_agent_id else []
        agents = await self._presence.candidates(scope, extra)
        return rank(entry, agents, policy, cursor)

    async def _claim(self, entry: QueueEntry, ranking: Ranking) -> Assignment | str:
        ordered = ranking.ordered[:CLAIM_WIDTH]
        agent_keys = [k for agent_id in ordered for k in (keys.agent(agent_id), keys.load(agent_id))]
        now = self._clock()
        result: list[Any] = await self._scripts.claim(
            keys=[
                keys.conversation(entry.conversation_id),
                keys.queue(entry.group),
                keys.cursor(entry.group),
                *agent_keys,
            ],
            args=[entry.conversation_id, now, "1" if ranking.sticky else "0", *ordered],
        )
        if result[0] != "ok":
            return str(result[0])
        return Assignment(entry.conversation_id, str(result[1]), entry.group, now, sticky=bool(result[2]))

    async def _publish(self, *events: HandoffEvent) -> None:
        if self._events is not None:
            await self._events.publish(*events)
