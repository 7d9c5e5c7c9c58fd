"""Lua scripts run by ``connectors.app.delivery`` (text only: the scripts' caller is the keys' writer).

Each script keeps one step of a job's life atomic, so a crash between two commands cannot lose
or duplicate a job.
"""

from __future__ import annotations

# KEYS: sent marker, job, stream. ARGV: job id, ttl, then the job's field/value pairs.
ENQUEUE = """
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
redis.call('XADD', KEYS[3], '*', 'job', ARGV[1])
return ARGV[1]
"""

# KEYS: scheduled, stream. ARGV: now, how many.
PROMOTE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('XADD', KEYS[2], '*', 'job', id)
end
return #due
"""

# KEYS: job. Counts the attempt before it is made, so a job that kills its worker still runs out.
BEGIN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HINCRBY', KEYS[1], 'attempts', 1)
"""

# KEYS: stream, job, scheduled, dead. ARGV: group, entry id, job id, action, status, error, due, now.
# Whoever acknowledges the entry first settles the job; a late duplicate worker changes nothing.
SETTLE = """
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XDEL', KEYS[1], ARGV[2])
if ARGV[4] == 'drop' then return 1 end
if ARGV[4] == 'delivered' then redis.call('DEL', KEYS[2]) return 1 end
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'last_status', ARGV[5], 'last_error', ARGV[6])
if ARGV[4] == 'retry' then
  redis.call('ZADD', KEYS[3], ARGV[7], ARGV[3])
else
  redis.call('HSET', KEYS[2], 'dead_at', ARGV[8])
  redis.call('LPUSH', KEYS[4], ARGV[3])
end
return 1
"""

# KEYS: dead, job, stream. ARGV: job id.
REDRIVE = """
if redis.call('LREM', KEYS[1], 0, ARGV[1]) == 0 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'attempts', 0, 'dead_at', '')
redis.call('HINCRBY', KEYS[2], 'redrives', 1)
redis.call('XADD', KEYS[3], '*', 'job', ARGV[1])
return 1
"""
