import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { freePort, startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { cleanupRuns, spawnWorker } from './helpers.js';

describe('worker: Redis outages, health, metrics and logs', () => {
  it('a pool worker survives a Redis restart and resumes without being restarted', async () => {
    const t = useTestQueue();
    const server = await startRedisServer({ persistent: true });
    const client = server.client();
    client.on('error', () => undefined);
    try {
      const { Queue } = await import('bullmq');
      const q = new Queue(t.queue, { connection: client });
      q.on('error', () => undefined);
      const w = spawnWorker(t, { REDIS_URL: server.url, REDIS_DOWN_TIMEOUT_MS: '1000' });
      const first = await q.add('work', { ms: 0 });
      await waitFor('first job done', async () => (await q.getJobState(first.id as string)) === 'completed');
      await server.stop();
      await waitFor('worker notices the outage', () => w.logs.some((l) => l.event === 'redis.unavailable'), {
        timeoutMs: 10_000,
      });
      await new Promise((r) => setTimeout(r, 2000)); // an outage longer than one reconnect round
      await server.start();
      const backAt = Date.now();
      const second = await q.add('work', { ms: 0 });
      await waitFor(
        'job after the outage done',
        async () => (await q.getJobState(second.id as string)) === 'completed',
        {
          timeoutMs: 15_000,
        },
      );
      expect(Date.now() - backAt).toBeLessThan(10_000);
      expect(w.proc.exitCode).toBeNull();
      await q.close();
      w.kill();
      expect((await w.waitForExit()).code).toBe(0);
    } finally {
      client.disconnect();
      await server.stop();
    }
  });

  it('serves /healthz, /readyz and Prometheus /metrics; readyz fails while shutting down', async () => {
    const t = useTestQueue();
    const port = await freePort();
    const w = spawnWorker(t, { HEALTH_PORT: String(port), SHUTDOWN_TIMEOUT_MS: '10000' });
    const base = `http://127.0.0.1:${port}`;
    await waitFor('health server', async () => (await fetch(`${base}/healthz`)).status === 200);
    // The health server answers from the start (a busy port is a config error before anything else);
    // ready once the worker has started.
    await w.waitForLog('started', (l) => l.event === 'worker.started');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const ok = await t.bull.add('work', { ms: 0 });
    const bad = await t.bull.add('boom', {}, { attempts: 2, backoff: { type: 'fixed', delay: 10 } });
    await waitFor('jobs settled', async () => (await t.bull.getJobState(bad.id as string)) === 'failed');
    await waitFor('ok settled', async () => (await t.bull.getJobState(ok.id as string)) === 'completed');
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain(`kq_jobs_completed_total{queue="${t.queue}",type="work"} 1`);
    expect(text).toContain(`kq_jobs_failed_total{queue="${t.queue}",type="boom"} 1`);
    expect(text).toContain(`kq_jobs_retried_total{queue="${t.queue}",type="boom"} 1`);
    expect(text).toMatch(/kq_job_duration_seconds_bucket\{.*type="work".*\}/);
    expect(text).toContain(`kq_jobs_running{queue="${t.queue}"} 0`);

    const long = await t.bull.add('work', { ms: 1500 });
    await waitFor('long job running', async () => (await t.bull.getJobState(long.id as string)) === 'active');
    w.kill('SIGTERM');
    await waitFor(
      'readyz says not ready while shutting down',
      async () => (await fetch(`${base}/readyz`)).status === 503,
    );
    expect((await w.waitForExit()).code).toBe(0);
    await cleanupRuns(t.redis, t.queue);
  });

  it('logs one JSON line per event with job id, type, queue, worker and duration', async () => {
    const t = useTestQueue();
    const w = spawnWorker(t, { EXIT: '1' });
    await t.bull.add('work', { ms: 5 });
    await w.waitForExit();
    const completed = w.logs.find((l) => l.event === 'job.completed');
    expect(completed).toMatchObject({ type: 'work', queue: t.queue, level: 'info' });
    expect(typeof completed?.jobId).toBe('string');
    expect(typeof completed?.worker).toBe('string');
    expect(typeof completed?.durationMs).toBe('number');
    // One line per short job, at its end, so no separate `job.started` line is written. `job.completed`
    // carries no `startedAt`: the job went active at the line's time less `durationMs`, or a little before
    // (the line follows Redis's reply to the move to completed).
    expect(completed).not.toHaveProperty('startedAt');
    const processedOn = (await t.bull.getJob(String(completed?.jobId)))?.processedOn ?? Number.NaN;
    const derivedStart = Date.parse(String(completed?.time)) - Number(completed?.durationMs);
    expect(derivedStart).toBeGreaterThanOrEqual(processedOn);
    for (const event of ['worker.started', 'job.completed', 'worker.stopping', 'worker.stopped']) {
      expect(w.logs.map((l) => l.event)).toContain(event);
    }
    expect(w.logs.map((l) => l.event)).not.toContain('job.started');
    await cleanupRuns(t.redis, t.queue);
  });

  it('with LOG_LEVEL=debug logs every start at once, at debug level', async () => {
    const t = useTestQueue();
    const w = spawnWorker(t, { EXIT: '1', LOG_LEVEL: 'debug' });
    const job = await t.bull.add('work', { ms: 5 });
    await w.waitForExit();
    const starts = w.logs.filter((l) => l.event === 'job.started');
    expect(starts).toHaveLength(1);
    expect(starts[0]).toMatchObject({ jobId: job.id, level: 'debug', attempt: 1 });
    await cleanupRuns(t.redis, t.queue);
  });

  it('logs the start of a job still running after 1 s while it runs, with its real start time', async () => {
    const t = useTestQueue();
    const w = spawnWorker(t, { EXIT: '1' });
    const job = await t.bull.add('work', { ms: 4000 });
    const started = await w.waitForLog('job.started', (l) => l.event === 'job.started', 10_000);
    // Logged while the job still runs, 1 s after its real start (a timer: late on a loaded machine, so the
    // upper bound is the job's own 4 s with room for the state read below).
    expect(await t.bull.getJobState(job.id as string)).toBe('active');
    const processedOn = (await t.bull.getJob(job.id as string))?.processedOn ?? 0;
    expect(started).toMatchObject({ jobId: job.id, type: 'work', attempt: 1, level: 'info' });
    expect(Date.parse(String(started.startedAt))).toBe(processedOn);
    const lag = Date.parse(String(started.time)) - processedOn;
    expect(lag).toBeGreaterThanOrEqual(1000);
    expect(lag).toBeLessThan(3000);
    expect((await w.waitForExit()).code).toBe(0);
    const completed = w.logs.find((l) => l.event === 'job.completed');
    expect(Date.parse(String(completed?.time)) - Number(completed?.durationMs)).toBeGreaterThanOrEqual(
      processedOn,
    );
    expect(w.logs.filter((l) => l.event === 'job.started')).toHaveLength(1);
    await cleanupRuns(t.redis, t.queue);
  });

  it('the built-in sleep job reproduces the seed’s log line', async () => {
    const t = useTestQueue();
    await t.bull.add('sleep', { seconds: 0.05 });
    const w = spawnWorker(t, { EXIT: '1', HANDLERS: '' });
    expect((await w.waitForExit()).code).toBe(0);
    expect(w.logs.some((l) => /^Processed job \S+ by worker \S+$/.test(l.msg ?? ''))).toBe(true);
  });
});
