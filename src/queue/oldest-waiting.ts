/**
 * The age of the oldest job waiting in a queue, read by one Lua script (one round trip, one snapshot):
 * - `:wait`: BullMQ pushes new jobs on the left and workers take from the right, so the tail
 *   (`LINDEX -1`) is the job waiting longest;
 * - `:prioritized`: a ZSET scored `priority * 2^32 + counter`, the counter growing with each job that
 *   enters it, so the first job of each priority level is the one of that level waiting longest. The
 *   script visits the first job of each level in use (one `ZRANGEBYSCORE ... LIMIT 0 1` per level, at most
 *   `MAX_PRIORITY_LEVELS`), not every job: a starved low-priority job is seen, at a cost that does not
 *   grow with the queue.
 * Each candidate's hash holds when it was added (`timestamp`) and its `delay`, so a delayed job counts
 * from when it was due. Queues are read one by one, in parallel: a Redis Cluster keeps each queue in a
 * slot of its own.
 */
import type { Redis } from 'ioredis';
import { isCluster, queueKeys } from './keys.js';

/** Priority levels looked at per read; past it, older jobs of lower levels are not seen. */
export const MAX_PRIORITY_LEVELS = 100;

/**
 * Lua: calls `consider(id)` with the first job of each priority level in use in the ZSET
 * `prioritizedKey` (at most `maxLevels` levels). Shared with runnable-backlog.ts, so the scaler's
 * `oldestWaitingSeconds` and `kq_queue_oldest_waiting_age_seconds` see the same jobs.
 */
export const EACH_PRIORITY_LEVEL_LUA = `
-- Scores reach 2^53: '%.0f' prints them whole (tostring would round to 14 digits).
local level = 0
for _ = 1, maxLevels do
  local first = rcall('ZRANGEBYSCORE', prioritizedKey, string.format('%.0f', level * 4294967296), '+inf',
    'WITHSCORES', 'LIMIT', 0, 1)
  if not first[1] then break end
  consider(first[1])
  level = math.floor(tonumber(first[2]) / 4294967296) + 1
end
`;

const SCRIPT = `
local waitKey, prioritizedKey = KEYS[1], KEYS[2]
local jobPrefix, maxLevels = ARGV[1], tonumber(ARGV[2])
local rcall = redis.call
local since = -1
local function consider(id)
  if not id then return end
  local f = rcall('HMGET', jobPrefix .. id, 'timestamp', 'delay')
  if not f[1] then return end
  local ms = tonumber(f[1]) + (tonumber(f[2]) or 0)
  if since < 0 or ms < since then since = ms end
end
consider(rcall('LINDEX', waitKey, -1))
${EACH_PRIORITY_LEVEL_LUA}
return since
`;

type WithScript = Redis & { kqOldestWaiting(...args: (string | number)[]): Promise<number> };

function withScript(redis: Redis): WithScript {
  const r = redis as WithScript;
  if (typeof r.kqOldestWaiting !== 'function') {
    redis.defineCommand('kqOldestWaiting', { numberOfKeys: 2, lua: SCRIPT });
  }
  return r;
}

/**
 * Seconds the oldest waiting or prioritized job has waited; 0 when none does.
 * @example await readOldestWaitingAge(redis, 'bull', 'jobs')
 */
export async function readOldestWaitingAge(
  redis: Redis,
  prefix: string,
  queue: string,
  nowMs = Date.now(),
): Promise<number> {
  const k = queueKeys(prefix, queue, isCluster(redis));
  const since = Number(
    await withScript(redis).kqOldestWaiting(k.wait, k.prioritized, k.job, MAX_PRIORITY_LEVELS),
  );
  if (since < 0) return 0;
  return Math.max(0, (nowMs - since) / 1000);
}
