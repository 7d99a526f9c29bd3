-- Applies one observation to one entity (KEYS[1] = '<prefix>:<tenant>:<kind>:<value>').
-- ARGV: 1 ts_ms, 2 login failure '1'|'0', 3 login success '1'|'0', 4 password char entropy
-- or '', 5 frequency cap, 6 ttl seconds, 7..11 sketch items (hex) or '', then pairs of
-- (window name, bucket width ms). Returns the number of windows the update was too late for.
-- Bucket keys get their TTL when created (a bucket is written for at most its width plus the
-- longest window, which the minimum TTL covers), so most updates send no EXPIRE.
local base = KEYS[1]
local ts = tonumber(ARGV[1])
local pce = ARGV[4]
local cap = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])

local lastkey = base .. ':last'
local last = redis.call('GET', lastkey)
local gap = nil
local newest, newest_text = ts, ARGV[1]
if last then
  local l = tonumber(last)
  if ts >= l then gap = (ts - l) / 1000 else newest, newest_text = l, last end
end
redis.call('SET', lastkey, newest_text, 'EX', ttl)

local function f17(x) return string.format('%.17g', x) end

local function freq(key, overflow_key, overflow_field, item)
  if item == '' then return end
  if redis.call('HEXISTS', key, item) == 1 or redis.call('HLEN', key) < cap then
    if redis.call('HINCRBY', key, item, 1) == 1 and redis.call('HLEN', key) == 1 then
      redis.call('EXPIRE', key, ttl)
    end
  else
    redis.call('HINCRBY', overflow_key, overflow_field, 1)
  end
end

local late = 0
local i = 12
while i < #ARGV do
  local width = tonumber(ARGV[i + 1])
  local b = math.floor(ts / width)
  if b < math.floor(newest / width) - 5 then
    late = late + 1
  else
    local k = base .. ':' .. ARGV[i] .. ':' .. string.format('%d', b)
    local fresh = redis.call('HINCRBY', k, 'e', 1) == 1
    if ARGV[2] == '1' then redis.call('HINCRBY', k, 'f', 1) end
    if ARGV[3] == '1' then redis.call('HINCRBY', k, 's', 1) end
    if gap then
      redis.call('HINCRBY', k, 'gn', 1)
      redis.call('HINCRBYFLOAT', k, 'gs', f17(gap))
      redis.call('HINCRBYFLOAT', k, 'gq', f17(gap * gap))
      local m = redis.call('HGET', k, 'gm')
      if (not m) or gap < tonumber(m) then redis.call('HSET', k, 'gm', f17(gap)) end
    end
    if pce ~= '' then
      redis.call('HINCRBY', k, 'pn', 1)
      redis.call('HINCRBYFLOAT', k, 'pc', pce)
    end
    for s = 0, 4 do
      local item = ARGV[7 + s]
      if item ~= '' then
        local hk = k .. ':h' .. s
        if redis.call('PFADD', hk, item) == 1 and redis.call('TTL', hk) < 0 then
          redis.call('EXPIRE', hk, ttl)
        end
      end
    end
    freq(k .. ':u', k, 'uo', ARGV[8])
    freq(k .. ':p', k, 'po', ARGV[11])
    if fresh then redis.call('EXPIRE', k, ttl) end
  end
  i = i + 2
end
return late
