/** Defects 6 and 7: priority bounds that match BullMQ, docs examples a user would send, batch replays. */
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { AUTH, expectError, testApp } from './app-fixture.js';

const json = { ...AUTH, 'content-type': 'application/json' };

describe('priority', () => {
  it('accepts BullMQ’s maximum 2097151 and refuses 2097152 with a 400 naming the field', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const post = (priority: number) =>
      app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { type: 'noop', priority } });
    const ok = await post(2_097_151);
    expect(ok.statusCode).toBe(202);
    expect((await t.bull.getJob(ok.json().id))?.opts.priority).toBe(2_097_151);
    const err = expectError(await post(2_097_152), 400, 'INVALID_REQUEST');
    expect(err.message).toMatch(/priority/);
    await app.close();
  });

  it('/docs "Try it out" sends a request a user would send, and it is accepted', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json', headers: AUTH })).json();
    const schema = doc.paths['/jobs'].post.requestBody.content['application/json'].schema;
    expect(schema.example).toBeDefined();
    expect(Object.keys(schema.example).sort()).toEqual(['data', 'type']);
    const res = await app.inject({ method: 'POST', url: '/jobs', headers: json, payload: schema.example });
    expect(res.statusCode).toBe(202);
    expect(res.json().queue).toBe(t.queue);
    await app.close();
  });
});

describe('batch idempotency, item by item', () => {
  it('items sharing a key name one job; replays report the job’s real status', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const batch = (jobs: unknown[]) =>
      app.inject({ method: 'POST', url: '/jobs/batch', headers: json, payload: { jobs } });
    const first = await batch([
      { type: 'noop', idempotencyKey: 'same' },
      { type: 'noop', idempotencyKey: 'same' },
      { type: 'noop' },
    ]);
    expect(first.statusCode).toBe(202);
    const [a, b, c] = first.json().jobs;
    expect(a).toMatchObject({ replayed: false, status: 'waiting' });
    expect(b).toMatchObject({ id: a.id, replayed: true });
    expect(c).toMatchObject({ replayed: false });
    expect(await t.bull.getWaitingCount()).toBe(2);
    // The job finishes (moved as a worker would, without running one); a replay in a batch says so.
    await t.redis.hset(`${t.prefix}:${t.queue}:${a.id}`, 'finishedOn', String(Date.now()));
    await t.redis.lrem(`${t.prefix}:${t.queue}:wait`, 0, a.id);
    await t.redis.zadd(`${t.prefix}:${t.queue}:completed`, Date.now(), a.id);
    const again = (await batch([{ type: 'noop', idempotencyKey: 'same' }])).json().jobs[0];
    expect(again).toMatchObject({ id: a.id, replayed: true, status: 'completed' });
    expect(await t.bull.getWaitingCount()).toBe(1);
    await app.close();
  });
});
