/**
 * kq/client against a real API (in-process, over a socket) on the test Redis, with a `kq worker` process:
 * enqueue, wait, get, watch, cancel, typed errors, and 503 retries that keep one Idempotency-Key.
 */
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createClient, KqClientError, type WatchEvent } from '../../src/client/client.js';
import { TOKEN, testApp } from '../api/app-fixture.js';
import { useTestQueue } from '../helpers/context.js';
import { spawnKq } from '../helpers/kq-process.js';
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
      HANDLERS: (await import('../api/app-fixture.js')).HANDLERS,
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

  it('retries a 503 after Retry-After, with the same Idempotency-Key: one job stored', async () => {
    const t = useTestQueue();
    const app = await testApp({ ...t, maxEventStreams: 1 });
    const url = await listen(app);
    const keys: string[] = [];
    let refused = 0;
    const streamAnswers: number[] = [];
    const kq = createClient<typeof jobs>({
      url,
      token: TOKEN,
      fetch: async (input, init) => {
        const headers = new Headers(init?.headers);
        if (init?.method === 'POST') keys.push(headers.get('idempotency-key') ?? '');
        // The first submission meets an API that is shutting down elsewhere: the answer kq gives then.
        if (init?.method === 'POST' && refused++ === 0) {
          const body = JSON.stringify({
            error: { code: 'SHUTTING_DOWN', message: 'The API is shutting down.' },
          });
          return new Response(body, { status: 503, headers: { 'retry-after': '0' } });
        }
        const res = await fetch(input, init);
        if (String(input).endsWith('/events')) streamAnswers.push(res.status);
        return res;
      },
    });
    const id = await kq.enqueue('work', { ms: 1 });
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[0]?.length).toBeGreaterThan(10);
    expect(await t.bull.getJobCounts('waiting')).toEqual({ waiting: 1 });
    expect(id).toContain('.idem-');

    // A real 503: the one event stream slot is taken; watch() retries after Retry-After and gets in.
    const blocker = new AbortController();
    const held = await fetch(`${url}/jobs/${id}/events`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: blocker.signal,
    });
    expect(held.status).toBe(200);
    const it = kq.watch(id)[Symbol.asyncIterator]();
    const first = it.next();
    setTimeout(() => blocker.abort(), 300);
    expect((await first).value).toMatchObject({ event: 'state', data: { id, status: 'waiting' } });
    expect(streamAnswers).toEqual([503, 200]);
    await it.return?.(undefined);
    await app.close();
  });
});
