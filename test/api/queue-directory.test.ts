/**
 * Defect 1 from the outside: no keyspace scan on any request path, job lookups by id without ?queue,
 * bounded queue creation through the API, and a job on a new queue found at once.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { directoryKeys } from '../../src/queue/keys.js';
import { registerQueue } from '../../src/queue/queue-directory.js';
import { useTestQueue } from '../helpers/context.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { AUTH, expectError, testApp } from './app-fixture.js';

const json = { ...AUTH, 'content-type': 'application/json' };

/** SCAN calls Redis has served so far (INFO commandstats). */
async function scans(redis: { info(section: string): Promise<string> }): Promise<number> {
  const m = /cmdstat_scan:calls=(\d+)/.exec(await redis.info('commandstats'));
  return m ? Number(m[1]) : 0;
}

describe('queue directory through the API', () => {
  it('never scans the keyspace on a request, and finds a job on a new queue at once', async () => {
    const server = await startRedisServer();
    onTestFinished(() => server.stop());
    const redis = server.client();
    onTestFinished(() => redis.disconnect());
    const t = useTestQueue(server.url);
    const app = await testApp({ ...t, maxQueues: 50 });
    const before = await scans(redis);
    const posted = await app.inject({
      method: 'POST',
      url: '/jobs',
      headers: json,
      payload: { type: 'work', queue: 'brand-new', data: { ms: 1 } },
    });
    expect(posted.statusCode).toBe(202);
    const { id } = posted.json();
    // At once, without ?queue (the job-id index), and without any SCAN.
    const found = await app.inject({ method: 'GET', url: `/jobs/${id}`, headers: AUTH });
    expect(found.statusCode).toBe(200);
    expect(found.json()).toMatchObject({ id, queue: 'brand-new', status: 'waiting' });
    const queues = await app.inject({ method: 'GET', url: '/queues', headers: AUTH });
    expect(queues.json().queues.map((q: { queue: string }) => q.queue)).toContain('brand-new');
    expect((await app.inject({ method: 'GET', url: '/queues/brand-new', headers: AUTH })).statusCode).toBe(
      200,
    );
    expect((await app.inject({ method: 'GET', url: '/metrics', headers: AUTH })).body).toMatch(
      /kq_queue_backlog\{queue="brand-new"\} 1/,
    );
    expect((await app.inject({ method: 'GET', url: '/jobs/nope', headers: AUTH })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: `/jobs/${id}`, headers: AUTH })).statusCode).toBe(200);
    expect(await scans(redis)).toBe(before);
    await app.close();
  });

  it('bounds queue creation: junk queues cannot hide real ones, which stay reachable', async () => {
    const t = useTestQueue();
    const app = await testApp({ ...t, prefix: `p${t.queue}`, maxQueues: 20 });
    onTestFinished(async () => {
      const keys = await t.redis.keys(`p${t.queue}:*`);
      if (keys.length) await t.redis.del(...keys);
    });
    const real = await app.inject({
      method: 'POST',
      url: '/jobs',
      headers: json,
      payload: { type: 'work', queue: 'real', data: { ms: 1 } },
    });
    expect(real.statusCode).toBe(202);
    // The attack: batches of one-job queues. The registry stops at MAX_QUEUES; nothing past it is stored.
    const junk = await app.inject({
      method: 'POST',
      url: '/jobs/batch',
      headers: json,
      payload: { jobs: Array.from({ length: 100 }, (_, i) => ({ type: 'work', queue: `junk-${i}` })) },
    });
    const err = expectError(junk, 422, 'QUEUE_LIMIT_REACHED');
    expect(err.message).toMatch(/MAX_QUEUES \(20/);
    expect(await t.redis.scard(directoryKeys(`p${t.queue}`).queues)).toBeLessThanOrEqual(20);
    const realId = real.json().id;
    expect((await app.inject({ method: 'GET', url: `/jobs/${realId}`, headers: AUTH })).statusCode).toBe(200);
    const paused = await app.inject({ method: 'POST', url: '/queues/real/pause', headers: AUTH });
    expect(paused.json()).toMatchObject({ queue: 'real', paused: true });
    expect((await app.inject({ method: 'DELETE', url: `/jobs/${realId}`, headers: AUTH })).statusCode).toBe(
      200,
    );
    await app.close();
  });

  it('with QUEUE_PATTERN=none only job types’ and registered queues take jobs', async () => {
    const t = useTestQueue();
    const app = await testApp({ ...t, queuePattern: null });
    const refused = await app.inject({
      method: 'POST',
      url: '/jobs',
      headers: json,
      payload: { type: 'work', queue: `${t.queue}-other` },
    });
    expect(expectError(refused, 422, 'QUEUE_NOT_ALLOWED').message).toMatch(/kq queues register/);
    await registerQueue(t.redis, t.prefix, `${t.queue}-other`);
    onTestFinished(async () => {
      await t.redis.srem(directoryKeys(t.prefix).queues, `${t.queue}-other`);
    });
    const ok = await app.inject({
      method: 'POST',
      url: '/jobs',
      headers: json,
      payload: { type: 'work', queue: `${t.queue}-other` },
    });
    expect(ok.statusCode).toBe(202);
    await t.redis.del(...(await t.redis.keys(`${t.prefix}:${t.queue}-other:*`)));
    await app.close();
  });
});
