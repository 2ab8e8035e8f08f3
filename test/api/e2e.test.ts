/**
 * End to end over real sockets: `kq api` and `kq worker` as child processes on the test Redis (or on a
 * private redis-server that is stopped and restarted).
 */
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { type KqProcess, spawnKq } from '../helpers/kq-process.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { HANDLERS, TOKEN } from './app-fixture.js';

const auth = { authorization: `Bearer ${TOKEN}` };

async function startApi(env: Record<string, string>): Promise<{ api: KqProcess; base: string }> {
  const api = spawnKq(['api'], { PORT: '0', HOST: '127.0.0.1', API_TOKENS: TOKEN, HANDLERS, ...env });
  const line = await api.waitForLog('api.listening', (l) => l.event === 'api.listening', 20_000);
  return { api, base: `http://127.0.0.1:${line.port}` };
}

const post = (base: string, path: string, body: unknown, timeoutMs = 10_000) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
// biome-ignore lint/suspicious/noExplicitAny: a JSON body read by the test
const getJob = async (base: string, id: string): Promise<any> =>
  (await fetch(`${base}/jobs/${id}`, { headers: auth, signal: AbortSignal.timeout(10_000) })).json();

describe('kq api with real workers', () => {
  it('enqueue through the API, watch the job complete through GET /jobs/:id', async () => {
    const t = useTestQueue();
    const env = { REDIS_URL: t.redisUrl, QUEUE: t.queue, HEALTH_PORT: '0', HANDLERS };
    const worker = spawnKq(['worker'], env);
    const { api, base } = await startApi({ REDIS_URL: t.redisUrl });
    const res = await post(base, '/jobs', { type: 'work', queue: t.queue, data: { ms: 100 } });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect(res.headers.get('location')).toBe(`/jobs/${id}`);
    const done = await waitFor(
      'job completed',
      async () => {
        const s = await getJob(base, id);
        return s.status === 'completed' ? s : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    expect(done.result).toMatchObject({ ms: 100, pid: worker.proc.pid });
    api.kill('SIGTERM');
    worker.kill('SIGTERM');
    expect((await api.waitForExit()).code).toBe(0);
    expect(api.logs.some((l) => l.event === 'api.stopped')).toBe(true);
    expect((await worker.waitForExit()).code).toBe(0);
  });

  it('cancels a running job in another process: its signal fires and the job ends cancelled', async () => {
    const t = useTestQueue();
    const env = { REDIS_URL: t.redisUrl, QUEUE: t.queue, HEALTH_PORT: '0', HANDLERS };
    const worker = spawnKq(['worker'], env);
    const { api, base } = await startApi({ REDIS_URL: t.redisUrl });
    const { id } = (await (
      await post(base, '/jobs', { type: 'work', queue: t.queue, data: { ms: 60_000 } })
    ).json()) as {
      id: string;
    };
    await waitFor('job active', async () => (await getJob(base, id)).status === 'active', {
      timeoutMs: 20_000,
    });
    const del = await fetch(`${base}/jobs/${id}`, { method: 'DELETE', headers: auth });
    expect(del.status).toBe(202);
    expect(await del.json()).toMatchObject({ id, cancelRequested: true, workersNotified: 1 });
    const s = await waitFor(
      'job cancelled',
      async () => {
        const j = await getJob(base, id);
        return j.status === 'cancelled' ? j : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(s.finishedAt).not.toBeNull();
    await worker.waitForLog('job.cancelled', (l) => l.event === 'job.cancelled' && l.jobId === id);
    // The handler started and never finished: its signal aborted the 60 s sleep.
    expect(await t.redis.lrange(`kqtest:${t.queue}:started`, 0, -1)).toHaveLength(1);
    expect(await t.redis.lrange(`kqtest:${t.queue}:done`, 0, -1)).toHaveLength(0);
    const again = await fetch(`${base}/jobs/${id}`, { method: 'DELETE', headers: auth });
    expect(again.status).toBe(200);
    api.kill('SIGTERM');
    worker.kill('SIGTERM');
    await api.waitForExit();
    await worker.waitForExit();
  });

  it('answers 503 + Retry-After (never 202) while Redis is stopped, and recovers when it is back', async () => {
    const redis = await startRedisServer();
    try {
      const { api, base } = await startApi({ REDIS_URL: redis.url, REQUEST_TIMEOUT_MS: '2000' });
      const ok = await post(base, '/jobs', { type: 'work' });
      expect(ok.status).toBe(202);
      await redis.stop();
      for (let i = 0; i < 5; i++) {
        const started = Date.now();
        const res = await post(base, '/jobs', { type: 'work', data: { ms: i } });
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('1');
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('REDIS_UNAVAILABLE');
        expect(Date.now() - started).toBeLessThan(5000);
      }
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      await redis.start();
      const back = await waitFor(
        'a 202 after Redis is back',
        async () => {
          const res = await post(base, '/jobs', { type: 'work', data: { ms: 1 } });
          return res.status === 202 ? ((await res.json()) as { id: string }) : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 200 },
      );
      expect((await getJob(base, back.id)).status).toBe('waiting');
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      // Only the jobs answered 202 exist (the first one was lost with the non-persistent Redis).
      const c = redis.client();
      expect(await c.llen('bull:jobs:wait')).toBe(1);
      c.disconnect();
      api.kill('SIGTERM');
      expect((await api.waitForExit()).code).toBe(0);
    } finally {
      await redis.stop();
    }
  });

  it('SIGTERM lets an in-flight request finish (202, job stored), then exits 0', async () => {
    const redis = await startRedisServer();
    const c = redis.client();
    try {
      const { api, base } = await startApi({ REDIS_URL: redis.url });
      expect((await post(base, '/jobs', { type: 'work' })).status).toBe(202);
      // Hold writes for 3 s (under the API's 5 s request timeout) so the next request is in flight at SIGTERM.
      const blocked = async () => Number(/blocked_clients:(\d+)/.exec(await c.info('clients'))?.[1]);
      const blockedBefore = await blocked();
      await c.client('PAUSE', 3000, 'WRITE');
      const inFlight = post(base, '/jobs', { type: 'work', data: { ms: 2 } });
      // In flight = its write is held by the pause in Redis (not a fixed time, which load stretches).
      await waitFor('the request held in Redis', async () => (await blocked()) > blockedBefore, {
        timeoutMs: 2800,
        intervalMs: 10,
      });
      api.kill('SIGTERM');
      await api.waitForLog('api.stopping', (l) => l.event === 'api.stopping');
      const res = await inFlight;
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };
      expect((await api.waitForExit()).code).toBe(0);
      expect(await c.hget(`bull:jobs:${id}`, 'name')).toBe('work');
    } finally {
      c.disconnect();
      await redis.stop();
    }
  });

  it('refuses to start without tokens unless auth is off explicitly', async () => {
    const t = useTestQueue();
    const refused = spawnKq(['api'], { REDIS_URL: t.redisUrl, PORT: '0', HOST: '127.0.0.1' });
    expect((await refused.waitForExit()).code).toBe(2);
    expect(refused.output()).toMatch(/No API tokens: set API_TOKENS .* --no-auth \/ AUTH=none/);
    // `kq` with no sub-command and WORKER unset runs the API (the seed's image had one binary, two modes).
    const open = spawnKq([], { REDIS_URL: t.redisUrl, PORT: '0', HOST: '127.0.0.1', AUTH: 'none' });
    const line = await open.waitForLog('api.listening', (l) => l.event === 'api.listening');
    expect(line.auth).toBe('none');
    expect((await fetch(`http://127.0.0.1:${line.port}/queues`)).status).toBe(200);
    open.kill('SIGTERM');
    expect((await open.waitForExit()).code).toBe(0);
  });
});
