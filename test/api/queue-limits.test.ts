/**
 * GET /queues/<name> (and its OpenAPI entry) shows the queue's limits: what BullMQ enforces, read from Redis where the workers
 * stored it at start, and what the API's own handlers module declares (defineQueue).
 */
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '../../src/jobs/define-job.js';
import { defineQueue } from '../../src/jobs/define-queue.js';
import { createRegistry } from '../../src/jobs/registry.js';
import { useTestQueue } from '../helpers/context.js';
import { spawnKq } from '../helpers/kq-process.js';
import { AUTH, testApp } from './app-fixture.js';

const HANDLERS = resolve(import.meta.dirname, '../fixtures/limits-handlers.mjs');

it('GET /queues/:name: limits stored by a worker (its flags win) and those the API module declares', async () => {
  const t = useTestQueue();
  const jobs = createRegistry(
    [defineJob({ name: 'stamp', queue: t.queue, schema: z.object({}), handler: () => null })],
    [defineQueue({ name: t.queue, rateLimit: { max: 2, durationMs: 1000 } })],
  );
  const app = await testApp({ redisUrl: t.redisUrl, queue: t.queue, jobs });
  const get = async () => {
    const res = await app.inject({ method: 'GET', url: `/queues/${t.queue}`, headers: AUTH });
    expect(res.statusCode).toBe(200);
    return res.json() as { waiting: number; limits: unknown };
  };
  const openapi = (await app.inject({ method: 'GET', url: '/openapi.json', headers: AUTH })).json();
  const ok = openapi.paths['/queues/{name}'].get.responses['200'].content['application/json'].schema;
  expect(Object.keys(ok.properties.limits.properties)).toEqual([
    'rateLimit',
    'globalConcurrency',
    'declared',
  ]);
  const declared = { rateLimit: { max: 2, durationMs: 1000 }, globalConcurrency: null };
  expect((await get()).limits).toEqual({ rateLimit: null, globalConcurrency: null, declared });

  const w = spawnKq(
    ['worker', '--global-concurrency', '3', '--rate-limit-max', '5'],
    { REDIS_URL: t.redisUrl, QUEUE: t.queue, HEALTH_PORT: '0', HANDLERS },
    `worker (${t.queue})`,
  );
  try {
    await w.waitForLog('started', (l) => l.event === 'worker.started');
    const body = await get();
    expect(body.waiting).toBe(0);
    expect(body.limits).toEqual({ rateLimit: { max: 5, durationMs: 1000 }, globalConcurrency: 3, declared });
  } finally {
    w.kill();
    expect((await w.waitForExit()).code).toBe(0);
    await app.close();
  }
});
