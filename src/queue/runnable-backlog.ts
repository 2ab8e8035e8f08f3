/**
 * The runnable backlog of one queue, read from BullMQ's keys by one Lua script (one round trip, one
 * consistent snapshot). Terms, and why each is there (docs/keda-scaler.md):
 * - `waiting` (LIST) and `prioritized` (ZSET): jobs a worker would take now;
 * - `dueDelayed`: delayed jobs and retries in backoff whose time has come. BullMQ only moves them to
 *   `wait` from inside a worker, so with zero workers they sit in `delayed` forever: counted here;
 * - `running`: active jobs whose lock is alive; they still need their worker, so scaling must not
 *   remove it;
 * - `orphaned`: active jobs whose lock is gone (their worker was killed). Only a running worker's stalled
 *   check hands them back, so they need a worker too.
 * A paused queue runs nothing new: its runnable terms count 0, its running jobs still count.
 */
import type { Redis } from 'ioredis';
import { dueDelayedMaxScore, isCluster, queueKeys } from './keys.js';
import { EACH_PRIORITY_LEVEL_LUA, MAX_PRIORITY_LEVELS } from './oldest-waiting.js';

/** Active jobs checked for a lock per read; past it, the rest count as running (same total). */
export const MAX_ORPHAN_CHECKS = 1000;

const SCRIPT = `
local waitKey, prioritizedKey, activeKey, delayedKey, metaKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
-- dueMax stays a string: Lua would print a 16-digit score with 14 significant digits.
local jobPrefix, dueMax, maxChecks, maxLevels = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local rcall = redis.call
local waiting = rcall('LLEN', waitKey)
local prioritized = rcall('ZCARD', prioritizedKey)
local active = rcall('LLEN', activeKey)
local due = rcall('ZCOUNT', delayedKey, 0, dueMax)
local paused = rcall('HEXISTS', metaKey, 'paused')
local known = rcall('EXISTS', metaKey)
local orphaned = 0
if active > 0 then
  for _, id in ipairs(rcall('LRANGE', activeKey, 0, maxChecks - 1)) do
    if rcall('EXISTS', jobPrefix .. id .. ':lock') == 0 then orphaned = orphaned + 1 end
  end
end
-- Since when the oldest runnable job waits: the next one out of wait (the tail), the first job of
-- each priority level (a starved low-priority job is the oldest), or the earliest due delayed one
-- (its due time).
local since = -1
local function consider(ms) if ms and ms >= 0 and (since < 0 or ms < since) then since = ms end end
local function jobSince(id)
  if not id then return nil end
  local f = rcall('HMGET', jobPrefix .. id, 'timestamp', 'delay')
  if not f[1] then return nil end
  return tonumber(f[1]) + (tonumber(f[2]) or 0)
end
consider(jobSince(rcall('LINDEX', waitKey, -1)))
do
  local function considerSince(id) consider(jobSince(id)) end
  local consider = considerSince
  ${EACH_PRIORITY_LEVEL_LUA}
end
if due > 0 then
  local d = rcall('ZRANGE', delayedKey, 0, 0, 'WITHSCORES')
  consider(math.floor(tonumber(d[2]) / 4096))
end
local nextDue = -1
local n = rcall('ZRANGEBYSCORE', delayedKey, '(' .. dueMax, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if n[2] then nextDue = math.floor(tonumber(n[2]) / 4096) end
return {waiting, prioritized, active, orphaned, due, paused, known, since, nextDue}
`;

export interface RunnableBacklog {
  waiting: number;
  prioritized: number;
  dueDelayed: number;
  /** Active jobs with a live lock. */
  running: number;
  /** Active jobs whose lock is gone. */
  orphaned: number;
  paused: boolean;
  /** False when the queue's meta key is missing: no BullMQ Queue ever used this name and prefix. */
  known: boolean;
  /**
   * What autoscaling needs: runnable jobs (waiting + prioritized + due delayed + orphaned; 0 while paused)
   * + running jobs. KEDA's `backlog` metric (keda-scaler). Not `QueueCounts.backlog` (waiting +
   * prioritized + active), which leaves out due delayed jobs and counts a paused queue's waiting ones.
   */
  runnableAndRunning: number;
  /** Seconds the oldest runnable job has waited; 0 when none (or paused). */
  oldestWaitingSeconds: number;
  /** When the earliest not-yet-due delayed job becomes due (ms epoch); undefined when none. */
  nextDueMs: number | undefined;
}

type WithScript = Redis & {
  kqRunnableBacklog(...args: (string | number)[]): Promise<number[]>;
};

function withScript(redis: Redis): WithScript {
  const r = redis as WithScript;
  if (typeof r.kqRunnableBacklog !== 'function') {
    redis.defineCommand('kqRunnableBacklog', { numberOfKeys: 5, lua: SCRIPT });
  }
  return r;
}

/** @example const b = await readRunnableBacklog(redis, 'bull', 'jobs'); b.runnableAndRunning */
export async function readRunnableBacklog(
  redis: Redis,
  prefix: string,
  queue: string,
  nowMs = Date.now(),
): Promise<RunnableBacklog> {
  const k = queueKeys(prefix, queue, isCluster(redis));
  const raw = await withScript(redis).kqRunnableBacklog(
    k.wait,
    k.prioritized,
    k.active,
    k.delayed,
    k.meta,
    k.job,
    dueDelayedMaxScore(nowMs),
    MAX_ORPHAN_CHECKS,
    MAX_PRIORITY_LEVELS,
  );
  const [waiting, prioritized, active, orphanedRaw, dueDelayed, paused, known, since, nextDue] = raw.map(
    Number,
  ) as [number, number, number, number, number, number, number, number, number];
  const isPaused = paused === 1;
  // The orphan check and LLEN come from one snapshot, so orphaned <= active.
  const running = active - orphanedRaw;
  const orphaned = isPaused ? 0 : orphanedRaw;
  const runnable = isPaused ? 0 : waiting + prioritized + dueDelayed + orphaned;
  return {
    waiting,
    prioritized,
    dueDelayed,
    running,
    orphaned,
    paused: isPaused,
    known: known === 1,
    runnableAndRunning: runnable + running,
    oldestWaitingSeconds: isPaused || since < 0 ? 0 : Math.max(0, (nowMs - since) / 1000),
    nextDueMs: nextDue >= 0 ? nextDue : undefined,
  };
}
