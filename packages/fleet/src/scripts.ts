/**
 * Lua scripts of the fleet state; each runs atomically on one slot.
 *
 * RECORD_DUMP (a signature's slot). KEYS: seen, buckets, meta, examples, hosts-of-the-hour.
 * ARGV: at, bucketMs, now, retainMs, ttlSeconds, signature, dumpId, host, deepestChain,
 * werFaults, examples → 1 when counted, 0 when counted before (or too old to count).
 *
 * The `seen` marker is set if absent in the same script as the counts, so a redelivered or
 * replayed report, or two workers reporting at once, count a dump once. It lives as long as the
 * counts it guards (ttlSeconds, a little over retainMs), and a dump older than retainMs is not
 * counted at all: when its marker has expired, so has every bucket it could have gone into.
 */
export const RECORD_DUMP = `
local at = tonumber(ARGV[1])
local bucketMs = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local retainMs = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
if at < now - retainMs then return 0 end
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ttl) then return 0 end
local bucket = math.floor(at / bucketMs)
redis.call('HINCRBY', KEYS[2], bucket, 1)
local oldest = math.floor((now - retainMs) / bucketMs)
for _, b in ipairs(redis.call('HKEYS', KEYS[2])) do
  if tonumber(b) < oldest then redis.call('HDEL', KEYS[2], b) end
end
if ARGV[8] ~= '' then
  redis.call('PFADD', KEYS[5], ARGV[8])
  redis.call('EXPIRE', KEYS[5], ttl)
end
redis.call('HSETNX', KEYS[3], 'signature', ARGV[6])
local first = tonumber(redis.call('HGET', KEYS[3], 'firstSeen') or at)
if at <= first then redis.call('HSET', KEYS[3], 'firstSeen', at) end
local last = tonumber(redis.call('HGET', KEYS[3], 'lastSeen') or at)
if at >= last then redis.call('HSET', KEYS[3], 'lastSeen', at) end
local deepest = tonumber(redis.call('HGET', KEYS[3], 'deepestChain') or 0)
if tonumber(ARGV[9]) > deepest then redis.call('HSET', KEYS[3], 'deepestChain', ARGV[9]) end
redis.call('HINCRBY', KEYS[3], 'werFaults', ARGV[10])
redis.call('HINCRBY', KEYS[3], 'dumps', 1)
redis.call('LPUSH', KEYS[4], ARGV[7])
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[11]) - 1)
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('EXPIRE', KEYS[3], ttl)
redis.call('EXPIRE', KEYS[4], ttl)
return 1
`;

/** The evaluator's lease. KEYS: lease. ARGV: token, ttlMs → 1 when held by token (taken or renewed). */
export const TAKE_LEASE = `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** KEYS: lease. ARGV: token → 1 when it was ours and is gone. */
export const DROP_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Storm transitions and their events, together ({storms} slot). KEYS: lease, status, outbox,
 * outbox counter. ARGV: token, then per transition: signature, status JSON, event JSON (or '').
 * Refused (0) unless `token` holds the lease: an evaluator that lost it writes nothing. Each event
 * gets the next outbox number, which it carries as `n` (replacing `"n":0` in its JSON).
 */
export const COMMIT_TRANSITIONS = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 3 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  if ARGV[i + 2] ~= '' then
    local n = redis.call('INCR', KEYS[4])
    local ev = string.gsub(ARGV[i + 2], '"n":0', '"n":' .. n, 1)
    redis.call('ZADD', KEYS[3], n, ev)
  end
end
return 1
`;
