/**
 * What the autoscalers read from Redis, read the way each reads it: KEDA's redis scaler takes a key's
 * length by its type (LIST LLEN, ZSET ZCARD, SET SCARD, HASH HLEN, missing 0); the HPA approaches read
 * `kq_queue_backlog` (waiting + prioritized + active), and see it as late as their pipeline makes them:
 * Prometheus holds the value of its last scrape, kq's adapter caches it for a moment.
 */
import type { Redis } from 'ioredis';
import { readCounts } from '../queue/counts.js';
import { readRunnableBacklog } from '../queue/runnable-backlog.js';
import type { QueueSource } from './controllers/controller.js';

/** @example await keyLength(redis, 'bull:jobs:wait') */
export async function keyLength(redis: Redis, key: string): Promise<number> {
  const type = await redis.type(key);
  if (type === 'list') return redis.llen(key);
  if (type === 'zset') return redis.zcard(key);
  if (type === 'set') return redis.scard(key);
  if (type === 'hash') return redis.hlen(key);
  return 0;
}

export async function backlog(redis: Redis, prefix: string, queue: string): Promise<number> {
  return (await readCounts(redis, prefix, queue)).backlog;
}

/** The real engine's source: every read is a read of Redis. @example redisQueueSource(redis) */
export function redisQueueSource(redis: Redis): QueueSource {
  return {
    keyLength: (key) => keyLength(redis, key),
    backlog: (prefix, queue) => backlog(redis, prefix, queue),
    runnableBacklog: (prefix, queue) => readRunnableBacklog(redis, prefix, queue),
  };
}

export interface SampledMetric {
  /** The value the consumer sees at `now`: the last sample taken at or before it. */
  read(now: number): Promise<number>;
}

/**
 * A metric refreshed every `periodMs` of workload time (a scrape interval, a cache lifetime); 0 = read
 * live on every call. A failed read keeps the previous value, as a scraper keeps the last good series.
 */
export function sampledMetric(periodMs: number, read: () => Promise<number>): SampledMetric {
  let value = 0;
  let takenAt = Number.NEGATIVE_INFINITY;
  return {
    async read(now) {
      if (periodMs <= 0 || now - takenAt >= periodMs) {
        takenAt = periodMs > 0 ? Math.floor(now / periodMs) * periodMs : now;
        value = await read().catch(() => value);
      }
      return value;
    },
  };
}
