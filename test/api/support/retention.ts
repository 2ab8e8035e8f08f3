/**
 * Runs `n` no-op jobs through the API (`POST /jobs/batch`, default job options) and a real `kq worker`,
 * then the same jobs through plain BullMQ (`addBulk` + a `Worker`), each under its own key prefix, and
 * returns both key sets in a comparable shape: the queue name and job ids replaced by placeholders.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { expect, inject, onTestFinished } from 'vitest';
import { DEFAULT_JOB_OPTIONS } from '../../../src/jobs/define-job.js';
import { uniqueName } from '../../helpers/context.js';
import { spawnKq } from '../../helpers/kq-process.js';
import { waitFor } from '../../helpers/wait.js';
import { AUTH, testApp } from '../app-fixture.js';

export interface KeyShapes {
  /** Shape -> how many keys have it (`<job>` for a job's hash). */
  shapes: Map<string, number>;
  /** Keys under the prefix that are outside the queue's namespace. */
  outside: string[];
}

const TIMING_KEYS = new Set(['stalled-check', 'marker']);

async function shapesOf(redis: Redis, prefix: string, queue: string, jobId: RegExp): Promise<KeyShapes> {
  const keys = await redis.keys(`${prefix}:*`);
  const base = `${prefix}:${queue}:`;
  const shapes = new Map<string, number>();
  const outside: string[] = [];
  for (const key of keys) {
    if (!key.startsWith(base)) {
      outside.push(key.slice(prefix.length + 1));
      continue;
    }
    const shape = key.slice(base.length).replace(jobId, '<job>');
    // Queue-level keys of BullMQ's whose presence depends on timing (a TTL'd stalled-check, a marker).
    if (TIMING_KEYS.has(shape)) continue;
    shapes.set(shape, (shapes.get(shape) ?? 0) + 1);
  }
  return { shapes, outside: outside.sort() };
}

function useRedis(prefixes: string[]): Redis {
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  onTestFinished(async () => {
    for (const p of prefixes) {
      const keys = await redis.keys(`${p}:*`);
      for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
    }
    redis.disconnect();
  });
  return redis;
}

const settled = async (q: Queue, completed: number) => {
  const c = await q.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'completed', 'failed');
  const open = (c.wait ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
  return open === 0 && c.completed === completed && c.failed === 0;
};

/** Keys kq leaves after `n` jobs, and plain BullMQ's for the same jobs and options. */
export async function keysAfter(
  n: number,
  inspect?: (redis: Redis, kqPrefix: string, bullPrefix: string, queue: string) => Promise<void>,
): Promise<{ kq: KeyShapes; bullmq: KeyShapes; retained: number }> {
  const kqPrefix = uniqueName('kqret');
  const bullPrefix = uniqueName('bmret');
  const queue = uniqueName('ret');
  const redis = useRedis([kqPrefix, bullPrefix]);
  const keep = DEFAULT_JOB_OPTIONS.removeOnComplete;
  const retained = Math.min(n, typeof keep === 'object' && keep.count ? keep.count : n);
  const timeoutMs = 30_000 + n * 3;

  // kq: the API in-process, one real worker process.
  const app = await testApp({ redisUrl: inject('redisUrl'), prefix: kqPrefix, queue });
  const worker = spawnKq(['worker'], {
    REDIS_URL: inject('redisUrl'),
    KQ_PREFIX: kqPrefix,
    QUEUE: queue,
    CONCURRENCY: '50',
    HEALTH_PORT: '0',
    LOG_LEVEL: 'warn',
  });
  const kqQueue = new Queue(queue, { connection: redis, prefix: kqPrefix });
  try {
    for (let sent = 0; sent < n; sent += 1000) {
      const jobs = Array.from({ length: Math.min(1000, n - sent) }, () => ({ type: 'noop' }));
      const res = await app.inject({
        method: 'POST',
        url: '/jobs/batch',
        headers: { ...AUTH, 'content-type': 'application/json' },
        payload: { jobs },
      });
      expect(res.statusCode).toBe(202);
    }
    await waitFor(`kq: ${n} jobs completed`, () => settled(kqQueue, retained), {
      timeoutMs,
      intervalMs: 100,
    });
  } finally {
    worker.kill('SIGTERM');
    await worker.waitForExit(30_000);
    await app.close();
    await kqQueue.close();
  }

  // Plain BullMQ: the same jobs and options, its own numeric ids.
  const bullQueue = new Queue(queue, { connection: redis, prefix: bullPrefix });
  const bullWorker = new Worker(queue, async () => undefined, {
    connection: new Redis(inject('redisUrl'), { maxRetriesPerRequest: null }),
    prefix: bullPrefix,
    concurrency: 50,
  });
  try {
    for (let sent = 0; sent < n; sent += 1000) {
      const count = Math.min(1000, n - sent);
      await bullQueue.addBulk(
        Array.from({ length: count }, () => ({
          name: 'noop',
          data: {},
          opts: {
            attempts: DEFAULT_JOB_OPTIONS.attempts,
            backoff: DEFAULT_JOB_OPTIONS.backoff,
            removeOnComplete: DEFAULT_JOB_OPTIONS.removeOnComplete,
            removeOnFail: DEFAULT_JOB_OPTIONS.removeOnFail,
          },
        })),
      );
    }
    await waitFor(`BullMQ: ${n} jobs completed`, () => settled(bullQueue, retained), {
      timeoutMs,
      intervalMs: 100,
    });
  } finally {
    await bullWorker.close();
    await (bullWorker.opts.connection as Redis).quit?.();
    await bullQueue.close();
  }

  const kq = await shapesOf(
    redis,
    kqPrefix,
    queue,
    new RegExp(`^${queue.replace(/[.-]/g, '\\$&')}\\.[A-Za-z0-9_-]{16}`),
  );
  const bullmq = await shapesOf(redis, bullPrefix, queue, /^\d+/);
  await inspect?.(redis, kqPrefix, bullPrefix, queue);
  return { kq, bullmq, retained };
}

/** kq's keys are plain BullMQ's, plus the queue directory (one key per prefix, not per job). */
export function expectSameKeys({ kq, bullmq, retained }: Awaited<ReturnType<typeof keysAfter>>): void {
  expect(kq.shapes.get('<job>')).toBe(retained);
  expect(bullmq.shapes.get('<job>')).toBe(retained);
  expect(Object.fromEntries(kq.shapes)).toEqual(Object.fromEntries(bullmq.shapes));
  expect(kq.outside).toEqual(['kq:queues']);
  expect(bullmq.outside).toEqual([]);
}
