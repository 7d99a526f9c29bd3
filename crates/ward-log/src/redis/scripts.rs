//! The Lua scripts that make consumer-group operations atomic on the server.
//!
//! Every script takes `KEYS[1]` = the partition's stream and `KEYS[2]` = its commits hash
//! (field = group name, value = committed offset in decimal). Offsets are stream IDs `0-(offset+1)`.
//!
//! Invariant kept by [`ACK`] and relied on by [`FETCH`]: once a group has committed `c`, its
//! pending-entries list holds no entry below offset `c` and its last-delivered ID is at least
//! `0-c`, so `XREADGROUP` never hands out a committed record again.

/// Fetch for a group: `ARGV` = group, consumer, max. Creates the group at its committed
/// position if needed, claims every pending entry of the group for this consumer
/// (`XAUTOCLAIM` with min-idle 0: unacknowledged records are redelivered on the next fetch,
/// whichever consumer crashed), returns them (acknowledging any whose entry retention removed)
/// followed by new entries, up to max, as `[[id, [field, value, ...]], ...]`.
pub(super) const FETCH: &str = r"
local group, consumer, max = ARGV[1], ARGV[2], tonumber(ARGV[3])
local function ack(ids)
  for i = 1, #ids, 1000 do redis.call('XACK', KEYS[1], group, unpack(ids, i, math.min(i + 999, #ids))) end
end
local committed = redis.call('HGET', KEYS[2], group) or '0'
local created = redis.pcall('XGROUP', 'CREATE', KEYS[1], group, '0-' .. committed, 'MKSTREAM')
if type(created) == 'table' and created.err and not string.find(created.err, 'BUSYGROUP', 1, true) then
  return created
end
redis.call('XAUTOCLAIM', KEYS[1], group, consumer, 0, '0-0', 'COUNT', max, 'JUSTID')
local out
repeat
  out = {}
  local gone = {}
  local mine = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', max, 'STREAMS', KEYS[1], '0')
  for _, entry in ipairs(mine[1][2]) do
    if entry[2] then out[#out + 1] = entry else gone[#gone + 1] = entry[1] end
  end
  ack(gone)
until #gone == 0
if #out < max then
  local new = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', max - #out, 'STREAMS', KEYS[1], '>')
  if new then
    for _, entry in ipairs(new[1][2]) do out[#out + 1] = entry end
  end
end
return out
";

/// Commit for a group: `ARGV` = group, next. Ignores a position at or below the committed
/// one; otherwise stores it, acknowledges the group's pending entries below it and moves the
/// group's last-delivered ID up to it (creating the group there if it does not exist yet).
/// Returns the committed position.
pub(super) const ACK: &str = r"
local group, next = ARGV[1], ARGV[2]
local current = tonumber(redis.call('HGET', KEYS[2], group) or '0')
if tonumber(next) <= current then return current end
local below = '0-' .. next
local created = redis.pcall('XGROUP', 'CREATE', KEYS[1], group, below, 'MKSTREAM')
if type(created) == 'table' and created.err then
  if not string.find(created.err, 'BUSYGROUP', 1, true) then return created end
  repeat
    local ids = {}
    for i, p in ipairs(redis.call('XPENDING', KEYS[1], group, '-', below, 1000)) do ids[i] = p[1] end
    if #ids > 0 then redis.call('XACK', KEYS[1], group, unpack(ids)) end
  until #ids < 1000
  for _, info in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    local fields = {}
    for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
    if fields['name'] == group then
      local delivered = tonumber(string.match(fields['last-delivered-id'], '-(%d+)$'))
      if delivered < tonumber(next) then redis.call('XGROUP', 'SETID', KEYS[1], group, below) end
    end
  end
end
redis.call('HSET', KEYS[2], group, next)
return tonumber(next)
";

/// Counts of one partition (`KEYS[1]` only): `[first_offset, next_offset, bytes]`; a stream
/// that does not exist yet counts as empty.
pub(super) const STATS: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, 0} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local fields = {}
for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
local next = tonumber(string.match(fields['last-generated-id'], '-(%d+)$'))
local first = next
if fields['first-entry'] then first = tonumber(string.match(fields['first-entry'][1], '-(%d+)$')) - 1 end
return {first, next, redis.call('MEMORY', 'USAGE', KEYS[1]) or 0}
";
