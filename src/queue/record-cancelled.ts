/**
 * The write side of kq's `cancelled` count (the read is `readCounts`, counts.ts): each cancel files the
 * job's id in one of two ZSETs (`queueKeys(...).cancelledRan` / `cancelledRemoved`, keys.ts).
 */
import type { Redis } from 'ioredis';
import { isCluster, queueKeys } from './keys.js';

/** How long an id cancelled while it ran is filed: longer than `:failed` keeps it (default 7 days). */
const CANCELLED_RAN_KEEP_MS = 30 * 24 * 3600 * 1000;

/**
 * Files a cancelled job for the counts: `ran` = failed with `kq:cancelled` after it started; `removed` =
 * removed before it ran, its tombstone kept `keepSeconds`.
 * @example await recordCancelled(redis, 'bull', 'jobs', id, { ran: true })
 */
export async function recordCancelled(
  redis: Redis,
  prefix: string,
  queue: string,
  jobId: string,
  how: { ran: true } | { ran: false; keepSeconds: number },
  nowMs = Date.now(),
): Promise<void> {
  const keys = queueKeys(prefix, queue, isCluster(redis));
  const key = how.ran ? keys.cancelledRan : keys.cancelledRemoved;
  const score = how.ran ? nowMs : nowMs + how.keepSeconds * 1000;
  const stale = how.ran ? nowMs - CANCELLED_RAN_KEEP_MS : nowMs;
  await redis.multi().zremrangebyscore(key, '-inf', stale).zadd(key, score, jobId).exec();
}
