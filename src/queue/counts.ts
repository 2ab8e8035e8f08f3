/**
 * Queue counts read straight from BullMQ's keys in one pipelined round trip. `backlog` = waiting +
 * prioritized + active is the number autoscalers should scale on: it counts jobs a list-length trigger
 * on `:wait` alone misses (prioritized ones, and running ones, which still need a worker).
 *
 * `cancelled` is kq's, not BullMQ's (which has no such state): a job cancelled while it ran sits in
 * BullMQ's `:failed` with reason `kq:cancelled`, one cancelled before it ran was removed. kq files the id
 * in one of two ZSETs when it cancels (`recordCancelled`, record-cancelled.ts), and the counts take the first's members still
 * in `:failed` out of `failed` (`ZINTERCARD`, so BullMQ's trimming of `:failed` is followed exactly) and
 * the second's unexpired entries (score = expiry, as the job's tombstone) as cancelled.
 */
import type { Redis } from 'ioredis';
import {
  dueDelayedMaxScore,
  isCluster,
  kqQueueName,
  metaKeyPattern,
  queueKeys,
  queueNameFromMetaKey,
} from './keys.js';

export interface QueueCounts {
  waiting: number;
  prioritized: number;
  delayed: number;
  active: number;
  completed: number;
  /** Failed for good, cancelled jobs not included. */
  failed: number;
  /** Cancelled by request, before or while they ran. */
  cancelled: number;
  /**
   * waiting + prioritized + active: `backlog` in `GET /queues` and `kq_queue_backlog`. Not
   * `RunnableBacklog.runnableAndRunning` (runnable-backlog.ts), which KEDA's scaler reads.
   */
  backlog: number;
  paused: boolean;
}

export const COUNT_STATES = [
  'waiting',
  'prioritized',
  'delayed',
  'active',
  'completed',
  'failed',
  'cancelled',
] as const;

function pipelineResults(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error('Redis pipeline returned no results');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/** @example const c = await readCounts(redis, 'bull', 'jobs'); c.backlog */
export async function readCounts(
  redis: Redis,
  prefix: string,
  queue: string,
  nowMs = Date.now(),
): Promise<QueueCounts> {
  const k = queueKeys(prefix, queue, isCluster(redis));
  const [waiting, prioritized, delayed, active, completed, failedAll, paused, ran, removed] = pipelineResults(
    await redis
      .pipeline()
      .llen(k.wait)
      .zcard(k.prioritized)
      .zcard(k.delayed)
      .llen(k.active)
      .zcard(k.completed)
      .zcard(k.failed)
      .hexists(k.meta, 'paused')
      .zintercard(2, k.failed, k.cancelledRan)
      .zcount(k.cancelledRemoved, `(${nowMs}`, '+inf')
      .exec(),
  ) as number[];
  const failed = (failedAll ?? 0) - (ran ?? 0);
  const cancelled = (ran ?? 0) + (removed ?? 0);
  const c = { waiting, prioritized, delayed, active, completed, failed, cancelled } as Record<string, number>;
  return {
    ...(c as Omit<QueueCounts, 'backlog' | 'paused'>),
    backlog: (waiting ?? 0) + (prioritized ?? 0) + (active ?? 0),
    paused: paused === 1,
  };
}

export interface Startable {
  /**
   * Jobs a worker could take right now: waiting + prioritized + delayed jobs already due (pause not
   * applied, running and orphaned jobs not counted: unlike `RunnableBacklog`, runnable-backlog.ts).
   */
  startable: number;
  paused: boolean;
}

/** What exit-when-empty asks: is there anything a worker of this queue could start now? */
export async function readStartable(
  redis: Redis,
  prefix: string,
  queue: string,
  nowMs = Date.now(),
): Promise<Startable> {
  const k = queueKeys(prefix, queue, isCluster(redis));
  const [waiting, prioritized, due, paused] = pipelineResults(
    await redis
      .pipeline()
      .llen(k.wait)
      .zcard(k.prioritized)
      .zcount(k.delayed, 0, dueDelayedMaxScore(nowMs))
      .hexists(k.meta, 'paused')
      .exec(),
  ) as number[];
  return { startable: (waiting ?? 0) + (prioritized ?? 0) + (due ?? 0), paused: paused === 1 };
}

/** Names of the queues under `prefix` that exist in Redis, sorted. Bounded: at most `limit` names. */
export async function listQueueNames(redis: Redis, prefix: string, limit = 1000): Promise<string[]> {
  const names = new Set<string>();
  let cursor = '0';
  let rounds = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', metaKeyPattern(prefix), 'COUNT', 1000);
    for (const key of keys) names.add(kqQueueName(queueNameFromMetaKey(prefix, key)));
    cursor = next;
    rounds++;
  } while (cursor !== '0' && names.size < limit && rounds < 10_000);
  return [...names].sort().slice(0, limit);
}
