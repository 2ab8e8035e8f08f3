/**
 * Queue-wide limits enforced by BullMQ across worker processes: a global concurrency (GLOBAL_CONCURRENCY
 * or defineQueue) and a rate limit (RATE_LIMIT_MAX per RATE_LIMIT_DURATION_MS, or defineQueue), and a
 * handler's `ctx.rateLimited(ms)`, which puts its job back without using an attempt.
 */
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type TestContext, useTestQueue } from '../helpers/context.js';
import { type KqProcess, spawnKq } from '../helpers/kq-process.js';
import { freePort, startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const HANDLERS = resolve(import.meta.dirname, '../fixtures/limits-handlers.mjs');
/** Room for the worker's clock (processedOn) against Redis' (the limiter key's expiry). */
const CLOCK_SLACK_MS = 50;

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function worker(t: TestContext, env: Record<string, string> = {}, name = 'worker'): KqProcess {
  const w = spawnKq(
    ['worker'],
    { REDIS_URL: t.redisUrl, QUEUE: t.queue, HEALTH_PORT: '0', HANDLERS, ...env },
    `${name} (${t.queue})`,
  );
  cleanups.push(async () => {
    w.kill();
    await w.waitForExit();
  });
  return w;
}

function testKeys(t: TestContext) {
  cleanups.push(async () => {
    const keys = await t.redis.keys(`kqtest:${t.queue}:*`);
    if (keys.length) await t.redis.del(...keys);
  });
}

async function allCompleted(t: TestContext, ids: string[], timeoutMs = 30_000) {
  await waitFor(
    `${ids.length} jobs completed`,
    async () => (await t.bull.getJobCounts('completed')).completed === ids.length,
    { timeoutMs },
  );
  return Promise.all(ids.map(async (id) => (await t.bull.getJob(id))?.processedOn as number));
}

describe('queue limits across worker processes', () => {
  it('GLOBAL_CONCURRENCY=1: two workers of CONCURRENCY 4 never run two jobs at once', async () => {
    const t = useTestQueue();
    testKeys(t);
    const env = { CONCURRENCY: '4', GLOBAL_CONCURRENCY: '1' };
    const a = worker(t, env, 'worker a');
    const b = worker(t, env, 'worker b');
    await a.waitForLog('started', (l) => l.event === 'worker.started');
    await b.waitForLog('started', (l) => l.event === 'worker.started');
    expect(await t.bull.getGlobalConcurrency()).toBe(1);
    const jobs = await t.bull.addBulk(
      Array.from({ length: 12 }, () => ({ name: 'overlap', data: { ms: 40 } })),
    );
    await allCompleted(
      t,
      jobs.map((j) => j.id as string),
    );
    const seen = await t.redis.lrange(`kqtest:${t.queue}:seen`, 0, -1);
    expect(seen).toHaveLength(12);
    // Each entry is the number of jobs running when one started: always 1, whichever process ran it.
    expect(seen.map((s) => s.split(':')[0])).toEqual(Array(12).fill('1'));

    // A worker whose configuration states no global concurrency removes the stored one (the declaration
    // in code is the source of truth; a stale limit would throttle the queue for ever).
    a.kill();
    b.kill();
    await a.waitForExit();
    await b.waitForExit();
    const c = worker(t, {}, 'worker c');
    const line = await c.waitForLog('removed', (l) => l.event === 'queue.limits');
    expect(line).toMatchObject({
      before: { globalConcurrency: 1, rateLimit: null },
      after: { globalConcurrency: null, rateLimit: null },
    });
    expect(await t.bull.getGlobalConcurrency()).toBeNull();
  });

  it('the same queue without a limit does run jobs at once (the test above can fail)', async () => {
    const t = useTestQueue();
    testKeys(t);
    worker(t, { CONCURRENCY: '4' });
    const jobs = await t.bull.addBulk(
      Array.from({ length: 8 }, () => ({ name: 'overlap', data: { ms: 200 } })),
    );
    await allCompleted(
      t,
      jobs.map((j) => j.id as string),
    );
    const seen = await t.redis.lrange(`kqtest:${t.queue}:seen`, 0, -1);
    expect(Math.max(...seen.map((s) => Number(s.split(':')[0])))).toBeGreaterThan(1);
  });

  it('a rate limit of 2 per 1000 ms declared with defineQueue holds across two workers', async () => {
    const t = useTestQueue();
    const env = { CONCURRENCY: '4', FIXTURE_RATE_MAX: '2', FIXTURE_RATE_MS: '1000' };
    const a = worker(t, env, 'worker a');
    const b = worker(t, env, 'worker b');
    const started = await a.waitForLog('started', (l) => l.event === 'worker.started');
    expect(started).toMatchObject({ rateLimit: { max: 2, durationMs: 1000 } });
    expect(await t.bull.getGlobalRateLimit()).toEqual({ max: 2, duration: 1000 });
    await b.waitForLog('started', (l) => l.event === 'worker.started');
    const n = 8;
    const jobs = await t.bull.addBulk(Array.from({ length: n }, () => ({ name: 'stamp', data: {} })));
    const times = (
      await allCompleted(
        t,
        jobs.map((j) => j.id as string),
      )
    ).sort((x, y) => x - y);
    const t0 = times[0] as number;
    // BullMQ's limiter counts jobs in fixed windows that open with the first job: at most 2 per window,
    // so the first 1000 ms hold at most 2, 8 jobs need 4 windows (3 full ones between the first and the last),
    // and any 1000 ms span overlaps at most two windows.
    // (At most: a loaded machine may fetch the second job of a window only after it closed.)
    expect(times.filter((x) => x < t0 + 1000 - CLOCK_SLACK_MS).length).toBeLessThanOrEqual(2);
    expect((times[n - 1] as number) - t0).toBeGreaterThanOrEqual(3 * 1000 - CLOCK_SLACK_MS);
    for (let i = 0; i + 4 < n; i++)
      expect((times[i + 4] as number) - (times[i] as number)).toBeGreaterThanOrEqual(1000 - CLOCK_SLACK_MS);
  });

  it('ctx.rateLimited(ms) without a queue rate limit: the job waits, no attempt used, then completes', async () => {
    const t = useTestQueue();
    testKeys(t);
    const port = await freePort();
    const w = worker(t, { HEALTH_PORT: String(port) });
    await w.waitForLog('started', (l) => l.event === 'worker.started');
    const job = await t.bull.add('throttled', { delayMs: 600 }, { attempts: 1 });
    const id = job.id as string;
    const line = await w.waitForLog('rate limited', (l) => l.event === 'job.rate-limited');
    expect(line).toMatchObject({ jobId: id, type: 'throttled', delayMs: 600, scope: 'job' });
    const back = await t.bull.getJob(id);
    expect(back?.attemptsMade).toBe(0);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`kq_jobs_rate_limited_total\\{queue="${t.queue}",type="throttled"\\} 1`),
    );
    await waitFor('completed', async () => (await t.bull.getJobState(id)) === 'completed');
    const done = await t.bull.getJob(id);
    // attempts: 1, and yet it ran twice and completed: the rate-limited run used no attempt.
    expect(done?.returnvalue).toMatchObject({ attempt: 1 });
    const limitedAt = Number(await t.redis.get(`kqtest:${t.queue}:429:${id}`));
    expect((done?.processedOn as number) - limitedAt).toBeGreaterThanOrEqual(600 - CLOCK_SLACK_MS);
  });

  it('ctx.rateLimited(ms) on a rate-limited queue: the whole queue waits ms, no attempt used', async () => {
    const t = useTestQueue();
    testKeys(t);
    const w = worker(t, { RATE_LIMIT_MAX: '100', RATE_LIMIT_DURATION_MS: '1000', CONCURRENCY: '2' });
    await w.waitForLog('started', (l) => l.event === 'worker.started');
    const job = await t.bull.add('throttled', { delayMs: 1500 }, { attempts: 1 });
    const id = job.id as string;
    const line = await w.waitForLog('rate limited', (l) => l.event === 'job.rate-limited');
    expect(line).toMatchObject({ jobId: id, delayMs: 1500, scope: 'queue' });
    const other = await t.bull.add('stamp', {});
    await waitFor('both completed', async () => (await t.bull.getJobCounts('completed')).completed === 2, {
      timeoutMs: 15_000,
    });
    const limitedAt = Number(await t.redis.get(`kqtest:${t.queue}:429:${id}`));
    const stamp = await t.bull.getJob(other.id as string);
    // Another job of the queue, added after the 429, waited out the delay too.
    expect((stamp?.processedOn as number) - limitedAt).toBeGreaterThanOrEqual(1500 - CLOCK_SLACK_MS);
    expect((await t.bull.getJob(id))?.returnvalue).toMatchObject({ attempt: 1 });
  });
});

it('a worker started while Redis is down stores its limits when Redis comes back', async () => {
  const port = await freePort();
  const queue = 'limits-late';
  const w = spawnKq(
    ['worker'],
    {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      QUEUE: queue,
      HEALTH_PORT: '0',
      HANDLERS,
      GLOBAL_CONCURRENCY: '2',
    },
    'worker (Redis down at start)',
  );
  let server: Awaited<ReturnType<typeof startRedisServer>> | undefined;
  try {
    await w.waitForLog('not stored', (l) => l.event === 'queue.limits-not-stored');
    server = await startRedisServer({ port });
    const line = await w.waitForLog('stored', (l) => l.event === 'queue.limits', 20_000);
    expect(line).toMatchObject({ after: { globalConcurrency: 2, rateLimit: null } });
    const redis = server.client();
    expect(await redis.hget(`bull:${queue}:meta`, 'concurrency')).toBe('2');
    redis.disconnect();
  } finally {
    w.kill();
    await w.waitForExit();
    await server?.remove();
  }
});

describe('queue limits: bad values refused at start (exit 2)', () => {
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    [
      'a negative flag',
      ['--global-concurrency', '-1'],
      {},
      /--global-concurrency.*"-1".*whole number from 0 to 1000000/,
    ],
    ['a word in the env', [], { RATE_LIMIT_MAX: 'ten' }, /RATE_LIMIT_MAX.*"ten".*whole number from 0/],
    [
      'a window without a limit',
      ['--rate-limit-duration-ms', '500'],
      {},
      /RATE_LIMIT_DURATION_MS.*500.*set RATE_LIMIT_MAX/,
    ],
    [
      'a bad declaration',
      [],
      { FIXTURE_GLOBAL_CONCURRENCY: '0.5' },
      /defineQueue\(.*\): globalConcurrency \(0\.5\) must be a whole number from 1/,
    ],
  ];
  for (const [what, argv, env, message] of cases) {
    it(what, async () => {
      const w = spawnKq(
        ['worker', ...argv],
        { REDIS_URL: 'redis://127.0.0.1:1', QUEUE: 'limits-bad', HEALTH_PORT: '0', HANDLERS, ...env },
        `worker (${what})`,
      );
      expect((await w.waitForExit()).code).toBe(2);
      expect(w.output()).toMatch(message);
    });
  }
});
