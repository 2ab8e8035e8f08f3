/**
 * Everything kq does with BullMQ's private stall mechanics, in one place. Written against the BullMQ
 * version pinned exactly in package.json; test/queue/bullmq-internals.test.ts fails on a version whose
 * internals differ (the version, the method, the key names and what BullMQ's pass does with them).
 *
 * Public API that would let kq drop this file: a `Worker` method that runs one stall check now and
 * resolves when it is done (today `moveStalledJobsToWait` is `private` in the typings and
 * `startStalledCheckTimer()` does not say when its pass ends), plus a way to requeue, in that pass, the
 * active jobs whose lock is gone without waiting two `stalledInterval`s (a "recover orphans now" option).
 *
 * Orphans: jobs in `:active` whose lock key is gone. BullMQ sets a job's lock in the same script that moves
 * it to active and deletes it in the one that moves it out, so an active job without a lock has lost its
 * worker (killed, OOM, node lost, or an event loop blocked past the lock).
 *
 * BullMQ recovers such jobs with a two-pass stall check (`moveStalledJobsToWait`): one pass marks every
 * active job in `:stalled`, a later pass (at most once per `stalledInterval` queue-wide, throttled by
 * `:stalled-check`) requeues the marked ones whose lock is gone. That takes up to two intervals after the
 * lock expired, and an exit-mode worker is gone long before. `markOrphans` finds orphans at once and
 * prepares BullMQ's own pass to take them now (marks them, lifts the throttle), so `runStallPass` then
 * requeues them with BullMQ's semantics unchanged: the `stalled` event, the `MAX_STALLED_COUNT` count
 * (`stc`) and failing past it (marked `defa`, failed by the next worker that takes it).
 */
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { isCluster, queueKeys } from './keys.js';

// KEYS: active, stalled, stalled-check, throttle. ARGV: job key prefix, throttle ms (0 = none), max ids.
// Returns the orphans' ids, or false when another worker scanned within the throttle window.
const MARK_ORPHANS = `
if tonumber(ARGV[2]) > 0 then
  if not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[2]) then return false end
end
local ids = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1)
local orphans = {}
for _, id in ipairs(ids) do
  if redis.call('EXISTS', ARGV[1] .. id .. ':lock') == 0 then
    redis.call('SADD', KEYS[2], id)
    orphans[#orphans + 1] = id
  end
end
if #orphans > 0 then redis.call('DEL', KEYS[3]) end
return orphans
`;

/** Active jobs scanned per call: the active list holds one entry per running job of every worker. */
const MAX_SCANNED = 10_000;

export interface OrphanScan {
  /** Ids of active jobs without a lock, now marked for BullMQ's next stall pass; [] when none. */
  orphans: string[];
  /** False when another worker scanned the queue within the throttle window (nothing was read). */
  scanned: boolean;
}

/** BullMQ's key of the set its stall pass reads, and of the throttle of that pass, for one queue. */
export function stallKeys(jobPrefix: string): { stalled: string; stalledCheck: string } {
  return { stalled: `${jobPrefix}stalled`, stalledCheck: `${jobPrefix}stalled-check` };
}

/** BullMQ's lock key of a job: present (holding the worker's token) while a worker runs it. */
export function lockKey(jobPrefix: string, jobId: string): string {
  return `${jobPrefix}${jobId}:lock`;
}

/** BullMQ's one stall pass (the body of its stall-check loop): `private` in its typings, a plain method. */
interface StallCheck {
  moveStalledJobsToWait(): Promise<void>;
}

/**
 * Runs BullMQ's stall pass of `worker` now and resolves when it is done: it requeues (emitting
 * `stalled` per job) or fails past `maxStalledCount` the jobs `markOrphans` marked.
 * @example if ((await markOrphans(redis, 'bull', 'jobs')).orphans.length) await runStallPass(worker);
 */
export function runStallPass(worker: Worker): Promise<void> {
  return (worker as unknown as StallCheck).moveStalledJobsToWait();
}

/**
 * Finds orphans of `queue` and marks them so that the next `runStallPass(worker)` requeues them.
 * With `throttleMs` > 0 at most one caller per queue scans per window (every worker of a queue may call it).
 * @example const { orphans } = await markOrphans(redis, 'bull', 'jobs'); if (orphans.length) await runStallPass(worker);
 */
export async function markOrphans(
  redis: Redis,
  prefix: string,
  queue: string,
  throttleMs = 0,
): Promise<OrphanScan> {
  const k = queueKeys(prefix, queue, isCluster(redis));
  const stall = stallKeys(k.job);
  const result = (await redis.eval(
    MARK_ORPHANS,
    4,
    k.active,
    stall.stalled,
    stall.stalledCheck,
    k.orphanScan,
    k.job,
    String(throttleMs),
    String(MAX_SCANNED),
  )) as string[] | null;
  return result === null ? { orphans: [], scanned: false } : { orphans: result, scanned: true };
}

/**
 * Claims: which job a one-job-per-pod worker holds, filed under its Kubernetes Job's name, so that the
 * replacement pod of a killed one (same Job, new pod) can take that job back at once instead of waiting
 * for the lock to expire. The claim holds the lock token, so only a lock still held by the dead pod is
 * released, never one a live worker took since.
 */
const claimKey = (redis: Redis, prefix: string, queue: string, owner: string) =>
  `${queueKeys(prefix, queue, isCluster(redis)).claim}${owner}`;

/** How long a claim is kept at most (a settled job's claim is deleted at once): longer than a Job runs. */
const CLAIM_TTL_SECONDS = 24 * 3600;

/** Records that `owner` (a Kubernetes Job's name) now runs `jobId` under lock `token`. */
export async function recordClaim(
  redis: Redis,
  prefix: string,
  queue: string,
  owner: string,
  jobId: string,
  token: string,
): Promise<void> {
  await redis.set(claimKey(redis, prefix, queue, owner), `${token}|${jobId}`, 'EX', CLAIM_TTL_SECONDS);
}

// KEYS: claim. ARGV: job key prefix. Deletes the claimed job's lock if it still carries the claim's token.
const RELEASE_CLAIM = `
local claim = redis.call('GET', KEYS[1])
if not claim then return false end
redis.call('DEL', KEYS[1])
local sep = string.find(claim, '|', 1, true)
local token, id = string.sub(claim, 1, sep - 1), string.sub(claim, sep + 1)
local lock = ARGV[1] .. id .. ':lock'
if redis.call('GET', lock) == token then
  redis.call('DEL', lock)
  return id
end
return false
`;

/**
 * Called by the replacement pod of `owner` at start: if its predecessor's job still holds the
 * predecessor's lock, the lock is deleted, which makes the job an orphan for `markOrphans`.
 * Resolves to that job's id, or undefined.
 */
export async function releaseClaim(
  redis: Redis,
  prefix: string,
  queue: string,
  owner: string,
): Promise<string | undefined> {
  const id = (await redis.eval(
    RELEASE_CLAIM,
    1,
    claimKey(redis, prefix, queue, owner),
    queueKeys(prefix, queue, isCluster(redis)).job,
  )) as string | null;
  return id ?? undefined;
}
