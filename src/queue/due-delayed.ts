/**
 * Delayed jobs whose time has come: retries in backoff and jobs added with a delay. BullMQ moves them to
 * `wait` only from inside a fetching worker, so where no worker fetches (a ScaledJob that starts pods on
 * the wait list's length) they stay in `delayed`; `promoteDue` moves them with BullMQ's own `promote`.
 */
import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { dueDelayedMaxScore, isCluster, queueKeys } from './keys.js';

/** Ids of `queue`'s delayed jobs due at `nowMs`, earliest first, at most `limit`. */
export async function dueDelayedIds(
  redis: Redis,
  prefix: string,
  queue: string,
  nowMs: number,
  limit = 1000,
): Promise<string[]> {
  const k = queueKeys(prefix, queue, isCluster(redis));
  return redis.zrangebyscore(k.delayed, 0, String(dueDelayedMaxScore(nowMs)), 'LIMIT', 0, limit);
}

/**
 * Moves every due delayed job of `bull` to `wait` (or `prioritized`); resolves to how many moved. A job
 * that stopped being delayed meanwhile (a worker promoted or removed it) is skipped.
 * @example await promoteDue(redis, bullQueue, 'bull', 'jobs', Date.now())
 */
export async function promoteDue(
  redis: Redis,
  bull: Queue,
  prefix: string,
  queue: string,
  nowMs: number,
): Promise<number> {
  let moved = 0;
  for (const id of await dueDelayedIds(redis, prefix, queue, nowMs)) {
    const job = await Job.fromId(bull, id);
    if (!job) continue;
    try {
      await job.promote();
      moved++;
    } catch {
      // No longer delayed: nothing to do.
    }
  }
  return moved;
}
