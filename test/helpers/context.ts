/**
 * Per-test Redis context: the run's shared private redis-server (see global-setup), a unique queue name,
 * a client, and cleanup of every key of that queue afterwards.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { inject, onTestFinished } from 'vitest';

export interface TestContext {
  redisUrl: string;
  prefix: string;
  queue: string;
  redis: Redis;
  /** A BullMQ Queue on the test's queue (closed for you). */
  bull: Queue;
}

export function uniqueName(stem = 'q'): string {
  return `${stem}-${randomBytes(4).toString('hex')}`;
}

/** Call inside a test: gives a fresh queue and cleans it up when the test finishes. */
export function useTestQueue(redisUrl = inject('redisUrl'), prefix = 'bull'): TestContext {
  const queue = uniqueName('t');
  // Closed by the cleanup below (which runs after the leak guard's afterEach), so not tracked.
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const bull = new Queue(queue, { connection: redis, prefix });
  onTestFinished(async () => {
    await bull.close();
    const keys = await redis.keys(`${prefix}:${queue}:*`).catch(() => [] as string[]);
    if (keys.length) await redis.del(...keys).catch(() => undefined);
    redis.disconnect();
  });
  return { redisUrl, prefix, queue, redis, bull };
}
