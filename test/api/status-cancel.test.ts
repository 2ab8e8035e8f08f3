/** GET /jobs/:id through a job's life, and DELETE /jobs/:id in each state (in-process BullMQ workers). */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { CANCELLED_REASON } from '../../src/queue/cancel-request.js';
import { useTestQueue } from '../helpers/context.js';
import { track } from '../helpers/leak-guard.js';
import { waitFor } from '../helpers/wait.js';
import { AUTH, testApp } from './app-fixture.js';

const json = { ...AUTH, 'content-type': 'application/json' };

/** POST /jobs with `payload`; its JSON answer. */
async function postJob(app: Awaited<ReturnType<typeof testApp>>, payload: object) {
  return (await app.inject({ method: 'POST', url: '/jobs', headers: json, payload })).json();
}

function startWorker(
  t: ReturnType<typeof useTestQueue>,
  fn: (job: { data: Record<string, unknown> }) => unknown,
) {
  const connection = new Redis(t.redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker(t.queue, async (job) => fn(job), { connection, prefix: t.prefix });
  let closed = false;
  return track(
    'test BullMQ worker',
    {
      worker,
      async close() {
        closed = true;
        await worker.close();
        connection.disconnect();
      },
    },
    () => !closed,
    (w) => w.close(),
  );
}

describe('GET /jobs/:id', () => {
  it('reports completed with result, timestamps and attempts', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const { id } = await postJob(app, { type: 'work', data: { ms: 3 } });
    const w = startWorker(t, async (job) => ({ doubled: Number(job.data.ms) * 2 }));
    const done = await waitFor('job completed', async () => {
      const s = (await app.inject({ method: 'GET', url: `/jobs/${id}`, headers: AUTH })).json();
      return s.status === 'completed' ? s : undefined;
    });
    expect(done).toMatchObject({
      id,
      type: 'work',
      queue: t.queue,
      result: { doubled: 6 },
      error: null,
      attempts: 1,
    });
    for (const k of ['createdAt', 'startedAt', 'finishedAt']) expect(Date.parse(done[k])).toBeGreaterThan(0);
    await w.close();
    await app.close();
  });

  it('reports failed with the error, and a kq:cancelled failure as cancelled', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const add = async (data: unknown) =>
      (await postJob(app, { type: 'noop', data, attempts: 1 })).id as string;
    const failing = await add({ mode: 'fail' });
    const cancelled = await add({ mode: 'cancel' });
    const w = startWorker(t, async (job) => {
      throw new Error(job.data.mode === 'fail' ? 'disk full' : CANCELLED_REASON);
    });
    const get = async (id: string) =>
      (await app.inject({ method: 'GET', url: `/jobs/${id}`, headers: AUTH })).json();
    const f = await waitFor('failed', async () =>
      (await get(failing)).status === 'failed' ? get(failing) : undefined,
    );
    expect(f.error).toBe('disk full');
    await waitFor('cancelled', async () => (await get(cancelled)).status === 'cancelled');
    expect((await get(cancelled)).error).toBeNull();
    // Cancelling a finished job is a conflict; cancelling a cancelled one is a no-op.
    const conflict = await app.inject({ method: 'DELETE', url: `/jobs/${failing}`, headers: AUTH });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error.code).toBe('JOB_FINISHED');
    const again = await app.inject({ method: 'DELETE', url: `/jobs/${cancelled}`, headers: AUTH });
    expect(again.statusCode).toBe(200);
    expect(again.json().status).toBe('cancelled');
    await w.close();
    await app.close();
  });

  it('reports progress set by the handler', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const { id } = (
      await app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { type: 'noop' } })
    ).json();
    const job = await t.bull.getJob(id);
    await job?.updateProgress({ step: 2, of: 5 });
    const s = (await app.inject({ method: 'GET', url: `/jobs/${id}`, headers: AUTH })).json();
    expect(s).toMatchObject({ status: 'waiting', progress: { step: 2, of: 5 } });
    await app.close();
  });
});

describe('DELETE /jobs/:id', () => {
  it('removes a waiting job, leaving it readable as cancelled', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const { id } = await postJob(app, { type: 'work', data: { ms: 9 } });
    const res = await app.inject({ method: 'DELETE', url: `/jobs/${id}`, headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, status: 'cancelled', type: 'work' });
    expect(await t.bull.getJob(id)).toBeUndefined();
    expect(await t.bull.getWaitingCount()).toBe(0);
    const s = (await app.inject({ method: 'GET', url: `/jobs/${id}`, headers: AUTH })).json();
    expect(s).toMatchObject({ id, status: 'cancelled', data: { ms: 9, ignoreSignal: false } });
    expect(await t.redis.ttl(`${t.prefix}:${t.queue}:kq:cancelled:${id}`)).toBeGreaterThan(3600);
    await app.close();
  });

  it('removes a delayed job', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const { id } = await postJob(app, { type: 'work', delay: 3_600_000 });
    const res = await app.inject({ method: 'DELETE', url: `/jobs/${id}`, headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(await t.bull.getDelayedCount()).toBe(0);
    await app.close();
  });

  it('signals a running job on the cancel channel and answers 202', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const heard: string[] = [];
    const sub = t.redis.duplicate();
    await sub.subscribe(`${t.prefix}:${t.queue}:kq:cancel`);
    sub.on('message', (_ch: string, id: string) => heard.push(id));
    const { id } = (
      await app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { type: 'work' } })
    ).json();
    let release: () => void = () => undefined;
    const w = startWorker(t, () => new Promise<void>((r) => (release = r)));
    await waitFor('active', async () => (await t.bull.getJob(id))?.getState().then((s) => s === 'active'));
    const res = await app.inject({ method: 'DELETE', url: `/jobs/${id}`, headers: AUTH });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ id, status: 'active', cancelRequested: true, workersNotified: 1 });
    await waitFor('cancel message', () => heard.includes(id));
    release();
    await w.close();
    sub.disconnect();
    await app.close();
  });
});
