/**
 * Lua scripts: each runs atomically on one slot (the upload's hash tag), so concurrent detect
 * workers merging the same upload never see half a merge, and exactly one of them claims the
 * report.
 *
 * Completion check, shared by the scripts (meta = KEYS[1], facts = KEYS[2], state = KEYS[3]):
 * the upload is complete when its manifest has arrived with status `complete` and every segment's
 * facts are merged; then the first caller takes a lease on `state` and gets `complete`.
 */
const COMPLETION = `
local function completion(token, leaseMs, retention)
  local total = redis.call('HGET', KEYS[1], 'segments')
  if not total then return 'pending' end
  local status = redis.call('HGET', KEYS[1], 'status')
  local state = redis.call('GET', KEYS[3])
  if state then
    if string.sub(state, 1, 9) == 'reporting' then return 'claimed' end
    return 'done'
  end
  if status == 'aborted' then
    redis.call('SET', KEYS[3], 'aborted', 'EX', retention)
    redis.call('DEL', KEYS[2])
    return 'aborted'
  end
  if redis.call('HLEN', KEYS[2]) < tonumber(total) then return 'pending' end
  redis.call('SET', KEYS[3], 'reporting:' .. token, 'PX', leaseMs)
  return 'complete'
end
`;

/**
 * ARGV: seq, blob, ttlSeconds, token, leaseMs, retentionSeconds → {added (0|1), completion}.
 * Facts of an upload already reported are not stored again (a redelivery, a replay).
 */
export const MERGE_FACTS = `${COMPLETION}
local st = redis.call('GET', KEYS[3])
if st and string.sub(st, 1, 9) ~= 'reporting' then return {0, 'done'} end
local added = redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return {added, completion(ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]))}
`;

/**
 * ARGV: ttlSeconds, token, leaseMs, retentionSeconds, then field/value pairs of the manifest,
 * `segments` first → {added, completion}.
 */
export const RECORD_MANIFEST = `${COMPLETION}
local added = redis.call('HSETNX', KEYS[1], ARGV[5], ARGV[6])
for i = 7, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
return {added, completion(ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]))}
`;

/**
 * Takes the report of an upload that will not complete (timed out). ARGV: token, leaseMs →
 * `claimed` or the state that stops it.
 */
export const CLAIM_INCOMPLETE = `
local state = redis.call('GET', KEYS[3])
if state then return state end
redis.call('SET', KEYS[3], 'reporting:' .. ARGV[1], 'PX', tonumber(ARGV[2]))
return 'claimed'
`;

/**
 * Ends a report: only the lease holder may. ARGV: token, outcome, retentionSeconds. The facts go
 * (they are in the report now); the state stays, so redelivered messages find the upload done.
 */
export const FINISH = `
local state = redis.call('GET', KEYS[3])
if state ~= 'reporting:' .. ARGV[1] then return 0 end
redis.call('SET', KEYS[3], ARGV[2], 'EX', tonumber(ARGV[3]))
redis.call('DEL', KEYS[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
`;

/** Gives a lease back after a failed report, so another attempt can claim at once. ARGV: token. */
export const RELEASE = `
if redis.call('GET', KEYS[3]) == 'reporting:' .. ARGV[1] then redis.call('DEL', KEYS[3]) return 1 end
return 0
`;

/**
 * Keeps a lease: only its holder may extend it. KEYS: state. ARGV: token, leaseMs → 1, or 0 when
 * the lease expired or another worker holds it now.
 */
export const RENEW = `
if redis.call('GET', KEYS[1]) == 'reporting:' .. ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0
`;

/**
 * Notes, under the lease, which message the holder is about to publish the report with (its
 * Kafka transaction commits that message's offset), so that a worker taking over after a crash can
 * tell whether the report went out. KEYS: meta, state. ARGV: token, attempt, ttlSeconds → 1 or 0.
 */
export const RECORD_ATTEMPT = `
if redis.call('GET', KEYS[2]) ~= 'reporting:' .. ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'attempt', ARGV[2])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3])) end
return 1
`;

/**
 * Claims a transcript's content for an upload unless another upload holds it: one key, so the
 * first of two identical uploads at once wins and both callers are told the same winner.
 * KEYS: reported. ARGV: uploadId, retentionSeconds → the upload id that holds the content.
 */
export const CLAIM_CONTENT = `
local holder = redis.call('GET', KEYS[1])
if holder then return holder end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return ARGV[1]
`;

/** Lets the content go if this upload holds it. KEYS: reported. ARGV: uploadId → 1 or 0. */
export const RELEASE_CONTENT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0
`;

/**
 * Keeps a report (KEYS[1] = its hash; ARGV: summary JSON, state, gzip or '' for summary only,
 * ttl ms). Idempotent: a report kept before stays as it is, unless it is `incomplete` and this
 * one `complete` (a whole copy of the content came after a partial one): then it is replaced.
 * Returns {1 if written, the summary now kept, the summary replaced or false}.
 */
export const KEEP_REPORT = `
local old = redis.call('HGET', KEYS[1], 'summary')
if old then
  if not (redis.call('HGET', KEYS[1], 'state') == 'incomplete' and ARGV[2] == 'complete') then
    return {0, old, false}
  end
  redis.call('DEL', KEYS[1])
end
redis.call('HSET', KEYS[1], 'summary', ARGV[1], 'state', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'report', ARGV[3]) end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, ARGV[1], old or false}
`;
