/**
 * kq/client against a real API (in-process, over a socket) on the test Redis, with a `kq worker` process:
 * enqueue, wait, get, watch, cancel, typed errors, 503 retries that keep one Idempotency-Key, schedules
 * (set, list, get, delete; a run done by the worker) and a flow whose parent reads its children's results.
 */
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createClient, KqClientError, type WatchEvent } from '../../src/client/client.js';
import { createRegistry, loadRegistry } from '../../src/jobs/registry.js';
import { HANDLERS, TOKEN, testApp } from '../api/app-fixture.js';
import { useTestQueue } from '../helpers/context.js';
import { spawnKq } from '../helpers/kq-process.js';
import { waitFor } from '../helpers/wait.js';
import type * as jobs from './fixtures/jobs.js';

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const a = app.server.address();
  if (!a || typeof a !== 'object') throw new Error('no address');
  return `http://127.0.0.1:${a.port}`;
}

describe('kq/client', () => {
  it('enqueue, wait, get, watch and cancel through a real API and worker', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const url = await listen(app);
    const worker = spawnKq(['worker'], {
      REDIS_URL: t.redisUrl,
      QUEUE: t.queue,
      HEALTH_PORT: '0',
      HANDLERS,
    });
    const kq = createClient<typeof jobs>({ url, token: TOKEN });
    const id = await kq.enqueue('work', { ms: 20 });
    expect(id.startsWith(`${t.queue}.`)).toBe(true);
    const done = await kq.wait(id, { timeoutMs: 30_000 });
    expect(done).toMatchObject({ id, status: 'completed', result: { ms: 20 } });
    expect(await kq.get(id)).toMatchObject({ id, status: 'completed' });

    const untyped = createClient({ url, token: TOKEN });
    const p = await untyped.enqueue('progress', {});
    const seen: WatchEvent[] = [];
    for await (const e of untyped.watch(p)) seen.push(e);
    expect(seen.at(-1)).toMatchObject({ event: 'completed', data: { id: p, status: 'completed' } });

    const later = await kq.enqueue('work', { ms: 1 }, { delay: 60_000 });
    expect(await kq.cancel(later)).toMatchObject({ id: later, status: 'cancelled' });
    expect(await kq.wait(later, { timeoutMs: 1000 })).toMatchObject({ status: 'cancelled' });

    const missing = await kq.get(`${t.queue}.nope`).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(KqClientError);
    expect(missing).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
    const unknown = await untyped.enqueue('nope', {}).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ status: 422, code: 'UNKNOWN_JOB_TYPE' });

    worker.kill('SIGTERM');
    expect((await worker.waitForExit()).code).toBe(0);
    await app.close();
  });

  it('retries a 503 after Retry-After (at most maxRetryDelayMs), with the same Idempotency-Key: one job stored', async () => {
    const t = useTestQueue();
    const app = await testApp({ ...t, maxEventStreams: 1 });
    const url = await listen(app);
    const keys: string[] = [];
    const refused = new Set<string>();
    const streamAnswers: number[] = [];
    // Streams the API answered 200 and has seen close (each frees its one slot as it closes).
    let streamsClosed = 0;
    app.server.on('request', (req, res) => {
      if (!req.url?.endsWith('/events')) return;
      res.once('close', () => {
        if (res.statusCode === 200) streamsClosed++;
      });
    });
    // The client's pauses, by length: none is waited out. The one before the event stream's retry lets
    // go of the stream that holds the one slot first, as a client elsewhere would.
    const pauses: number[] = [];
    let beforeRetry: () => Promise<void> = async () => undefined;
    const kq = createClient<typeof jobs>({
      url,
      token: TOKEN,
      sleep: async (ms) => {
        pauses.push(ms);
        await beforeRetry();
      },
      fetch: async (input, init) => {
        const headers = new Headers(init?.headers);
        const target = new URL(String(input)).pathname;
        if (init?.method === 'POST') keys.push(`${target} ${headers.get('idempotency-key') ?? ''}`);
        // The first submission to each route meets an API that is shutting down elsewhere: the answer kq gives then.
        if (init?.method === 'POST' && !refused.has(target)) {
          refused.add(target);
          const body = JSON.stringify({
            error: { code: 'SHUTTING_DOWN', message: 'The API is shutting down.' },
          });
          // 30 s asked on /flows: the client waits maxRetryDelayMs (10 s by default) at most.
          const retryAfter = target === '/flows' ? '30' : '0';
          return new Response(body, { status: 503, headers: { 'retry-after': retryAfter } });
        }
        const res = await fetch(input, init);
        if (String(input).endsWith('/events')) streamAnswers.push(res.status);
        return res;
      },
    });
    const id = await kq.enqueue('work', { ms: 1 });
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[0]?.length).toBeGreaterThan('/jobs '.length + 10);
    expect(await t.bull.getJobCounts('waiting')).toEqual({ waiting: 1 });
    expect(id).toContain('.idem-');

    // flow() likewise: one key for both attempts, one parent and one child stored.
    const tree = await kq.flow({ type: 'work', data: { ms: 1 }, children: [{ type: 'work', data: {} }] });
    expect(keys.slice(2)).toHaveLength(2);
    expect(keys[2]?.startsWith('/flows ')).toBe(true);
    expect(keys[2]).toBe(keys[3]);
    expect(tree.id).toContain('.idem-');
    expect(await t.bull.getJobCounts('waiting', 'waiting-children')).toEqual({
      waiting: 2,
      'waiting-children': 1,
    });

    // A real 503: the one event stream slot is taken; watch() retries after Retry-After and gets in.
    const blocker = new AbortController();
    const held = await fetch(`${url}/jobs/${id}/events`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: blocker.signal,
    });
    expect(held.status).toBe(200);
    beforeRetry = async () => {
      blocker.abort();
      await waitFor('the held stream closed at the API', () => streamsClosed >= 1);
    };
    const it = kq.watch(id)[Symbol.asyncIterator]();
    const first = it.next();
    expect((await first).value).toMatchObject({ event: 'state', data: { id, status: 'waiting' } });
    expect(streamAnswers).toEqual([503, 200]);
    // Retry-After 0 (enqueue), 30 capped at 10 s (flow), the API's own 1 s (the event stream bound).
    expect(pauses).toEqual([0, 10_000, 1000]);
    await it.return?.(undefined);
    await app.close();
  });

  it('schedules: set (a run is done by the worker), list, get, replace, delete; a bad cron is a typed 422', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const url = await listen(app);
    const worker = spawnKq(['worker'], { REDIS_URL: t.redisUrl, QUEUE: t.queue, HEALTH_PORT: '0', HANDLERS });
    const kq = createClient<typeof jobs>({ url, token: TOKEN });
    const id = `sch-${t.queue}`;

    const made = await kq.schedules.set({ id, type: 'work', data: { ms: 1 }, every: 60_000 });
    expect(made).toMatchObject({
      id,
      queue: t.queue,
      type: 'work',
      every: 60_000,
      cron: null,
      created: true,
    });
    expect(made.source).toBe('api');
    // An `every` schedule's first run is due at once: the worker completes it.
    await waitFor(
      'the schedule’s first run completed',
      async () => {
        const { completed } = await t.bull.getJobCounts('completed');
        return (completed ?? 0) >= 1;
      },
      { timeoutMs: 30_000 },
    );

    const listed = await kq.schedules.list({ queue: t.queue });
    expect(listed.map((s) => s.id)).toEqual([id]);
    expect(listed[0]?.iterations).toBeGreaterThanOrEqual(1);
    expect(Date.parse(listed[0]?.nextRunAt ?? '')).toBeGreaterThan(Date.now());
    expect((await kq.schedules.list()).some((s) => s.id === id && s.queue === t.queue)).toBe(true);

    const replaced = await kq.schedules.set({
      id,
      type: 'work',
      data: { ms: 2 },
      cron: '0 3 * * *',
      tz: 'Europe/Berlin',
    });
    expect(replaced).toMatchObject({
      id,
      type: 'work',
      cron: '0 3 * * *',
      tz: 'Europe/Berlin',
      every: null,
      created: false,
    });
    expect(await kq.schedules.get(id, { queue: t.queue })).toMatchObject({
      id,
      type: 'work',
      data: { ms: 2 },
    });

    const bad = await kq.schedules
      .set({ id: `${id}-bad`, type: 'work', data: {}, cron: '61 * * * *' })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(KqClientError);
    expect(bad).toMatchObject({ status: 422, code: 'INVALID_SCHEDULE', details: { field: 'cron' } });

    expect(await kq.schedules.delete(id, { queue: t.queue })).toMatchObject({ id, type: 'work' });
    expect(await kq.schedules.list({ queue: t.queue })).toEqual([]);
    const gone = await kq.schedules.get(id).catch((e: unknown) => e);
    expect(gone).toMatchObject({ status: 404, code: 'SCHEDULE_NOT_FOUND' });

    worker.kill('SIGTERM');
    expect((await worker.waitForExit()).code).toBe(0);
    await app.close();
  });

  it('flow: the parent runs after its children and returns their results; the ids come back as a tree', async () => {
    const t = useTestQueue();
    const FLOW_HANDLERS = resolve(import.meta.dirname, '../fixtures/flow-handlers.mjs');
    // The fixture's types on this test's queue (API and worker), so one worker serves parent and children.
    const flowJobs = createRegistry(
      (await loadRegistry(FLOW_HANDLERS)).all.map((d) => ({ ...d, queue: t.queue })),
    );
    const app = await testApp({ ...t, jobs: flowJobs });
    const url = await listen(app);
    const worker = spawnKq(['worker'], {
      REDIS_URL: t.redisUrl,
      QUEUE: t.queue,
      HEALTH_PORT: '0',
      HANDLERS: FLOW_HANDLERS,
    });
    const kq = createClient({ url, token: TOKEN });
    const tree = await kq.flow({
      type: 'report',
      data: { title: 'weekly' },
      children: [
        { type: 'resize', data: { width: 10 } },
        { type: 'resize', data: { width: 20 }, children: [{ type: 'resize', data: { width: 1 } }] },
      ],
    });
    expect(tree).toMatchObject({ type: 'report', queue: t.queue });
    const [a, b] = tree.children ?? [];
    expect(b?.children?.[0]?.type).toBe('resize');
    const done = await kq.wait(tree.id, { timeoutMs: 30_000 });
    expect(done).toMatchObject({ id: tree.id, status: 'completed' });
    const result = done.result as { title: string; children: Record<string, { width: number }> };
    expect(result.title).toBe('weekly');
    expect(
      Object.values(result.children)
        .map((r) => r.width)
        .sort((x, y) => x - y),
    ).toEqual([20, 40]);
    expect(Object.keys(result.children)).toHaveLength(2);
    expect(await kq.get(a?.id ?? '')).toMatchObject({ status: 'completed', parent: tree.id });

    const invalid = await kq
      .flow({ type: 'report', data: { title: 'x' }, children: [{ type: 'resize', data: { width: -1 } }] })
      .catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 422, code: 'INVALID_PAYLOAD' });
    expect((invalid as KqClientError).details).toMatchObject({
      path: 'children[0]',
      issues: [expect.objectContaining({ path: 'children[0].data.width' })],
    });

    worker.kill('SIGTERM');
    expect((await worker.waitForExit()).code).toBe(0);
    await app.close();
  });
});
