/**
 * A client that leaves while its held or counted request is still being set up (Redis frozen, so the
 * route's set-up waits on it) must not stay counted: once Redis answers again the next client gets its
 * normal answer, not 503, nothing stays subscribed for the client that left, and the app closes promptly.
 * One row per route that holds or counts a request; a private redis-server per row, the API in-process
 * behind real sockets. Redis is frozen with SIGSTOP, not `CLIENT PAUSE ... ALL`: a paused Redis postpones
 * `CLIENT UNPAUSE` too (7.0), so the test could only wait the pause out.
 */
import { request as httpRequest } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { AppOptions } from '../../src/api/app.js';
import type { HeldRequests } from '../../src/api/held-requests.js';
import type { JobEvents } from '../../src/queue/job-events.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { AUTH, testApp } from './app-fixture.js';

const QUEUE = 'jobs';
const json = { ...AUTH, 'content-type': 'application/json' };
/** A body of exactly this many bytes: the budget row's MAX_INFLIGHT_BYTES fits one. */
const submission = (pad: number) => JSON.stringify({ type: 'work', data: { ms: 1, pad: 'x'.repeat(pad) } });
const BODY = submission(200);

const jobEvents = (app: FastifyInstance) => (app as unknown as { kqJobEvents: JobEvents }).kqJobEvents;
type Held = { streams: HeldRequests; waiters: HeldRequests };
const held = (app: FastifyInstance) => (app as unknown as { kqHeld: Held }).kqHeld;

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const a = app.server.address();
  if (!a || typeof a !== 'object') throw new Error('no address');
  return `http://127.0.0.1:${a.port}`;
}

interface Call {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

/** Sends `call` on a socket of its own; the returned request's `destroy()` is the client leaving. */
function send(base: string, call: Call) {
  const req = httpRequest(`${base}${call.path}`, {
    method: call.method,
    agent: false,
    headers: call.body ? { ...json, 'content-length': String(Buffer.byteLength(call.body)) } : AUTH,
  });
  req.end(call.body);
  return req;
}

/** The answer's status and body (an event stream's up to its first event); every socket is closed after. */
function answer(base: string, call: Call): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = send(base, call);
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      const stream = res.headers['content-type']?.startsWith('text/event-stream');
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (stream && text.includes('event: ')) {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, text });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
  });
}

interface Row {
  route: string;
  options: Partial<AppOptions>;
  /** The count the request is held in (the body budget's is seen through the next client only). */
  held?: keyof Held;
  /** What the client that leaves sends. */
  leaving(id: string): Call;
  /** What the next client sends, and what it must get. */
  next(id: string): Call;
  expected: { status: number; text: RegExp };
  /**
   * Jobs in `:wait` once Redis answers again, before the next client is sent: a submission whose client
   * left is still stored (its bytes wait on Redis in the producer's budget until then).
   */
  storedAfterThaw?: number;
}

const ROWS: Row[] = [
  {
    route: 'GET /jobs/:id/events (MAX_EVENT_STREAMS=1)',
    options: { maxEventStreams: 1 },
    held: 'streams',
    leaving: (id) => ({ method: 'GET', path: `/jobs/${id}/events` }),
    next: (id) => ({ method: 'GET', path: `/jobs/${id}/events` }),
    expected: { status: 200, text: /event: state\ndata: \{"id":/ },
  },
  {
    route: 'GET /jobs/:id?wait=60',
    options: {},
    held: 'waiters',
    leaving: (id) => ({ method: 'GET', path: `/jobs/${id}?wait=60` }),
    next: (id) => ({ method: 'GET', path: `/jobs/${id}?wait=0.1` }),
    expected: { status: 200, text: /"status":"waiting"/ },
  },
  {
    route: 'POST /jobs (MAX_INFLIGHT_BYTES = one body)',
    options: { maxInflightBytes: Buffer.byteLength(BODY) },
    leaving: () => ({ method: 'POST', path: '/jobs', body: BODY }),
    next: () => ({ method: 'POST', path: '/jobs', body: BODY }),
    expected: { status: 202, text: /"status":"waiting"/ },
    storedAfterThaw: 2,
  },
];

/** An app on a private redis-server whose every request that reaches its handler is in `reached`. */
async function setUp(options: Partial<AppOptions>) {
  const server = await startRedisServer();
  const signal = (name: 'SIGSTOP' | 'SIGCONT') => process.kill(server.pid as number, name);
  onTestFinished(() => {
    if (server.running) signal('SIGCONT');
    return server.stop();
  });
  // The guard must not cut the set-up short while Redis is frozen: the set-up has to succeed afterwards.
  const app = await testApp({ redisUrl: server.url, queue: QUEUE, requestTimeoutMs: 30_000, ...options });
  const reached: FastifyReply[] = [];
  app.addHook('preHandler', (_request, reply, done) => {
    reached.push(reply);
    done();
  });
  const base = await listen(app);
  const stored = await answer(base, { method: 'POST', path: '/jobs', body: submission(1) });
  expect(stored.status).toBe(202);
  const { id } = JSON.parse(stored.text) as { id: string };
  const waiting = async () => {
    const c = server.client();
    try {
      return await c.llen(`bull:${QUEUE}:wait`);
    } finally {
      c.disconnect();
    }
  };
  return { app, base, id, reached, waiting, freeze: () => signal('SIGSTOP'), thaw: () => signal('SIGCONT') };
}

/** Freezes Redis, sends `call` and leaves once its handler waits on Redis; resolves when the API saw it. */
async function leaveDuringSetUp(
  t: Awaited<ReturnType<typeof setUp>>,
  call: Call,
  counted: keyof Held | undefined,
): Promise<void> {
  t.freeze();
  const before = t.reached.length;
  const req = send(t.base, call);
  req.on('error', () => undefined);
  // (A reply is a thenable that settles when it is sent: not something to hand to `waitFor`.)
  await waitFor('the request in its handler', () => t.reached.length > before);
  if (counted) expect(held(t.app)[counted].size()).toBe(1);
  req.destroy();
  await waitFor('the API to see the client leave', () => t.reached[before]?.raw.destroyed);
  // Given back as the client leaves, while Redis is still frozen.
  if (counted) expect(held(t.app)[counted].size()).toBe(0);
}

describe('a client that leaves during the set-up of a held or counted request', () => {
  for (const row of ROWS) {
    it(`${row.route}: the next client is served and nothing stays subscribed`, async () => {
      const t = await setUp(row.options);
      await leaveDuringSetUp(t, row.leaving(t.id), row.held);
      t.thaw();
      const stored = row.storedAfterThaw;
      if (stored)
        await waitFor(
          'the submission that lost its client stored',
          async () => (await t.waiting()) === stored,
        );
      const next = await answer(t.base, row.next(t.id));
      expect(next.status, next.text).toBe(row.expected.status);
      expect(next.text).toMatch(row.expected.text);
      // The `?wait=60` waiter that left would hold its subscription for 60 s.
      await waitFor('no subscription left', () => jobEvents(t.app).subscriptions() === 0, {
        timeoutMs: 5000,
      });
      const closing = Date.now();
      await t.app.close();
      expect(Date.now() - closing).toBeLessThan(5000);
    });
  }

  it('app.close() does not wait for it while Redis is still frozen', async () => {
    const t = await setUp({ maxEventStreams: 1 });
    await leaveDuringSetUp(t, { method: 'GET', path: `/jobs/${t.id}/events` }, 'streams');
    const closing = Date.now();
    await t.app.close();
    // The frozen Redis costs QUIT's 1 s deadline per connection (in parallel); the rest is load.
    expect(Date.now() - closing).toBeLessThan(8000);
  });
});
