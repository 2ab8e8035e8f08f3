import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { AUTH, testApp } from './app-fixture.js';

const json = { ...AUTH, 'content-type': 'application/json' };

describe('POST /jobs', () => {
  it('answers 202 with id and Location only once the job is stored', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const res = await app.inject({
      method: 'POST',
      url: '/jobs',
      headers: json,
      payload: { type: 'work', data: { ms: 5 } },
    });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({ type: 'work', queue: t.queue, status: 'waiting' });
    expect(body.id).toMatch(new RegExp(`^${t.queue}\\.[A-Za-z0-9_-]{16}$`));
    expect(res.headers.location).toBe(`/jobs/${body.id}`);
    const job = await t.bull.getJob(body.id);
    expect(job?.data).toEqual({ ms: 5, ignoreSignal: false });
    expect(await job?.getState()).toBe('waiting');
    await app.close();
  });

  it('applies delay, priority and attempts', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const delayed = await app.inject({
      method: 'POST',
      url: '/jobs',
      headers: json,
      payload: { type: 'work', delay: 60_000, attempts: 7 },
    });
    expect(delayed.statusCode).toBe(202);
    expect(delayed.json().status).toBe('delayed');
    const job = await t.bull.getJob(delayed.json().id);
    expect(await job?.getState()).toBe('delayed');
    expect(job?.opts.attempts).toBe(7);
    const prio = await app.inject({
      method: 'POST',
      url: '/jobs',
      headers: json,
      payload: { type: 'work', priority: 3 },
    });
    expect(await (await t.bull.getJob(prio.json().id))?.getState()).toBe('prioritized');
    const got = await app.inject({ method: 'GET', url: `/jobs/${prio.json().id}`, headers: AUTH });
    expect(got.json().status).toBe('waiting');
    await app.close();
  });

  it('returns the same id for the same Idempotency-Key and stores nothing new', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const send = () =>
      app.inject({
        method: 'POST',
        url: '/jobs',
        headers: { ...json, 'idempotency-key': 'order-42' },
        payload: { type: 'work', data: { ms: 1 } },
      });
    const first = await send();
    const second = await send();
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(second.json().id).toBe(first.json().id);
    expect(first.json().id).toMatch(new RegExp(`^${t.queue}\\.idem-[0-9a-f]{64}$`));
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(await t.bull.getWaitingCount()).toBe(1);
    const other = await app.inject({
      method: 'POST',
      url: '/jobs',
      headers: { ...json, 'idempotency-key': 'order-43' },
      payload: { type: 'work' },
    });
    expect(other.json().id).not.toBe(first.json().id);
    expect(await t.bull.getWaitingCount()).toBe(2);
    await app.close();
  });
});

describe('POST /jobs/batch', () => {
  it('stores every job and answers their ids', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const jobs = Array.from({ length: 50 }, (_, i) => ({ type: 'work', data: { ms: i } }));
    const res = await app.inject({ method: 'POST', url: '/jobs/batch', headers: json, payload: { jobs } });
    expect(res.statusCode).toBe(202);
    const { ids } = res.json() as { ids: string[] };
    expect(ids).toHaveLength(50);
    expect(new Set(ids).size).toBe(50);
    expect(await t.bull.getWaitingCount()).toBe(50);
    expect((await t.bull.getJob(ids[7] as string))?.data.ms).toBe(7);
    await app.close();
  });

  it('validates all first: one bad payload stores nothing and names its index', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const res = await app.inject({
      method: 'POST',
      url: '/jobs/batch',
      headers: json,
      payload: { jobs: [{ type: 'work' }, { type: 'work', data: { ms: 'slow' } }] },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('INVALID_PAYLOAD');
    expect(res.json().error.message).toContain('jobs[1]');
    expect(await t.bull.getWaitingCount()).toBe(0);
    await app.close();
  });

  it('per-item idempotencyKey: a repeated batch returns the same ids and stores nothing new', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const payload = {
      jobs: [{ type: 'work', idempotencyKey: 'a' }, { type: 'work', idempotencyKey: 'b' }, { type: 'work' }],
    };
    const first = (await app.inject({ method: 'POST', url: '/jobs/batch', headers: json, payload })).json();
    const second = (await app.inject({ method: 'POST', url: '/jobs/batch', headers: json, payload })).json();
    expect(second.ids.slice(0, 2)).toEqual(first.ids.slice(0, 2));
    expect(second.ids[2]).not.toBe(first.ids[2]);
    expect(await t.bull.getWaitingCount()).toBe(4);
    await app.close();
  });

  it('refuses more than 1000 jobs with 400', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const jobs = Array.from({ length: 1001 }, () => ({ type: 'noop' }));
    const res = await app.inject({ method: 'POST', url: '/jobs/batch', headers: json, payload: { jobs } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_REQUEST');
    expect(await t.bull.getWaitingCount()).toBe(0);
    await app.close();
  });
});

describe('POST / (the seed endpoint)', () => {
  it('needs no body and enqueues the 5 s sleep demo job', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const res = await app.inject({ method: 'POST', url: '/', headers: AUTH });
    expect(res.statusCode).toBe(202);
    const job = await t.bull.getJob(res.json().id);
    expect(job?.name).toBe('sleep');
    expect(job?.data).toEqual({ seconds: 5 });
    const withBody = await app.inject({
      method: 'POST',
      url: '/',
      headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'anything=1',
    });
    expect(withBody.statusCode).toBe(202);
    expect(await t.bull.getWaitingCount()).toBe(2);
    await app.close();
  });
});
