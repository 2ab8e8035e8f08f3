/** Shared bits of the worker tests: spawn a worker on the test queue with the test fixtures. */
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import type { TestContext } from '../helpers/context.js';
import { type KqProcess, spawnKq } from '../helpers/kq-process.js';

export const FIXTURES = resolve(import.meta.dirname, '../fixtures/handlers.mjs');

export function spawnWorker(t: TestContext, env: Record<string, string> = {}, name = 'worker'): KqProcess {
  return spawnKq(
    ['worker'],
    { REDIS_URL: t.redisUrl, QUEUE: t.queue, HEALTH_PORT: '0', HANDLERS: FIXTURES, ...env },
    `${name} (${t.queue})`,
  );
}

/** Runs recorded by the fixtures: `<jobId>:<pid>:<attempt>` entries. */
export async function runs(redis: Redis, queue: string, what: 'started' | 'done'): Promise<string[]> {
  return redis.lrange(`kqtest:${queue}:${what}`, 0, -1);
}

export async function cleanupRuns(redis: Redis, queue: string): Promise<void> {
  await redis.del(`kqtest:${queue}:started`, `kqtest:${queue}:done`);
}
