/**
 * The numbers operators alert on (docs/observability.md): a real `kq worker`'s wait-time histogram and
 * stalled-job counter, the API's oldest-waiting age, and `promtool check metrics` on both endpoints.
 */
import { Worker } from 'bullmq';
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createWorkerMetrics } from '../../src/metrics/worker-metrics.js';
import { readOldestWaitingAge } from '../../src/queue/oldest-waiting.js';
import { AUTH, testApp } from '../api/app-fixture.js';
import { useTestQueue } from '../helpers/context.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { cleanupRuns, spawnWorker } from '../worker/helpers.js';
import { promtool } from './promtool.js';

const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('observability metrics', () => {
  it('jobStarted: the first start’s wait from timestamp + delay, through cached children; restarts skipped', async () => {
    const m = createWorkerMetrics({ queue: 'q', count: () => 0 });
    const refRegistry = new Registry();
    const ref = new Histogram({
      name: 'kq_job_wait_seconds',
      help: 'x',
      labelNames: ['queue', 'type'],
      buckets: [0.005, 0.05, 0.25, 1, 5, 30, 120, 600, 3600, 14400],
      registers: [refRegistry],
    });
    const jobs = [
      { name: 'a', timestamp: 1_000, delay: 0, processedOn: 1_250, attemptsStarted: 1 },
      { name: 'a', timestamp: 1_000, delay: 60_000, processedOn: 61_500, attemptsStarted: 1 },
      { name: 'b', timestamp: 5_000, delay: 0, processedOn: 4_990, attemptsStarted: 1 }, // clocks apart: 0
      { name: 'b', timestamp: 1_000, delay: 0, processedOn: 900_000, attemptsStarted: 2 }, // a restart
      { name: 'a', timestamp: 1_000, delay: 0, processedOn: 8_000, attemptsStarted: 0 },
    ];
    for (const j of jobs) m.jobStarted(j);
    ref.observe({ queue: 'q', type: 'a' }, 0.25);
    ref.observe({ queue: 'q', type: 'a' }, 0.5);
    ref.observe({ queue: 'q', type: 'b' }, 0);
    ref.observe({ queue: 'q', type: 'a' }, 7);
    const lines = async (r: Registry) =>
      (await r.metrics()).split('\n').filter((l) => l.startsWith('kq_job_wait_seconds'));
    expect(await lines(m.registry)).toEqual(await lines(refRegistry));
    expect(await lines(m.registry)).toContain('kq_job_wait_seconds_count{queue="q",type="a"} 3');
  });

  it('a worker observes the first start’s wait, counts a recovered stalled job by type, and passes promtool', async () => {
    const t = useTestQueue();
    // A job taken by a worker that then vanished: active, with its lock gone.
    const stalled = await t.bull.add('work', { ms: 0 });
    const connection = t.redis.duplicate();
    const thief = new Worker(t.queue, null, { connection, prefix: t.prefix, autorun: false });
    try {
      const taken = await thief.getNextJob('thief-token');
      expect(taken?.id).toBe(stalled.id);
    } finally {
      await thief.close();
      connection.disconnect();
    }
    await t.redis.del(`${t.prefix}:${t.queue}:${stalled.id}:lock`);
    // Enqueued 120 s ago (backdated): its wait lands between the 30 s and 600 s buckets.
    await t.bull.add('flaky', { succeedOn: 1 }, { timestamp: Date.now() - 120_000 });

    const port = await freePort();
    const w = spawnWorker(t, { HEALTH_PORT: String(port), LOCK_DURATION_MS: '1000' });
    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const q = `queue="${t.queue}"`;
    const text = await waitFor(
      'the stalled job counted and both jobs completed',
      async () => {
        const s = await scrape();
        return sample(s, `kq_jobs_stalled_total{${q},type="work"}`) === 1 &&
          sample(s, `kq_jobs_completed_total{${q},type="work"}`) === 1 &&
          sample(s, `kq_jobs_completed_total{${q},type="flaky"}`) === 1
          ? s
          : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(sample(text, `kq_job_wait_seconds_count{${q},type="flaky"}`)).toBe(1);
    expect(sample(text, `kq_job_wait_seconds_bucket{le="30",${q},type="flaky"}`)).toBe(0);
    expect(sample(text, `kq_job_wait_seconds_bucket{le="600",${q},type="flaky"}`)).toBe(1);
    const waited = sample(text, `kq_job_wait_seconds_sum{${q},type="flaky"}`) as number;
    expect(waited).toBeGreaterThanOrEqual(120);
    expect(waited).toBeLessThan(300);
    // The stalled job's restart is not a first start: its wait (the stall) is not observed.
    expect(sample(text, `kq_job_wait_seconds_count{${q},type="work"}`)).toBeUndefined();
    const check = promtool(['check', 'metrics'], text);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
    w.kill('SIGTERM');
    expect((await w.waitForExit()).code).toBe(0);
    await cleanupRuns(t.redis, t.queue);
  });

  it('the oldest waiting job’s age: the wait list’s tail, from enqueue or due time; 0 when empty', async () => {
    const t = useTestQueue();
    const now = Date.now();
    expect(await readOldestWaitingAge(t.redis, t.prefix, t.queue, now)).toBe(0);
    const old = await t.bull.add('work', {}, { timestamp: now - 300_000 });
    await t.bull.add('work', {}, { timestamp: now - 10_000 });
    expect(await readOldestWaitingAge(t.redis, t.prefix, t.queue, now)).toBe(300);
    // A job that was delayed counts from when it was due.
    await t.redis.hset(`${t.prefix}:${t.queue}:${old.id}`, 'delay', '100000');
    expect(await readOldestWaitingAge(t.redis, t.prefix, t.queue, now)).toBe(200);

    const app = await testApp(t);
    // A scrape while Redis is not (yet) answering within its deadline leaves the series out: poll.
    const series = `kq_queue_oldest_waiting_age_seconds{queue="${t.queue}"}`;
    const res = await waitFor('the oldest waiting age on /metrics', async () => {
      const r = await app.inject({ method: 'GET', url: '/metrics', headers: AUTH });
      return sample(r.body, series) === undefined ? undefined : r;
    });
    const age = sample(res.body, series) as number;
    expect(age).toBeGreaterThanOrEqual(200);
    expect(age).toBeLessThan(260);
    const check = promtool(['check', 'metrics'], res.body);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
    await app.close();
  });

  it('the oldest waiting age includes prioritized jobs: the oldest of every priority level, not only the first', async () => {
    const t = useTestQueue();
    const now = Date.now();
    await t.bull.add('work', {}, { timestamp: now - 10_000 });
    await t.bull.add('work', {}, { priority: 1, timestamp: now - 20_000 });
    expect(await readOldestWaitingAge(t.redis, t.prefix, t.queue, now)).toBe(20);
    // A low-priority job starved behind higher ones: not the head of the sorted set, yet the oldest.
    const starved = await t.bull.add('work', {}, { priority: 500_000, timestamp: now - 500_000 });
    await t.bull.add('work', {}, { priority: 500_000, timestamp: now - 30_000 });
    await t.bull.add('work', {}, { priority: 7, timestamp: now - 40_000 });
    await t.bull.add('work', {}, { priority: 1, timestamp: now - 1_000 });
    expect(await t.bull.getPrioritizedCount()).toBe(5);
    expect(await readOldestWaitingAge(t.redis, t.prefix, t.queue, now)).toBe(500);
    // A delayed job moved to prioritized counts from when it was due.
    await t.redis.hset(`${t.prefix}:${t.queue}:${starved.id}`, 'delay', '460000');
    expect(await readOldestWaitingAge(t.redis, t.prefix, t.queue, now)).toBe(40);
    // Only prioritized jobs, none in the wait list.
    await t.redis.del(`${t.prefix}:${t.queue}:wait`);
    expect(await readOldestWaitingAge(t.redis, t.prefix, t.queue, now)).toBe(40);
    await t.redis.del(`${t.prefix}:${t.queue}:prioritized`);
    expect(await readOldestWaitingAge(t.redis, t.prefix, t.queue, now)).toBe(0);
  });
});
