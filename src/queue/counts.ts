/**
 * Queue counts read straight from BullMQ's keys in one pipelined round trip. `backlog` = waiting +
 * prioritized + active is the number autoscalers should scale on: it counts jobs a list-length trigger
 * on `:wait` alone misses (prioritized ones, and running ones, which still need a worker).
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
  failed: number;
  /** waiting + prioritized + active */
  backlog: number;
  paused: boolean;
}

export const COUNT_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;

function pipelineResults(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error('Redis pipeline returned no results');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/** @example const c = await readCounts(redis, 'bull', 'jobs'); c.backlog */
export async function readCounts(redis: Redis, prefix: string, queue: string): Promise<QueueCounts> {
  const k = queueKeys(prefix, queue, isCluster(redis));
  const [waiting, prioritized, delayed, active, completed, failed, paused] = pipelineResults(
    await redis
      .pipeline()
      .llen(k.wait)
      .zcard(k.prioritized)
      .zcard(k.delayed)
      .llen(k.active)
      .zcard(k.completed)
      .zcard(k.failed)
      .hexists(k.meta, 'paused')
      .exec(),
  ) as number[];
  const c = { waiting, prioritized, delayed, active, completed, failed } as Record<string, number>;
  return {
    ...(c as Omit<QueueCounts, 'backlog' | 'paused'>),
    backlog: (waiting ?? 0) + (prioritized ?? 0) + (active ?? 0),
    paused: paused === 1,
  };
}

export interface Runnable {
  /** Jobs a worker could take right now: waiting + prioritized + delayed jobs already due. */
  runnable: number;
  paused: boolean;
}

/** What exit-when-empty asks: is there anything a worker of this queue could start now? */
export async function readRunnable(
  redis: Redis,
  prefix: string,
  queue: string,
  nowMs = Date.now(),
): Promise<Runnable> {
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
  return { runnable: (waiting ?? 0) + (prioritized ?? 0) + (due ?? 0), paused: paused === 1 };
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
