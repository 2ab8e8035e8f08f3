/** In-process API for tests: `buildApp` on the test Redis, closed by the leak guard if a test forgets. */
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { type AppOptions, buildApp } from '../../src/api/app.js';
import { demoJobs } from '../../src/jobs/demo.js';
import { createRegistry, type JobRegistry, loadRegistry } from '../../src/jobs/registry.js';
import { track } from '../helpers/leak-guard.js';

export const TOKEN = 'test-token-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${TOKEN}` };
export const HANDLERS = resolve(import.meta.dirname, '../fixtures/handlers.mjs');

/** The fixture job types (test/fixtures/handlers.mjs) plus the demo ones, all on `queue`. */
export async function fixtureJobs(queue: string): Promise<JobRegistry> {
  const fixtures = await loadRegistry(HANDLERS);
  const all = [...fixtures.all, ...demoJobs].map((d) => ({ ...d, queue }));
  return createRegistry(all);
}

export async function testApp(
  o: Partial<AppOptions> & { redisUrl: string; prefix?: string; queue: string },
): Promise<FastifyInstance> {
  const app = await buildApp({
    tokens: [TOKEN],
    jobs: o.jobs ?? (await fixtureJobs(o.queue)),
    ...o,
  });
  let closed = false;
  app.addHook('onClose', async () => {
    closed = true;
  });
  return track(
    'in-process API',
    app,
    () => !closed,
    (a) => a.close(),
  );
}

/** Asserts kq's error shape with `status` and `code`; returns the error object for more checks. */
export function expectError(
  res: { statusCode: number; json(): unknown },
  status: number,
  code: string,
): Record<string, unknown> {
  expect(res.statusCode).toBe(status);
  const body = res.json() as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(10);
  return body.error as Record<string, unknown>;
}
