"""The desk: where a handed-off conversation meets the people who answer it, split by concern.

- ``routing``: into a group's queue, or a ticket / bot-only after hours (the switchboard's side);
- ``assignments``: the Redis engine's decisions mirrored into SQL, presence that drains backlogs;
- ``agent_actions``: reply, note, transfer, close from the console;
- ``csat``: the rating a closed conversation asks for;
- ``workspace``: what an agent reads (their conversations, one conversation's whole view);
- ``messages_left``: whether people answer now, and a message left when they do not.

The handoff engine (``handoff/``) owns the queue, presence and atomic assignment in Redis; the
desk is the one layer that changes handoff state in SQL and in the engine together.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.desk.agent_actions import AgentActions
from conversations.desk.assignments import Assignments
from conversations.desk.csat import Csat
from conversations.desk.messages_left import MessagesLeft
from conversations.desk.routing import HandoffRouting
from conversations.desk.workspace import Workspace
from conversations.outbound import Outbound
from handoff.assigner import Assigner
from handoff.events import HandoffEvents
from handoff.floor_settings import FloorSettingsReader
from handoff.presence import Presence
from handoff.queue import HandoffQueue


@dataclass
class Desk:
    routing: HandoffRouting
    assignments: Assignments
    agents: AgentActions
    csat: Csat
    workspace: Workspace
    queue: HandoffQueue
    presence: Presence
    messages_left: MessagesLeft
    floor_settings: FloorSettingsReader | None = None


def build_desk(
    sessions: async_sessionmaker[AsyncSession],
    queue: HandoffQueue,
    presence: Presence,
    assigner: Assigner,
    events: HandoffEvents,
    outbound: Outbound,
    floor_settings: FloorSettingsReader | None = None,
) -> Desk:
    """``floor_settings``: the groups and routing rules supervisors keep, read on every handoff
    (the assigner takes the same reader for its group policies); None: the defaults."""
    assignments = Assignments(sessions, presence, assigner, outbound)
    routing = HandoffRouting(sessions, queue, assignments, events, settings=floor_settings)
    agents = AgentActions(sessions, queue, assigner, assignments, events, outbound, routing.routed_groups)
    return Desk(
        routing=routing,
        assignments=assignments,
        agents=agents,
        csat=Csat(sessions),
        workspace=Workspace(sessions, agents),
        queue=queue,
        presence=presence,
        messages_left=MessagesLeft(sessions, outbound),
        floor_settings=floor_settings,
    )


__all__ = [
    "AgentActions",
    "Assignments",
    "Csat",
    "Desk",
    "HandoffRouting",
    "MessagesLeft",
    "Workspace",
    "build_desk",
]
