"""Agent presence: status, skill groups, maximum concurrent conversations, heartbeats.

The only writer of the presence keys (``handoff.keys``): every change is one Lua script, so
the status and the online sets never disagree, whichever replica wrote last.

Heartbeats: a console calls ``heartbeat`` every few seconds. ``sweep_presence(now)``, run
periodically by any replica (it is idempotent), turns every online agent whose last heartbeat
is older than ``heartbeat_ttl + grace`` into ``away`` (marked automatic). The agent keeps their
open conversations but gets no new ones. The next heartbeat of an automatically-away agent
brings them back online; an agent who chose ``away`` stays away until they choose otherwise.
Key expiry is not used: expiry events are not delivered reliably to every replica, a sweep is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from core.clock import Clock, system_clock
from core.errors import NotFound, ValidationFailed
from handoff import keys
from handoff.model import AgentStatus, AgentView

_SET_SETS = """
local function set_online(agent_key, id, prefix, online)
  local groups = redis.call('HGET', agent_key, 'groups') or ''
  local op = online and 'SADD' or 'SREM'
  redis.call(op, prefix .. ':online', id)
  for g in string.gmatch(groups, '[^,]+') do redis.call(op, prefix .. ':online:' .. g, id) end
end
"""

REGISTER = (
    _SET_SETS
    + """
-- KEYS: agent. ARGV: id, groups_csv, max, prefix. Returns the status.
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'online' then set_online(KEYS[1], ARGV[1], ARGV[4], false) end
redis.call('HSET', KEYS[1], 'groups', ARGV[2], 'max', ARGV[3])
if not status then
  status = 'offline'
  redis.call('HSET', KEYS[1], 'status', status, 'auto_away', '0')
end
if status == 'online' then set_online(KEYS[1], ARGV[1], ARGV[4], true) end
return status
"""
)

SET_STATUS = (
    _SET_SETS
    + """
-- KEYS: agent, heartbeats. ARGV: id, status, now, prefix, auto ('1' when set by the sweep).
local prev = redis.call('HGET', KEYS[1], 'status')
if not prev then return false end
set_online(KEYS[1], ARGV[1], ARGV[4], false)
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'auto_away', ARGV[5], 'status_at', ARGV[3])
if ARGV[2] == 'online' then
  set_online(KEYS[1], ARGV[1], ARGV[4], true)
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('HSET', KEYS[1], 'last_seen', ARGV[3])
end
return prev
"""
)

HEARTBEAT = (
    _SET_SETS
    + """
-- KEYS: agent, heartbeats. ARGV: id, now, prefix. Returns {status, came_back (0/1)}.
local rec = redis.call('HMGET', KEYS[1], 'status', 'auto_away')
if not rec[1] then return false end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[1], 'last_seen', ARGV[2])
if rec[1] == 'away' and rec[2] == '1' then
  redis.call('HSET', KEYS[1], 'status', 'online', 'auto_away', '0', 'status_at', ARGV[2])
  set_online(KEYS[1], ARGV[1], ARGV[3], true)
  return {'online', 1}
end
return {rec[1], 0}
"""
)

SWEEP = (
    _SET_SETS
    + """
-- KEYS: heartbeats. ARGV: cutoff, now, prefix. Returns the agents turned away.
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local away = {}
for _, id in ipairs(stale) do
  local agent_key = ARGV[3] .. ':agent:' .. id
  if redis.call('HGET', agent_key, 'status') == 'online' then
    set_online(agent_key, id, ARGV[3], false)
    redis.call('HSET', agent_key, 'status', 'away', 'auto_away', '1', 'status_at', ARGV[2])
    away[#away + 1] = id
  end
end
return away
"""
)

VIEWS = """
-- KEYS: a set of agent ids. ARGV: prefix, extra ids... Returns {id, status, groups, max, load}*.
local ids = redis.call('SMEMBERS', KEYS[1])
for i = 2, #ARGV do if ARGV[i] ~= '' then ids[#ids + 1] = ARGV[i] end end
local out, seen = {}, {}
for _, id in ipairs(ids) do
  if not seen[id] then
    seen[id] = true
    local a = redis.call('HMGET', ARGV[1] .. ':agent:' .. id, 'status', 'groups', 'max')
    if a[1] then
      local load = redis.call('SCARD', ARGV[1] .. ':load:' .. id)
      out[#out + 1] = id; out[#out + 1] = a[1]; out[#out + 1] = a[2] or ''
      out[#out + 1] = a[3] or '0'; out[#out + 1] = load
    end
  end
end
return out
"""


@dataclass(frozen=True)
class PresenceConfig:
    heartbeat_ttl: float = 30.0  # seconds a heartbeat counts for
    grace: float = 30.0  # extra seconds before an agent with an expired heartbeat becomes away


class Presence:
    def __init__(
        self, client: aioredis.Redis, *, clock: Clock = system_clock, config: PresenceConfig | None = None
    ) -> None:
        self._client = client
        self._clock = clock
        self._config = config or PresenceConfig()
        self._register = client.register_script(REGISTER)
        self._set_status = client.register_script(SET_STATUS)
        self._heartbeat = client.register_script(HEARTBEAT)
        self._sweep = client.register_script(SWEEP)
        self._views = client.register_script(VIEWS)

    async def register(self, agent_id: str, groups: Iterable[str], max_concurrent: int) -> AgentStatus:
        """Create or update an agent's skill groups and capacity; a new agent starts offline."""
        names = sorted(set(groups))
        if not agent_id or any(not g or "," in g for g in names):
            raise ValidationFailed("bad agent id or skill group name", code="bad_agent")
        if max_concurrent < 0:
            raise ValidationFailed("max concurrent must be >= 0", code="bad_agent")
        status: str = await self._register(
            keys=[keys.agent(agent_id)], args=[agent_id, ",".join(names), max_concurrent, keys.PREFIX]
        )
        return AgentStatus(status)

    async def set_status(self, agent_id: str, status: AgentStatus) -> AgentStatus:
        """Set the agent's status; returns the previous one. Going online counts as a heartbeat.

        After an agent becomes online, call ``Assigner.on_agent_available`` to drain the backlog.
        """
        prev: str | None = await self._set_status(
            keys=[keys.agent(agent_id), keys.heartbeats()],
            args=[agent_id, status.value, self._clock(), keys.PREFIX, "0"],
        )
        if prev is None:
            raise NotFound(f"unknown agent {agent_id}", code="unknown_agent")
        return AgentStatus(prev)

    async def heartbeat(self, agent_id: str) -> bool:
        """Record a heartbeat; True when it brought an automatically-away agent back online."""
        found: list[Any] | None = await self._heartbeat(
            keys=[keys.agent(agent_id), keys.heartbeats()], args=[agent_id, self._clock(), keys.PREFIX]
        )
        if found is None:
            raise NotFound(f"unknown agent {agent_id}", code="unknown_agent")
        return bool(found[1])

    async def sweep_presence(self, now: float | None = None) -> list[str]:
        """Turn online agents with a stale heartbeat away; returns their ids."""
        at = self._clock() if now is None else now
        cutoff = at - self._config.heartbeat_ttl - self._config.grace
        away: list[str] = await self._sweep(keys=[keys.heartbeats()], args=[cutoff, at, keys.PREFIX])
        return away

    async def get(self, agent_id: str) -> AgentView | None:
        views = await self._read(keys.online(), [agent_id])
        return next((v for v in views if v.agent_id == agent_id), None)

    async def candidates(self, group: str | None, extra: Iterable[str] = ()) -> list[AgentView]:
        """Online agents of ``group`` (every online agent when None), plus ``extra`` agents."""
        return await self._read(keys.online() if group is None else keys.group_online(group), list(extra))

    async def _read(self, id_set: str, extra: list[str]) -> list[AgentView]:
        flat: list[Any] = await self._views(keys=[id_set], args=[keys.PREFIX, *extra])
        return [
            AgentView(
                agent_id=str(flat[i]),
                status=AgentStatus(flat[i + 1]),
                skills=frozenset(g for g in str(flat[i + 2]).split(",") if g),
                max_concurrent=int(flat[i + 3]),
                load=int(flat[i + 4]),
            )
            for i in range(0, len(flat), 5)
        ]
