"""Every Redis key and pub/sub channel of the handoff package, with the one module that writes it.

All keys share the hash tag ``{handoff}`` so that the Lua library's multi-key steps stay legal
when Redis becomes a Cluster (every key lands in the same slot).

Writers:
- presence keys (``agent``, ``online``, ``group_online``, ``heartbeats``): ``handoff.presence`` only.
- queue and assignment keys (``queue``, ``conversation``, ``load``, ``cursor``, ``groups``): only the
  Lua scripts of ``handoff.scripts`` (called from ``handoff.queue``, ``handoff.repair`` and
  ``handoff.assigner``), so every change to them is one atomic step on the server.
- event channels: ``handoff.events`` only.
"""

from __future__ import annotations

PREFIX = "kefu:{handoff}"
EVENTS_PREFIX = "kefu:handoff:events"


def queue(group: str) -> str:
    """Sorted set of queued conversation ids of one skill group; score = tier rank, then enqueue ms."""
    return f"{PREFIX}:queue:{group}"


def conversation(conversation_id: str) -> str:
    """Hash: the handoff record of one conversation (entry metadata, state, group, agent)."""
    return f"{PREFIX}:conv:{conversation_id}"


def load(agent_id: str) -> str:
    """Set of conversation ids assigned to one agent (its current load)."""
    return f"{PREFIX}:load:{agent_id}"


def cursor(group: str) -> str:
    """String: id of the agent the group's last round-robin assignment went to."""
    return f"{PREFIX}:cursor:{group}"


def groups() -> str:
    """Set of every group that has ever had a queue (for overview and sweeps)."""
    return f"{PREFIX}:groups"


def agent(agent_id: str) -> str:
    """Hash: an agent's presence (status, groups, max concurrent, last heartbeat)."""
    return f"{PREFIX}:agent:{agent_id}"


def online() -> str:
    """Set of agent ids whose status is online."""
    return f"{PREFIX}:online"


def group_online(group: str) -> str:
    """Set of online agent ids in one skill group."""
    return f"{PREFIX}:online:{group}"


def heartbeats() -> str:
    """Sorted set: agent id -> time of its last heartbeat (epoch seconds)."""
    return f"{PREFIX}:heartbeats"


def agent_events(agent_id: str) -> str:
    """Pub/sub channel: events for one agent's console, on any replica."""
    return f"{EVENTS_PREFIX}:agent:{agent_id}"


def group_events(group: str) -> str:
    """Pub/sub channel: events about one skill group's queue (supervisors, position notices)."""
    return f"{EVENTS_PREFIX}:group:{group}"


def session_token(token_hash: str) -> str:
    """Written by handoff.auth: a staff session (outside the hash tag: no Lua touches it)."""
    return f"kefu:session:{token_hash}"


def user_sessions(user_id: int) -> str:
    """Written by handoff.auth: set of the session token hashes of one staff user."""
    return f"kefu:sessions:user:{user_id}"


def ws_ticket(ticket_hash: str) -> str:
    """Written by handoff.auth: a one-time agent WebSocket ticket -> its session's token hash."""
    return f"kefu:ws-ticket:{ticket_hash}"


def login_failures(scope: str, subject: str) -> str:
    """Written by handoff.login_throttle: failed logins in the current window (scope account or ip)."""
    return f"kefu:throttle:login:{scope}:{subject}"


def floor_settings_version() -> str:
    """Written by handoff.floor_settings: a counter bumped after every committed change of the
    groups or routing rules; each replica's reader reloads when it moves."""
    return "kefu:floor-settings:version"
