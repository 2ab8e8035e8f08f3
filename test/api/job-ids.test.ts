/** Ids that name their queue: parsed without Redis, looked up in one queue; other producers' ids still work. */
import { Queue } from 'bullmq';
import { describe, expect, it, onTestFinished } from 'vitest';
import { idempotentJobId, newJobId, parseJobId } from '../../src/queue/job-ids.js';
import { JOB_ID_RE } from '../../src/queue/job-keys.js';
import { useTestQueue } from '../helpers/context.js';
import { AUTH, testApp } from './app-fixture.js';

const json = { ...AUTH, 'content-type': 'application/json' };

describe('job id grammar', () => {
  it('splits at the last dot, so queue names with dots parse; other ids have no queue part', () => {
    const id = newJobId('my.queue-1');
    expect(id).toMatch(/^my\.queue-1\.[A-Za-z0-9_-]{16}$/);
    expect(JOB_ID_RE.test(id)).toBe(true);
    expect(parseJobId(id)).toEqual({ queue: 'my.queue-1', kqMade: true });
    const idem = idempotentJobId('a.idem-b', 'key');
    expect(idem).toMatch(/^a\.idem-b\.idem-[0-9a-f]{64}$/);
    expect(parseJobId(idem)).toEqual({ queue: 'a.idem-b', kqMade: true });
    // Longest queue name and an idempotent id still fit BullMQ's and kq's id rule.
    expect(JOB_ID_RE.test(idempotentJobId('q'.repeat(100), 'k'))).toBe(true);
    expect(parseJobId('42')).toBeUndefined();
    expect(parseJobId('3f1c2a6e-9a1b-4a53-8d5e-0c1e2f3a4b5c')).toBeUndefined();
    expect(parseJobId('.abc')).toBeUndefined();
    expect(parseJobId('kq.AAAAAAAAAAAAAAAA')).toBeUndefined();
    // A suffix one character off kq's shape: a foreign id, looked for in the declared queues too.
    expect(parseJobId('jobs.AAAAAAAAAAAAAAAAA')).toEqual({ queue: 'jobs', kqMade: false });
    expect(parseJobId('orders.invoice')).toEqual({ queue: 'orders', kqMade: false });
    expect(new Set(Array.from({ length: 1000 }, () => newJobId('q'))).size).toBe(1000);
  });
});

describe('GET /jobs/:id by an id that names its queue', () => {
  it('finds a job on an undeclared queue without ?queue, and ids of other producers via the declared queues', async () => {
    const t = useTestQueue();
    const side = `${t.queue}.side`;
    const sideQueue = new Queue(side, { connection: t.redis, prefix: t.prefix });
    onTestFinished(async () => {
      await sideQueue.close();
      const keys = await t.redis.keys(`${t.prefix}:${side}:*`);
      if (keys.length) await t.redis.del(...keys);
      await t.redis.srem(`${t.prefix}:kq:queues`, side);
    });
    const app = await testApp(t);
    const posted = await app.inject({
      method: 'POST',
      url: '/jobs',
      headers: json,
      payload: { type: 'work', queue: side },
    });
    const id = posted.json().id as string;
    expect(parseJobId(id)?.queue).toBe(side);
    const got = await app.inject({ method: 'GET', url: `/jobs/${id}`, headers: AUTH });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({ id, queue: side, status: 'waiting' });

    // BullMQ's own numeric id and a custom id that looks like `<queue>.<x>`, on the declared queue.
    const numeric = await t.bull.add('work', { ms: 0 });
    const dotted = await t.bull.add('work', { ms: 0 }, { jobId: 'elsewhere.order-7' });
    for (const foreign of [numeric.id, dotted.id] as string[]) {
      const res = await app.inject({ method: 'GET', url: `/jobs/${foreign}`, headers: AUTH });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: foreign, queue: t.queue });
    }
    // On an undeclared queue, a foreign id needs ?queue=.
    const hidden = await sideQueue.add('work', { ms: 0 });
    const miss = await app.inject({ method: 'GET', url: `/jobs/${hidden.id}`, headers: AUTH });
    expect(miss.statusCode).toBe(404);
    const hit = await app.inject({ method: 'GET', url: `/jobs/${hidden.id}?queue=${side}`, headers: AUTH });
    expect(hit.json()).toMatchObject({ id: hidden.id, queue: side });
    // DELETE parses the id the same way.
    const del = await app.inject({ method: 'DELETE', url: `/jobs/${id}`, headers: AUTH });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({ id, queue: side, status: 'cancelled' });
    // A kq-made id is looked for on its own queue only: the same suffix on another queue is not found.
    const moved = `${t.queue}.${id.slice(side.length + 1)}`;
    expect((await app.inject({ method: 'GET', url: `/jobs/${moved}`, headers: AUTH })).statusCode).toBe(404);
    await app.close();
  });
});
