/**
 * `/readyz` means "this pod is up and doing its work": a `MAX_JOBS=1` worker running its one job stays
 * ready (a ScaledJob's `pendingPodConditions: [Ready]` counts a Job whose pod is not Ready as pending, so a
 * worker that turned 503 when its job started made KEDA under-scale); a signal makes it 503 at once.
 */
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { cleanupRuns, runs, spawnWorker } from './helpers.js';

const readyz = async (base: string) => (await fetch(`${base}/readyz`)).status;

describe('worker readiness', () => {
  it('a MAX_JOBS=1 worker stays ready while its one job runs, then exits 0', async () => {
    const t = useTestQueue();
    const port = await freePort();
    // The job is there before the worker: an exit-mode worker that found the queue empty would leave.
    const job = await t.bull.add('work', { ms: 2500 });
    const w = spawnWorker(t, { HEALTH_PORT: String(port), MAX_JOBS: '1', EXIT: '1' });
    const base = `http://127.0.0.1:${port}`;
    await w.waitForLog('started', (l) => l.event === 'worker.started');
    await waitFor('job started', async () => (await runs(t.redis, t.queue, 'started')).length === 1);
    // Sample /readyz for as long as the job runs; only samples taken wholly inside the run count.
    const during: number[] = [];
    for (;;) {
      const before = await t.bull.getJobState(job.id as string);
      // The worker exits as soon as its job settles: a refused connection then is no sample.
      const status = await readyz(base).catch(() => 0);
      const after = await t.bull.getJobState(job.id as string);
      if (before === 'active' && after === 'active') during.push(status);
      if (after !== 'active') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(during.length).toBeGreaterThanOrEqual(3);
    expect(during.every((s) => s === 200)).toBe(true);
    expect(await t.bull.getJobState(job.id as string)).toBe('completed');
    expect((await w.waitForExit(15_000)).code).toBe(0);
    await cleanupRuns(t.redis, t.queue);
  });

  it('a MAX_JOBS=1 worker told to stop mid-job turns 503 at once', async () => {
    const t = useTestQueue();
    const port = await freePort();
    const job = await t.bull.add('work', { ms: 60_000 });
    const w = spawnWorker(t, {
      HEALTH_PORT: String(port),
      MAX_JOBS: '1',
      EXIT: '1',
      SHUTDOWN_TIMEOUT_MS: '20000',
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor('job started', async () => (await runs(t.redis, t.queue, 'started')).length === 1);
    expect(await readyz(base)).toBe(200);
    w.kill('SIGTERM');
    await w.waitForLog('shutting down', (l) => l.event === 'worker.shutting-down');
    // The job still runs (20 s to finish): the process and its health server are up, not ready.
    expect(await t.bull.getJobState(job.id as string)).toBe('active');
    expect(await readyz(base)).toBe(503);
    w.kill('SIGINT');
    expect((await w.waitForExit(10_000)).code).toBe(130);
    expect(await t.bull.getJobState(job.id as string)).toBe('waiting');
    await cleanupRuns(t.redis, t.queue);
  });
});
