"""Lua scripts that are the only writers of the queue and assignment keys (see ``handoff.keys``).

Each script is one atomic step on the Redis server, so any number of service replicas can run
them at once: a conversation leaves a queue and joins an agent's load in the same step, after
the agent's status and capacity are checked again. Scripts run by SHA (``EVALSHA``) and are
loaded on first use; a rolling deploy never makes an old replica call new code, which a shared
Redis function library (``FUNCTION LOAD REPLACE``) would.

Keys a script derives at run time (an old group's queue, an old agent's load) are built from
the prefix passed in ARGV; all keys share one hash tag, so this stays legal on a Cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

ENQUEUE = """
-- KEYS: conv, queue(group), groups. ARGV: conv_id, group, score, prefix, field, value, ...
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'assigned' then
  return {'assigned', redis.call('HGET', KEYS[1], 'agent_id')}
end
if state == 'queued' then
  local old = redis.call('HGET', KEYS[1], 'group')
  if old == ARGV[2] then
    return {'queued', redis.call('ZRANK', KEYS[2], ARGV[1]) + 1}
  end
  redis.call('ZREM', ARGV[4] .. ':queue:' .. old, ARGV[1])
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'queued', 'group', ARGV[2], 'score', ARGV[3])
for i = 5, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[2])
return {'queued', redis.call('ZRANK', KEYS[2], ARGV[1]) + 1}
"""

CANCEL = """
-- KEYS: conv. ARGV: conv_id, prefix. Returns the group it left, or nil when it was not queued.
local rec = redis.call('HMGET', KEYS[1], 'state', 'group')
if rec[1] ~= 'queued' then return false end
redis.call('ZREM', ARGV[2] .. ':queue:' .. rec[2], ARGV[1])
redis.call('DEL', KEYS[1])
return rec[2]
"""

POSITION = """
-- KEYS: conv. ARGV: conv_id, prefix. Returns {group, 1-based position} or nil.
local rec = redis.call('HMGET', KEYS[1], 'state', 'group')
if rec[1] ~= 'queued' then return false end
local r = redis.call('ZRANK', ARGV[2] .. ':queue:' .. rec[2], ARGV[1])
if not r then return false end
return {rec[2], r + 1}
"""

PEEK = """
-- KEYS: queue, cursor. ARGV: prefix. Returns {cursor, field, value, ...} of the head entry, or {}.
local head = redis.call('ZRANGE', KEYS[1], 0, 0)
if #head == 0 then return {} end
local out = {redis.call('GET', KEYS[2]) or ''}
local rec = redis.call('HGETALL', ARGV[1] .. ':conv:' .. head[1])
for i = 1, #rec do out[#out + 1] = rec[i] end
return out
"""

CLAIM = """
-- KEYS: conv, queue, cursor, then (agent, load) per candidate.
-- ARGV: conv_id, now, sticky ('1': the first candidate is the customer's own agent), agent ids...
if redis.call('HGET', KEYS[1], 'state') ~= 'queued' or not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return {'gone'}
end
for i = 4, #ARGV do
  local n = i - 3
  local agent = redis.call('HMGET', KEYS[2 + 2 * n], 'status', 'max')
  local max = tonumber(agent[2])
  if agent[1] == 'online' and max and redis.call('SCARD', KEYS[3 + 2 * n]) < max then
    redis.call('ZREM', KEYS[2], ARGV[1])
    redis.call('SADD', KEYS[3 + 2 * n], ARGV[1])
    redis.call('HSET', KEYS[1], 'state', 'assigned', 'agent_id', ARGV[i], 'assigned_at', ARGV[2])
    local sticky = n == 1 and ARGV[3] == '1'
    if not sticky then redis.call('SET', KEYS[3], ARGV[i]) end
    return {'ok', ARGV[i], sticky and 1 or 0}
  end
end
return {'busy'}
"""

RELEASE = """
-- KEYS: conv, load(agent). ARGV: conv_id, agent_id. Returns {removed (0/1), group}.
local removed = redis.call('SREM', KEYS[2], ARGV[1])
local rec = redis.call('HMGET', KEYS[1], 'state', 'agent_id', 'group')
if rec[1] == 'assigned' and rec[2] == ARGV[2] then redis.call('DEL', KEYS[1]) end
return {removed, rec[3] or ''}
"""

TRANSFER_TO_AGENT = """
-- KEYS: conv, agent(to), load(to). ARGV: conv_id, to_agent, now, prefix. Returns {outcome, from}.
local rec = redis.call('HMGET', KEYS[1], 'state', 'agent_id')
if rec[1] ~= 'assigned' then return {'not_assigned', ''} end
if rec[2] == ARGV[2] then return {'same', rec[2]} end
local agent = redis.call('HMGET', KEYS[2], 'status', 'max')
local max = tonumber(agent[2])
if agent[1] ~= 'online' or not max or redis.call('SCARD', KEYS[3]) >= max then
  return {'unavailable', rec[2]}
end
redis.call('SREM', ARGV[4] .. ':load:' .. rec[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[1], 'agent_id', ARGV[2], 'assigned_at', ARGV[3])
return {'ok', rec[2]}
"""

TRANSFER_TO_GROUP = """
-- KEYS: conv, queue(to), groups. ARGV: conv_id, to_group, prefix.
-- Returns {outcome, from_agent, from_group, position}. Keeps the original score (wait time).
local rec = redis.call('HMGET', KEYS[1], 'state', 'agent_id', 'group', 'score')
if rec[1] == 'assigned' then
  redis.call('SREM', ARGV[3] .. ':load:' .. rec[2], ARGV[1])
  -- the agent who handed it on gets it back only if nobody else can take it
  redis.call('HSET', KEYS[1], 'agent_id', '', 'preferred_agent_id', '', 'avoid_agent_id', rec[2])
elseif rec[1] == 'queued' then
  redis.call('ZREM', ARGV[3] .. ':queue:' .. rec[3], ARGV[1])
else
  return {'missing', '', '', 0}
end
redis.call('HSET', KEYS[1], 'state', 'queued', 'group', ARGV[2])
redis.call('ZADD', KEYS[2], rec[4], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[2])
local from_agent = ''
if rec[1] == 'assigned' then from_agent = rec[2] end
return {'ok', from_agent, rec[3], redis.call('ZRANK', KEYS[2], ARGV[1]) + 1}
"""

UNCLAIM = """
-- KEYS: conv, load(agent), groups. ARGV: conv_id, agent_id, prefix. Returns 1 when put back.
-- Undoes a claim whose SQL mirror failed: back in its group's queue with its original score.
local rec = redis.call('HMGET', KEYS[1], 'state', 'agent_id', 'group', 'score')
if rec[1] ~= 'assigned' or rec[2] ~= ARGV[2] or not rec[4] then return 0 end
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'queued', 'agent_id', '')
redis.call('HDEL', KEYS[1], 'assigned_at')
redis.call('ZADD', ARGV[3] .. ':queue:' .. rec[3], rec[4], ARGV[1])
redis.call('SADD', KEYS[3], rec[3])
return 1
"""

RESET = """
-- Make one conversation's handoff record what SQL says, if it is still what the caller saw.
-- KEYS: conv, target (queue(group) when queued, load(agent) when assigned, else conv), groups,
--       then the n_queues stale queues and the stale loads to take the conversation out of.
-- ARGV: conv_id, seen_state, seen_agent, want ('queued' | 'assigned' | 'absent'), score, group,
--       n_queues, field, value, ...  Returns 1 when changed, 0 when the record moved meanwhile.
local rec = redis.call('HMGET', KEYS[1], 'state', 'agent_id')
if (rec[1] or '') ~= ARGV[2] or (rec[2] or '') ~= ARGV[3] then return 0 end
local n_queues = tonumber(ARGV[7])
for i = 4, #KEYS do
  if i < 4 + n_queues then redis.call('ZREM', KEYS[i], ARGV[1]) else redis.call('SREM', KEYS[i], ARGV[1]) end
end
redis.call('DEL', KEYS[1])
if ARGV[4] == 'absent' then return 1 end
redis.call('HSET', KEYS[1], 'state', ARGV[4], 'group', ARGV[6], 'score', ARGV[5])
for i = 8, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if ARGV[4] == 'queued' then
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[6])
else
  redis.call('SADD', KEYS[2], ARGV[1])
end
return 1
"""


@dataclass(frozen=True)
class Scripts:
    enqueue: AsyncScript
    cancel: AsyncScript
    position: AsyncScript
    peek: AsyncScript
    claim: AsyncScript
    release: AsyncScript
    transfer_to_agent: AsyncScript
    transfer_to_group: AsyncScript
    unclaim: AsyncScript
    reset: AsyncScript


def register(client: aioredis.Redis) -> Scripts:
    """Register once per client; each script is sent to the server on its first ``NOSCRIPT``."""
    return Scripts(
        enqueue=client.register_script(ENQUEUE),
        cancel=client.register_script(CANCEL),
        position=client.register_script(POSITION),
        peek=client.register_script(PEEK),
        claim=client.register_script(CLAIM),
        release=client.register_script(RELEASE),
        transfer_to_agent=client.register_script(TRANSFER_TO_AGENT),
        transfer_to_group=client.register_script(TRANSFER_TO_GROUP),
        unclaim=client.register_script(UNCLAIM),
        reset=client.register_script(RESET),
    )
