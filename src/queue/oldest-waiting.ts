/**
 * The age of the oldest job waiting in a queue, in two small reads: BullMQ pushes new jobs on the left
 * of `:wait` and workers take from the right, so the tail (`LINDEX -1`) is the job waiting longest; its
 * hash holds when it was added (`timestamp`) and its `delay`, so a delayed job counts from when it was
 * due. Prioritized jobs are not looked at (a ZSET ordered by priority, not age). Queues are read one by
 * one, in parallel: a Redis Cluster keeps each queue in a slot of its own.
 */
import type { Redis } from 'ioredis';
import { jobKey } from './job-keys.js';
import { isCluster, queueKeys } from './keys.js';

/** Seconds the oldest waiting job has waited; 0 when `:wait` is empty. @example await readOldestWaitingAge(redis, 'bull', 'jobs') */
export async function readOldestWaitingAge(
  redis: Redis,
  prefix: string,
  queue: string,
  nowMs = Date.now(),
): Promise<number> {
  const cluster = isCluster(redis);
  const id = await redis.lindex(queueKeys(prefix, queue, cluster).wait, -1);
  if (!id) return 0;
  const [timestamp, delay] = await redis.hmget(jobKey(prefix, queue, id, cluster), 'timestamp', 'delay');
  // Taken and removed between the two reads: nothing is waiting that long any more.
  if (!timestamp) return 0;
  const readyAt = Number(timestamp) + (Number(delay) || 0);
  return Math.max(0, (nowMs - readyAt) / 1000);
}
