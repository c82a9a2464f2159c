"""Lua scripts of the Redis coordination store (one atomic script per operation).

Every script reads the server clock (``TIME``), so workers on different hosts agree on
expiries and windows whatever their own clocks say. Key layout (``P`` = key prefix,
``T`` = tenant URN, hash tags keep one offer's / entity's keys in one cluster slot)::

    P:hold:{T|offer}:inv     string   declared inventory (PX = offer TTL)
    P:hold:{T|offer}:held    zset     attempt → hold expiry (ms)
    P:hold:{T|offer}:rooms   hash     attempt → "rooms|owner"           (live holds)
    P:hold:{T|offer}:conf    hash     attempt → "rooms|expiry|owner"    (confirmed)
    P:lock:{T|entity}        hash     owner, token, exp (PX = lock TTL)
    P:fence:{T|entity}       string   fencing counter (INCR, never decreases)
    P:locks:T                channel  lock events (JSON)
    P:rate:{key}             list     granted slots (µs), newest first, at most ``limit``
    P:breaker:{key}          hash     state, failures, opened (ms)

There is no shared "rooms left" counter: every acquisition drops expired holds and sums
the live holds and confirmations of the offer (at most ``inventory`` entries).
"""

from __future__ import annotations

__all__ = [
    "BREAKER_ALLOW",
    "BREAKER_RECORD",
    "HOLD_ACQUIRE",
    "HOLD_AVAILABLE",
    "HOLD_CONFIRM",
    "HOLD_RELEASE",
    "HOLD_SET_INVENTORY",
    "LOCK_ACQUIRE",
    "LOCK_HEARTBEAT",
    "LOCK_RELEASE",
    "RATE_TAKE",
]

_NOW_MS = """
local _t = redis.call('TIME')
local now = tonumber(_t[1]) * 1000 + math.floor(tonumber(_t[2]) / 1000)
"""

_PURGE_AND_SUM = """
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
if #dead > 0 then
  redis.call('ZREM', KEYS[2], unpack(dead))
  redis.call('HDEL', KEYS[3], unpack(dead))
end
local function used()
  local n = 0
  for _, v in ipairs(redis.call('HVALS', KEYS[3])) do n = n + tonumber(string.match(v, '^%d+')) end
  for _, v in ipairs(redis.call('HVALS', KEYS[4])) do n = n + tonumber(string.match(v, '^%d+')) end
  return n
end
"""

#: KEYS inv, held, rooms, conf · ARGV rooms, ttl_ms
HOLD_SET_INVENTORY = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for i = 2, 4 do
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[2]) then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
  end
end
return 'ok'
"""

#: KEYS inv, held, rooms, conf · ARGV attempt, rooms, ttl_ms, owner
#: → {'ok', expiry} | {'held', "rooms|owner", expiry} | {'confirmed', "rooms|expiry|owner"}
#:   | {'full', left} | {'missing'}
HOLD_ACQUIRE = (
    _NOW_MS
    + """
local inv = redis.call('GET', KEYS[1])
if not inv then return {'missing'} end
"""
    + _PURGE_AND_SUM
    + """
local c = redis.call('HGET', KEYS[4], ARGV[1])
if c then return {'confirmed', c} end
local exp = redis.call('ZSCORE', KEYS[2], ARGV[1])
if exp then return {'held', redis.call('HGET', KEYS[3], ARGV[1]), exp} end
local left = tonumber(inv) - used()
if left < tonumber(ARGV[2]) then return {'full', tostring(left)} end
local expiry = now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[2], expiry, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2] .. '|' .. ARGV[4])
local keep = math.max(redis.call('PTTL', KEYS[1]), tonumber(ARGV[3]))
for i = 2, 3 do
  if redis.call('PTTL', KEYS[i]) < keep then redis.call('PEXPIRE', KEYS[i], keep) end
end
return {'ok', string.format('%.0f', expiry)}
"""
)

#: KEYS inv, held, rooms, conf · ARGV attempt → 'ok' | 'missing'
HOLD_CONFIRM = (
    _NOW_MS
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
if redis.call('HEXISTS', KEYS[4], ARGV[1]) == 1 then return 'ok' end
local exp = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not exp or tonumber(exp) <= now then return 'missing' end
local v = redis.call('HGET', KEYS[3], ARGV[1])
local rooms, owner = string.match(v, '^(%d+)|(.*)$')
redis.call('HSET', KEYS[4], ARGV[1], rooms .. '|' .. exp .. '|' .. owner)
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
local keep = math.max(redis.call('PTTL', KEYS[1]), redis.call('PTTL', KEYS[2]))
if keep > 0 and redis.call('PTTL', KEYS[4]) < keep then redis.call('PEXPIRE', KEYS[4], keep) end
return 'ok'
"""
)

#: KEYS inv, held, rooms, conf · ARGV attempt
HOLD_RELEASE = """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return 'ok'
"""

#: KEYS inv, held, rooms, conf → {'ok', left} | {'missing'}
HOLD_AVAILABLE = (
    _NOW_MS
    + """
local inv = redis.call('GET', KEYS[1])
if not inv then return {'missing'} end
"""
    + _PURGE_AND_SUM
    + """
return {'ok', tostring(tonumber(inv) - used())}
"""
)

_PUBLISH = """
local function publish(kind, owner, token, exp)
  redis.call('PUBLISH', ARGV[3], cjson.encode({
    kind = kind, entity = ARGV[4], owner = owner, token = tostring(token),
    exp = exp and string.format('%.0f', exp) or false, at = string.format('%.0f', now)}))
end
"""

#: KEYS lock, fence · ARGV owner, ttl_ms, channel, entity
#: → {'ok', token, exp, since} | {'held', owner, token, exp, since} (since: when the holder
#: took the lock, kept across re-entrant acquires)
LOCK_ACQUIRE = (
    _NOW_MS
    + _PUBLISH
    + """
local cur = redis.call('HMGET', KEYS[1], 'owner', 'token', 'exp', 'since')
if cur[1] and cur[1] ~= ARGV[1] then
  return {'held', cur[1], cur[2], cur[3], cur[4] or cur[3]}
end
local since = cur[4] or string.format('%.0f', now)
local token = redis.call('INCR', KEYS[2])
local exp = now + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', token, 'exp', string.format('%.0f', exp),
  'since', since)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
publish('acquired', ARGV[1], token, exp)
return {'ok', tostring(token), string.format('%.0f', exp), since}
"""
)

#: KEYS lock, fence · ARGV owner, ttl_ms, channel, entity, token, since
#: → {'ok', exp, since} | {'stale'}
LOCK_HEARTBEAT = (
    _NOW_MS
    + _PUBLISH
    + """
local cur = redis.call('HGET', KEYS[1], 'token')
if cur then
  if tonumber(cur) ~= tonumber(ARGV[5]) then return {'stale'} end
elseif tonumber(redis.call('GET', KEYS[2]) or '0') ~= tonumber(ARGV[5]) then
  return {'stale'}
end
local exp = now + tonumber(ARGV[2])
local since = redis.call('HGET', KEYS[1], 'since')
if not since then
  since = tonumber(ARGV[6]) > 0 and ARGV[6] or string.format('%.0f', now)
end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', ARGV[5], 'exp', string.format('%.0f', exp),
  'since', since)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
publish('renewed', ARGV[1], ARGV[5], exp)
return {'ok', string.format('%.0f', exp), since}
"""
)

#: KEYS lock · ARGV owner, _, channel, entity, token → 1 released | 0 not ours
LOCK_RELEASE = (
    _NOW_MS
    + _PUBLISH
    + """
local cur = redis.call('HGET', KEYS[1], 'token')
if not cur or tonumber(cur) ~= tonumber(ARGV[5]) then return 0 end
redis.call('DEL', KEYS[1])
publish('released', ARGV[1], ARGV[5], nil)
return 1
"""
)

#: Sliding log with reservations. KEYS log · ARGV limit, window_us, max_wait_us
#: → {granted 1|0, wait_us, slot_us}. A grant takes the earliest slot that keeps every
#: window of ``window_us`` at ``limit`` grants or fewer — now, or a future slot the caller
#: sleeps until (only if it is within ``max_wait_us``). Slots are recorded, not the time
#: the caller got round to using them, so late wake-ups do not push later slots back.
RATE_TAKE = """
local _t = redis.call('TIME')
local now = tonumber(_t[1]) * 1000000 + tonumber(_t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local slot = now
if redis.call('LLEN', KEYS[1]) >= limit then
  local oldest = tonumber(redis.call('LINDEX', KEYS[1], limit - 1))
  if oldest and oldest + window > now then slot = oldest + window end
end
local wait = slot - now
if wait > tonumber(ARGV[3]) then
  return {0, string.format('%.0f', wait), string.format('%.0f', slot)}
end
redis.call('LPUSH', KEYS[1], string.format('%.0f', slot))
redis.call('LTRIM', KEYS[1], 0, limit - 1)
redis.call('PEXPIRE', KEYS[1], math.ceil((window + wait) / 1000) + 1000)
return {1, string.format('%.0f', wait), string.format('%.0f', slot)}
"""

#: KEYS breaker · ARGV cooldown_ms → 1 allowed | 0 refused
BREAKER_ALLOW = (
    _NOW_MS
    + """
local st = redis.call('HGET', KEYS[1], 'state')
if not st or st == 'closed' then return 1 end
local opened = tonumber(redis.call('HGET', KEYS[1], 'opened') or '0')
if now < opened + tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'state', 'half-open', 'opened', string.format('%.0f', now))
return 1
"""
)

#: KEYS breaker · ARGV success 1|0, threshold, keep_ms
BREAKER_RECORD = (
    _NOW_MS
    + """
if ARGV[1] == '1' then
  redis.call('DEL', KEYS[1])
  return 'closed'
end
local st = redis.call('HGET', KEYS[1], 'state') or 'closed'
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if st == 'half-open' or failures >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'state', 'open', 'opened', string.format('%.0f', now))
  st = 'open'
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return st
"""
)
