/** Redis down or hung, or the API shutting down: 503 + Retry-After within the bound, never a 202. */
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { freePort, startRedisServer } from '../helpers/redis-server.js';
import { AUTH, expectError, testApp } from './app-fixture.js';

const json = { ...AUTH, 'content-type': 'application/json' };

describe('Redis unavailable', () => {
  it('503 with Retry-After, fast, and nothing stored; /readyz 503; /healthz 200', async () => {
    const t = useTestQueue();
    const port = await freePort();
    const app = await testApp({ ...t, redisUrl: `redis://127.0.0.1:${port}`, requestTimeoutMs: 2000 });
    for (const req of [
      { method: 'POST', url: '/jobs', headers: json, payload: { type: 'work' } },
      { method: 'POST', url: '/jobs/batch', headers: json, payload: { jobs: [{ type: 'work' }] } },
      { method: 'POST', url: '/', headers: AUTH },
      { method: 'GET', url: '/jobs/1', headers: AUTH },
      { method: 'DELETE', url: '/jobs/1', headers: AUTH },
      { method: 'GET', url: '/queues', headers: AUTH },
      { method: 'POST', url: `/queues/${t.queue}/pause`, headers: AUTH },
    ] as const) {
      const started = Date.now();
      const res = await app.inject(req);
      expectError(res, 503, 'REDIS_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('1');
      // The bound is REQUEST_TIMEOUT_MS (2 s here), with margin for a loaded machine.
      expect(Date.now() - started).toBeLessThan(4000);
    }
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: AUTH });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('kq_redis_up 0');
    expect(metrics.body).not.toContain('kq_queue_backlog{');
    await app.close();
  });
});

describe('Redis hangs', () => {
  it('a request is cut off at REQUEST_TIMEOUT_MS with 503, never left hanging', async () => {
    const redis = await startRedisServer();
    const c = redis.client();
    try {
      const t = useTestQueue();
      const app = await testApp({ ...t, redisUrl: redis.url, requestTimeoutMs: 1000 });
      expect((await app.inject({ method: 'GET', url: '/queues', headers: AUTH })).statusCode).toBe(200);
      await c.client('PAUSE', 4000, 'ALL');
      const started = Date.now();
      const res = await app.inject({
        method: 'POST',
        url: '/jobs',
        headers: json,
        payload: { type: 'work' },
      });
      const took = Date.now() - started;
      expectError(res, 503, 'REDIS_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('1');
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(3500);
      await app.close();
    } finally {
      c.disconnect();
      await redis.stop();
    }
  });
});

describe('shutting down', () => {
  it('answers 503 SHUTTING_DOWN with Retry-After once close has begun (jobs and /readyz)', async () => {
    const t = useTestQueue();
    for (const [method, url] of [
      ['POST', '/jobs'],
      ['GET', '/readyz'],
    ] as const) {
      const app = await testApp(t);
      const closing = app.close();
      const payload = method === 'POST' ? { type: 'work' } : undefined;
      const res = await app.inject({ method, url, headers: json, payload });
      expectError(res, 503, 'SHUTTING_DOWN');
      expect(res.headers['retry-after']).toBe('1');
      expect(res.headers.connection).toBe('close');
      await closing;
    }
    expect(await t.bull.getWaitingCount()).toBe(0);
  });
});
