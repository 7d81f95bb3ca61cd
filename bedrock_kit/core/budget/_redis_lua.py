"""The Lua scripts of :class:`~bedrock_kit.core.budget.redis_store.RedisStore`.

Every script runs atomically in Redis. ``KEYS[1]`` is the budget's key prefix (one hash tag,
so every key of a budget lives in one cluster slot). Costs are integers of nano-USD, token
counts integers; Lua numbers are doubles, exact below 2^53 (nine million dollars).

Keys under the prefix ``P``:

* ``P s:<scope>:c`` committed amounts, ``P s:<scope>:r`` reserved amounts and ``open``,
  ``P s:<scope>:m`` per-model report columns (field ``<model>\\t<column>``);
* ``P scopes`` the scope names;
* ``P h:<hold>`` one open hold: its owner and, as sent, its JSON (scopes with limits,
  amounts, expiry row, expiry policy);
* ``P o:<owner>:alive`` the owner's lease (a key with a TTL, refreshed by its heartbeat),
  ``P o:<owner>:h`` its open holds, ``P owners`` every owner with holds;
* ``P t:<hold>`` a finished hold that asked to be remembered (``t`` in its JSON: seconds),
  so another process that finds it again does not charge it twice. A hold that outlives
  its process (a batch job's) is its own owner, ``hold-<hold>``, with a lease of its own.

A hold whose owner's lease is gone belonged to a process that died: the next script to run
(any process's) frees it and books its expiry row (the full reservation) unless the hold
asked to be released.
"""

from __future__ import annotations

AMOUNTS = ("cost", "input", "output", "cache_read", "cache_write", "calls")
"""Amount fields, in the order scripts take them."""

ROW_FIELDS = (
    "calls",
    "errors",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_write_input_tokens",
    "guardrail_text_units",
    "cost",
    "partial",
    "usage_missing",
    "overruns",
    "estimated",
    "expired",
)
"""Report columns of a booked row, in the order scripts take them (cost in nano-USD)."""

LIMITS = (
    "max_cost",
    "max_input_tokens",
    "max_output_tokens",
    "max_cache_read_tokens",
    "max_cache_write_tokens",
    "max_total_tokens",
    "max_calls",
)
"""Limit fields, in the order scripts take them (-1 for none; cost in nano-USD)."""

_COMMON = """
local P = KEYS[1]
local AMOUNTS = {'cost', 'input', 'output', 'cache_read', 'cache_write', 'calls'}
local ROW = {ROW_COLUMNS}

local function int(x) return string.format('%.0f', x) end

local function amounts_of_row(row)
  -- row = {model, calls, errors, input, output, cache_read, cache_write, units, cost, ...}
  return {row[9], row[4] + row[6] + row[7], row[5], row[6], row[7], row[2]}
end

local function add(key, values, sign)
  for i, field in ipairs(AMOUNTS) do
    if values[i] ~= 0 then redis.call('HINCRBY', key, field, int(values[i] * sign)) end
  end
end

local function book(scope, row)
  local models = P .. 's:' .. scope .. ':m'
  for i, column in ipairs(ROW) do
    local v = row[i + 1]
    if v ~= 0 then redis.call('HINCRBY', models, row[1] .. '\\t' .. column, int(v)) end
  end
  add(P .. 's:' .. scope .. ':c', amounts_of_row(row), 1)
  redis.call('SADD', P .. 'scopes', scope)
end

local function load(hold_id)
  local found = redis.call('HMGET', P .. 'h:' .. hold_id, 'o', 'd')
  if not found[2] then return nil end
  local rec = cjson.decode(found[2])
  rec.o = found[1]
  return rec
end

local function unhold(hold_id, rec)
  for _, scope in ipairs(rec.s) do
    local reserved = P .. 's:' .. scope[1] .. ':r'
    add(reserved, rec.a, -1)
    redis.call('HINCRBY', reserved, 'open', -1)
  end
  redis.call('DEL', P .. 'h:' .. hold_id)
  redis.call('SREM', P .. 'o:' .. rec.o .. ':h', hold_id)
  if rec.t then redis.call('SET', P .. 't:' .. hold_id, '1', 'EX', rec.t) end
end

local function reap()
  local reaped = 0
  for _, owner in ipairs(redis.call('SMEMBERS', P .. 'owners')) do
    if redis.call('EXISTS', P .. 'o:' .. owner .. ':alive') == 0 then
      for _, hold_id in ipairs(redis.call('SMEMBERS', P .. 'o:' .. owner .. ':h')) do
        local rec = load(hold_id)
        if rec then
          unhold(hold_id, rec)
          if rec.x == 'charge' then
            for _, scope in ipairs(rec.s) do book(scope[1], rec.e) end
          end
          reaped = reaped + 1
        end
      end
      redis.call('DEL', P .. 'o:' .. owner .. ':h')
      redis.call('SREM', P .. 'owners', owner)
    end
  end
  return reaped
end
""".replace("ROW_COLUMNS", ", ".join(f"'{name}'" for name in ROW_FIELDS))

HOLD = (
    _COMMON
    + """
-- ARGV: owner, hold id, lease ms, JSON {s = {{scope, limits}...}, a = amounts, e = row, x}
local owner, hold_id, lease = ARGV[1], ARGV[2], ARGV[3]
local rec = cjson.decode(ARGV[4])
reap()
if redis.call('EXISTS', P .. 'h:' .. hold_id, P .. 't:' .. hold_id) > 0 then return {2} end
local function value(v, j)
  if j == 6 then return v[2] + v[3] end
  if j == 7 then return v[6] end
  return v[j]
end
for i = #rec.s, 1, -1 do  -- innermost scope first: its name explains most
  local scope, limits = rec.s[i][1], rec.s[i][2]
  local base = P .. 's:' .. scope
  local c = redis.call('HMGET', base .. ':c', unpack(AMOUNTS))
  local r = redis.call('HMGET', base .. ':r', unpack(AMOUNTS))
  for k = 1, 6 do c[k] = tonumber(c[k]) or 0; r[k] = tonumber(r[k]) or 0 end
  for j = 1, 7 do
    local limit = limits[j]
    if limit >= 0 then
      local used, held, wanted = value(c, j), value(r, j), value(rec.a, j)
      if used + held + wanted > limit then
        return {0, scope, j, int(used), int(held), int(wanted)}
      end
    end
  end
end
for _, scope in ipairs(rec.s) do
  local reserved = P .. 's:' .. scope[1] .. ':r'
  add(reserved, rec.a, 1)
  redis.call('HINCRBY', reserved, 'open', 1)
  redis.call('SADD', P .. 'scopes', scope[1])
end
-- The hold keeps the caller's JSON as sent: re-encoding would round large numbers.
redis.call('HSET', P .. 'h:' .. hold_id, 'o', owner, 'd', ARGV[4])
redis.call('SET', P .. 'o:' .. owner .. ':alive', '1', 'PX', lease)
redis.call('SADD', P .. 'o:' .. owner .. ':h', hold_id)
redis.call('SADD', P .. 'owners', owner)
return {1}
"""
)

FINISH = (
    _COMMON
    + """
-- ARGV: hold id, JSON rows. Returns 1 when this finished the hold, 0 when it was gone.
local rec = load(ARGV[1])
if not rec then return 0 end
unhold(ARGV[1], rec)
for _, row in ipairs(cjson.decode(ARGV[2])) do
  for _, scope in ipairs(rec.s) do book(scope[1], row) end
end
return 1
"""
)

BOOK = (
    _COMMON
    + """
-- ARGV: JSON scope names, JSON rows.
for _, row in ipairs(cjson.decode(ARGV[2])) do
  for _, scope in ipairs(cjson.decode(ARGV[1])) do book(scope, row) end
end
return 1
"""
)

SNAPSHOT = (
    _COMMON
    + """
-- ARGV: scope. Expired leases are reaped first, so a report never counts a dead hold.
local reaped = reap()
local base = P .. 's:' .. ARGV[1]
return {
  redis.call('HGETALL', base .. ':c'),
  redis.call('HGETALL', base .. ':r'),
  redis.call('HGETALL', base .. ':m'),
  redis.call('SISMEMBER', P .. 'scopes', ARGV[1]),
  reaped,
}
"""
)
