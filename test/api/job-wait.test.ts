/**
 * GET /jobs/:id?wait= and GET /jobs/:id/events on the test Redis, with a real `kq worker` process: waiters
 * answer when the job ends, share one Redis reader per queue, and event streams resume and are bounded.
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { JobEvents } from '../../src/queue/job-events.js';
import { useTestQueue } from '../helpers/context.js';
import { spawnKq } from '../helpers/kq-process.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { AUTH, expectError, HANDLERS, testApp } from './app-fixture.js';

const json = { ...AUTH, 'content-type': 'application/json' };

async function enqueue(app: FastifyInstance, type: string, data: object): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { type, data } });
  expect(res.statusCode).toBe(202);
  return res.json().id as string;
}

function startWorker(t: ReturnType<typeof useTestQueue>) {
  return spawnKq(['worker'], { REDIS_URL: t.redisUrl, QUEUE: t.queue, HEALTH_PORT: '0', HANDLERS });
}

const jobEvents = (app: FastifyInstance) => (app as unknown as { kqJobEvents: JobEvents }).kqJobEvents;

async function clients(redis: Redis): Promise<number> {
  return String(await redis.client('LIST'))
    .split('\n')
    .filter((l) => l.trim()).length;
}

interface SseEvent {
  id?: string;
  event: string;
  data: Record<string, unknown>;
}

/** Opens an event stream over a real socket; `next()` gives the next event, `ended` when the server ends it. */
async function openStream(base: string, id: string, headers: Record<string, string> = {}) {
  const ac = new AbortController();
  const res = await fetch(`${base}/jobs/${id}/events`, {
    headers: { ...AUTH, ...headers },
    signal: ac.signal,
  });
  const events: SseEvent[] = [];
  let ended = false;
  const done = (async () => {
    if (!res.body || res.status !== 200) return;
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true });
        let cut = buf.indexOf('\n\n');
        while (cut >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const e: Partial<SseEvent> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) e.id = line.slice(4);
            if (line.startsWith('event: ')) e.event = line.slice(7);
            if (line.startsWith('data: ')) e.data = JSON.parse(line.slice(6));
          }
          if (e.event) events.push(e as SseEvent);
          cut = buf.indexOf('\n\n');
        }
      }
    } catch {
      /* aborted by the test */
    }
    ended = true;
  })();
  return {
    res,
    events,
    isEnded: () => ended,
    done,
    next: (n: number, timeoutMs = 20_000) =>
      waitFor(`${n} events (have ${events.map((e) => e.event).join(',')})`, () => events.length >= n, {
        timeoutMs,
      }),
    close: async () => {
      ac.abort();
      await done;
    },
  };
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const a = app.server.address();
  if (!a || typeof a !== 'object') throw new Error('no address');
  return `http://127.0.0.1:${a.port}`;
}

describe('GET /jobs/:id?wait=', () => {
  it('answers as soon as the job completes in a worker process', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const worker = startWorker(t);
    const id = await enqueue(app, 'work', { ms: 200 });
    const started = Date.now();
    const res = await app.inject({ method: 'GET', url: `/jobs/${id}?wait=45`, headers: AUTH });
    const tookMs = Date.now() - started;
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, status: 'completed', result: { ms: 200 } });
    // Far below the 45 s asked for, with room for the worker's start-up on a loaded machine.
    expect(tookMs).toBeLessThan(20_000);
    worker.kill('SIGTERM');
    expect((await worker.waitForExit()).code).toBe(0);
    await app.close();
  });

  it('answers the current state when the time is up, and 404 for an unknown job', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const id = await enqueue(app, 'work', { ms: 1 });
    const started = Date.now();
    const res = await app.inject({ method: 'GET', url: `/jobs/${id}?wait=1`, headers: AUTH });
    const tookMs = Date.now() - started;
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, status: 'waiting' });
    expect(tookMs).toBeGreaterThanOrEqual(950);
    expect(tookMs).toBeLessThan(10_000);
    const unknown = await app.inject({ method: 'GET', url: `/jobs/${t.queue}.nope?wait=1`, headers: AUTH });
    expectError(unknown, 404, 'JOB_NOT_FOUND');
    expect(jobEvents(app).subscriptions()).toBe(0);
    await app.close();
  });

  it('holds a wait longer than RECEIVE_TIMEOUT_MS over a real socket (that bound is for receiving only)', async () => {
    const t = useTestQueue();
    const app = await testApp({ ...t, receiveTimeoutMs: 1000, headersTimeoutMs: 1000 });
    const base = await listen(app);
    const id = await enqueue(app, 'work', { ms: 1 });
    const started = Date.now();
    const res = await fetch(`${base}/jobs/${id}?wait=2.5`, { headers: AUTH });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, status: 'waiting' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2400);
    await app.close();
  });

  it('refuses a bad wait with 422 naming it', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const id = await enqueue(app, 'work', { ms: 1 });
    for (const bad of ['0', '61', '-1', 'abc', '1e3', '', '60.0001']) {
      const res = await app.inject({ method: 'GET', url: `/jobs/${id}?wait=${bad}`, headers: AUTH });
      const err = expectError(res, 422, 'INVALID_PARAMETER');
      expect(err).toMatchObject({ parameter: 'wait', value: bad });
      expect(err.message).toContain('wait');
    }
    await app.close();
  });

  it('answers cancelled when a waiting job is cancelled during the wait', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const id = await enqueue(app, 'work', { ms: 1 });
    const started = Date.now();
    const waiting = app.inject({ method: 'GET', url: `/jobs/${id}?wait=45`, headers: AUTH });
    await waitFor('the waiter subscribed', () => jobEvents(app).subscriptions() === 1);
    expect((await app.inject({ method: 'DELETE', url: `/jobs/${id}`, headers: AUTH })).statusCode).toBe(200);
    const res = await waiting;
    expect(res.json()).toMatchObject({ id, status: 'cancelled' });
    expect(Date.now() - started).toBeLessThan(20_000);
    await app.close();
  });

  it('200 concurrent waiters share one Redis reader, and all answer when their jobs complete', async () => {
    // A private Redis: CLIENT LIST counts every client of the server, and the shared one serves the
    // other test files running beside this one (a shuffled run counted one of theirs).
    const server = await startRedisServer();
    onTestFinished(() => server.remove());
    const t = useTestQueue(server.url);
    const app = await testApp(t);
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push(await enqueue(app, 'work', { ms: 0 }));
    const before = await clients(t.redis);
    const answers = ids.map((id) =>
      app.inject({ method: 'GET', url: `/jobs/${id}?wait=50`, headers: AUTH }).then((r) => r.json()),
    );
    await waitFor('200 waiters subscribed', () => jobEvents(app).subscriptions() === 200, {
      timeoutMs: 20_000,
    });
    expect(jobEvents(app).readers()).toBe(1);
    // One blocking reader for all 200: at most one more Redis client than with no waiter.
    expect(await clients(t.redis)).toBeLessThanOrEqual(before + 1);
    const worker = startWorker(t);
    const all = await Promise.all(answers);
    expect(all.map((s) => s.status)).toEqual(ids.map(() => 'completed'));
    expect(all.map((s) => s.id)).toEqual(ids);
    expect(jobEvents(app).subscriptions()).toBe(0);
    worker.kill('SIGTERM');
    expect((await worker.waitForExit()).code).toBe(0);
    await app.close();
  });
});

describe('OpenAPI', () => {
  it('describes ?wait= and the event stream', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json', headers: AUTH })).json();
    const params = doc.paths['/jobs/{id}'].get.parameters as { name: string; in: string }[];
    expect(params.some((p) => p.name === 'wait' && p.in === 'query')).toBe(true);
    const events = doc.paths['/jobs/{id}/events'].get;
    expect(events.description).toContain('Last-Event-ID');
    expect(Object.keys(events.responses)).toEqual(expect.arrayContaining(['200', '404', '503']));
    await app.close();
  });
});

describe('GET /jobs/:id/events', () => {
  it('streams state, progress and completed, ends, and resumes from Last-Event-ID', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const base = await listen(app);
    const id = await enqueue(app, 'progress', {});
    const s = await openStream(base, id);
    expect(s.res.status).toBe(200);
    expect(s.res.headers.get('content-type')).toContain('text/event-stream');
    await s.next(1);
    expect(s.events[0]).toMatchObject({ event: 'state', data: { id, status: 'waiting', type: 'progress' } });
    const worker = startWorker(t);
    await s.done;
    const names = s.events.map((e) => e.event);
    expect(names[names.length - 1]).toBe('completed');
    expect(names).toContain('progress');
    expect(s.events.find((e) => e.event === 'progress')?.data).toEqual({ id, progress: 50 });
    expect(s.events.at(-1)?.data).toMatchObject({ id, status: 'completed', result: 'ok' });
    const ids = s.events.map((e) => e.id as string);
    expect(new Set(ids).size).toBe(ids.length);

    // Resume after the first event: the same events again, from the stream.
    const again = await openStream(base, id, { 'last-event-id': ids[0] as string });
    await again.done;
    expect(again.events.map((e) => e.id)).toEqual(ids.slice(1));
    expect(again.events.map((e) => e.event)).toEqual(names.slice(1));
    // Resume after the progress event: only what came after it.
    const p = ids[names.indexOf('progress')] as string;
    const rest = await openStream(base, id, { 'last-event-id': p });
    await rest.done;
    expect(rest.events.map((e) => e.id)).toEqual(ids.slice(names.indexOf('progress') + 1));
    // Resuming from the terminal event itself: the end again, never a stream left open.
    const after = await openStream(base, id, { 'last-event-id': ids.at(-1) as string });
    await after.done;
    expect(after.events.map((e) => e.event)).toEqual(['completed']);
    // A finished job without Last-Event-ID: its terminal event at once.
    const late = await openStream(base, id);
    await late.done;
    expect(late.events.map((e) => e.event)).toEqual(['completed']);
    worker.kill('SIGTERM');
    expect((await worker.waitForExit()).code).toBe(0);
    await app.close();
  });

  it('needs the token, answers 404 for an unknown job, and 503 with Retry-After past MAX_EVENT_STREAMS', async () => {
    const t = useTestQueue();
    const app = await testApp({ ...t, maxEventStreams: 1 });
    const base = await listen(app);
    const id = await enqueue(app, 'work', { ms: 1 });
    const anonymous = await fetch(`${base}/jobs/${id}/events`);
    expect(anonymous.status).toBe(401);
    await anonymous.arrayBuffer();
    const missing = await fetch(`${base}/jobs/${t.queue}.nope/events`, { headers: AUTH });
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();
    const first = await openStream(base, id);
    await first.next(1);
    const refused = await fetch(`${base}/jobs/${id}/events`, { headers: AUTH });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('OVERLOADED');
    await first.close();
    const second = await waitFor('a slot again', async () => {
      const s = await openStream(base, id);
      if (s.res.status === 200) return s;
      await s.close();
      return undefined;
    });
    await second.next(1);
    // Shutdown ends the open stream at once rather than waiting on it.
    const closing = app.close();
    await second.done;
    expect(second.isEnded()).toBe(true);
    // fetch's pool may hold a spare socket that never sent a request; it would hold close() for the
    // keep-alive timeout. It is not the stream's (ended above).
    app.server.closeAllConnections();
    await closing;
  });
});
